/*
 * http: a libFuzzer target for the metrics endpoint's request parser. Besides
 * the sanitizers' checks: a known status, and a complete request stays
 * decided when more bytes follow it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int known[] = { 0, 200, 400, 404, 405, 431, 505 };
	struct http_request r;
	int s = http_parse((const char *)data, size, &r), i, ok = 0;

	for (i = 0; i < (int)(sizeof(known) / sizeof(known[0])); i++)
		ok |= s == known[i];
	if (!ok || (s == 431 && size < HTTP_MAX))
		abort();
	if (s == 200 && r.page != HTTP_PAGE_SUMMARY && r.page != HTTP_PAGE_METRICS &&
	    r.page != HTTP_PAGE_HEALTHZ && r.page != HTTP_PAGE_READYZ)
		abort();
	return 0;
}
