/*
 * check: what every connection sends and expects back. Each sends a slice of
 * one shared pseudo-random pattern, from its own offset, so checking a
 * received chunk is one memcmp against the pattern at the connection's
 * receive position: nothing is stored per byte. A chargen source is checked
 * against RFC 864's stream the same way.
 */
#include "bench.h"

#include <string.h>

#include "chargen.h"

#define PATTERN_SIZE (1u << 20)

static unsigned char pattern[PATTERN_SIZE + CHUNK];
static char chargen[CHARGEN_PERIOD + CHUNK];	/* source mode: RFC 864's stream, a slice per read */

/* xorshift64*: the same pattern on every run. The tail repeats the head so any slice is contiguous. */
void
check_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < PATTERN_SIZE; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		pattern[i] = (unsigned char)((x * 2685821657736338717ull) >> 56);
	}
	memcpy(pattern + PATTERN_SIZE, pattern, CHUNK);
	chargen_fill(chargen, sizeof(chargen), 0);
}

const unsigned char *
check_pattern(uint64_t pos)
{
	return pattern + pos % PATTERN_SIZE;
}

uint64_t
check_echo(const unsigned char *buf, uint64_t pos, size_t n)
{
	const unsigned char *want = check_pattern(pos);
	uint64_t bad = 0;
	size_t i;

	if (memcmp(buf, want, n) != 0)
		for (i = 0; i < n; i++)
			bad += buf[i] != want[i];
	return bad;
}

uint64_t
check_chargen(const unsigned char *buf, uint64_t pos, size_t n)
{
	uint64_t bad = 0;
	size_t i;

	if (memcmp(buf, chargen + pos % CHARGEN_PERIOD, n) != 0)
		for (i = 0; i < n; i++)
			bad += buf[i] != (unsigned char)chargen[(pos + i) % CHARGEN_PERIOD];
	return bad;
}
