/*
 * proxy: a libFuzzer target for the PROXY protocol parser. Besides the
 * sanitizers' checks, it asserts what the parser promises: an answer of -1,
 * 0 or a length that fits its version, a reason with every refusal, and the
 * same answer for every longer input once the header is decided.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h, again;
	const char *why;
	long n = proxy_parse(data, size, &h, &why), m;

	if (n < -1 || (n == -1 && why == NULL))
		abort();
	if (n > 0 && h.version == 1 && (n > PROXY_V1_MAX || (size_t)n > size))
		abort();
	if (n > 0 && h.version == 2 && (n < PROXY_V2_FIXED || n > PROXY_V2_FIXED + 65535))
		abort();
	if (n > 0 && !h.local && h.src.ss_family != h.dst.ss_family)
		abort();
	if (n != 0 && size > 0) {
		/* Decided on these bytes: one byte fewer may ask for more, never decide otherwise. */
		m = proxy_parse(data, size - 1, &again, &why);
		if (m != 0 && m != n)
			abort();
	}
	return 0;
}
