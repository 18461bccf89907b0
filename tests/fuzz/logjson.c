/*
 * logjson: a libFuzzer target for the key=value to JSON log converter. Any
 * input, however hostile, gives an object that starts with '{', ends with '}'
 * and holds no raw control byte or byte past ASCII: a line it writes can
 * never be split or forged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[2048], out[4096];
	size_t n, i;

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	n = log_kv_json(in, out, sizeof(out));
	if (n == 0)
		return 0;
	if (n >= sizeof(out) || out[0] != '{' || out[n - 1] != '}' || out[n] != '\0')
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			abort();
	return 0;
}
