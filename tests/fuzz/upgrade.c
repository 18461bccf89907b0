/*
 * upgrade: a libFuzzer target for the upgrade conversation's lines
 * (upgrade_hello.c). Besides the sanitizers' checks: a known kind, a holder
 * only with "busy", at most UPGRADE_EXTRAS endpoint names of lowercase letters,
 * and an offer that, written again from what was read, reads the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upgrade_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Names of 1 to UPGRADE_NAME_MAX - 1 lowercase letters. */
static int
fuzz_names_ok(const struct upgrade_hello *h)
{
	size_t i, j, n;

	for (i = 0; i < h->nextra; i++) {
		n = strlen(h->extra[i]);
		if (n == 0 || n >= UPGRADE_NAME_MAX)
			return 0;
		for (j = 0; j < n; j++)
			if (h->extra[i][j] < 'a' || h->extra[i][j] > 'z')
				return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upgrade_hello h, again;
	const char *names[UPGRADE_EXTRAS];
	char line[UPGRADE_HELLO_MAX + 1];
	size_t i;
	int n;

	upgrade_hello_parse((const char *)data, size, &h);
	if (h.kind > UPGRADE_BAD || (h.kind == UPGRADE_BUSY) != (h.holder > 0) ||
	    h.nextra > UPGRADE_EXTRAS || (h.kind != UPGRADE_OFFER && h.nextra != 0) || !fuzz_names_ok(&h))
		abort();
	if (h.kind != UPGRADE_OFFER)
		return 0;
	for (i = 0; i < h.nextra; i++)
		names[i] = h.extra[i];
	if ((n = upgrade_hello_offer(line, sizeof(line), names, h.nextra)) < 0)
		abort();
	upgrade_hello_parse(line, (size_t)n, &again);
	if (again.kind != UPGRADE_OFFER || again.nextra != h.nextra ||
	    memcmp(again.extra, h.extra, sizeof(h.extra)) != 0)
		abort();
	return 0;
}
