/*
 * result: a libFuzzer target for what mpecho-bench merge reads from outside:
 * JSON text, through the JSON reader and the result's checks. Whatever the
 * input, result_read_json() answers 0 or -1 with one line; a result it takes
 * is written back and read again to the same figures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result r, again;
	char why[512] = "", *text = NULL;
	size_t len = 0;
	FILE *f;

	if (result_read_json(&r, (const char *)data, size, why, sizeof(why)) < 0) {
		if (why[0] == '\0' || strchr(why, '\n') != NULL)
			abort();
		return 0;
	}
	if ((f = open_memstream(&text, &len)) == NULL)
		return 0;
	result_write_json(f, &r);
	fclose(f);
	if (result_read_json(&again, text, len, why, sizeof(why)) < 0 || again.mode != r.mode ||
	    again.ops != r.ops || again.lat.count != r.lat.count || again.lat.sum != r.lat.sum ||
	    memcmp(again.lat.buckets, r.lat.buckets, sizeof(r.lat.buckets)) != 0 ||
	    strcmp(again.host, r.host) != 0 || memcmp(&again.err, &r.err, sizeof(r.err)) != 0)
		abort();
	free(text);
	return 0;
}
