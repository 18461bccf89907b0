/*
 * number: a libFuzzer target for range-checked numbers: an accepted value is
 * within its bounds and is what strtol reads; a refused one leaves the output.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[64];
	long v = 12345;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (number_parse(text, -1000, 100000, &v) == 0) {
		if (v < -1000 || v > 100000 || v != strtol(text, NULL, 10))
			abort();
	} else if (v != 12345 || (errno != EINVAL && errno != ERANGE)) {
		abort();
	}
	return 0;
}
