/*
 * procstat: a libFuzzer target for /proc/PID/stat's text: refused with
 * EINVAL, or read with utime as the number after the last ')' and 11 fields.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[1024];
	struct procstat_ticks t;
	const char *p;
	int i;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (procstat_parse_stat(text, &t) < 0) {
		if (errno != EINVAL)
			abort();
		return 0;
	}
	for (p = strrchr(text, ')'), i = 0; i < 12; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || strtoull(p + 1, NULL, 10) != t.utime)
		abort();
	return 0;
}
