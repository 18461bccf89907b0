/*
 * upper: a libFuzzer target for the upper-casing line machine. The first byte
 * picks a split size; fed in pieces of that size, the machine must give the
 * same bytes and the same quit as fed whole, and never more than it may write.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service_upper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
upper_all(const char *in, size_t n, size_t chunk, char *out, bool *quit)
{
	struct upper_state st;
	size_t off = 0, o = 0, take;

	upper_init(&st);
	*quit = false;
	while (off < n && !*quit) {
		take = n - off < chunk ? n - off : chunk;
		o += upper_feed(&st, in + off, take, out + o, quit);
		off += take;
	}
	if (!*quit)
		o += upper_flush(&st, out + o);
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char whole[8192 + UPPER_HOLD], split[8192 + UPPER_HOLD];
	bool q1, q2;
	size_t n1, n2, chunk;

	if (size < 1 || size > 8192)
		return 0;
	chunk = (size_t)data[0] % 16 + 1;
	n1 = upper_all((const char *)data + 1, size - 1, size, whole, &q1);
	n2 = upper_all((const char *)data + 1, size - 1, chunk, split, &q2);
	if (n1 != n2 || q1 != q2 || memcmp(whole, split, n1) != 0 || n1 > size - 1)
		abort();
	return 0;
}
