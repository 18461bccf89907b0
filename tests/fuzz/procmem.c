/*
 * procmem: a libFuzzer target for the /proc text hold's memory figures come
 * from: a "Key: N kB" line found is a number that was in the text, and a
 * children list read is of pids from 1 to 4194304; else EINVAL or E2BIG.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[1024];
	uint64_t kib = 0;
	long pids[8];
	int i, n;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (procmem_kib(text, "Pss", &kib) == 0) {
		if (strstr(text, "Pss:") == NULL || strstr(text, " kB") == NULL || kib > (UINT64_MAX >> 11))
			abort();
	} else if (errno != EINVAL) {
		abort();
	}
	if ((n = procmem_pids(text, pids, 8)) < 0) {
		if (errno != EINVAL && errno != E2BIG)
			abort();
		return 0;
	}
	for (i = 0; i < n; i++)
		if (pids[i] < 1 || pids[i] > 4194304)
			abort();
	return 0;
}
