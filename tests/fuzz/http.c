/*
 * http: a libFuzzer target for the metrics endpoint's request parser. Besides
 * the sanitizers' checks: a known status, a known page, a since= in range;
 * the Accept scanner on the raw bytes too.
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
	struct http_accept a = { false, { 0, 0 }, { 0, 0 } };
	int s = http_parse((const char *)data, size, &r), i, ok = 0;

	for (i = 0; i < (int)(sizeof(known) / sizeof(known[0])); i++)
		ok |= s == known[i];
	if (!ok || (s == 431 && size < HTTP_MAX))
		abort();
	if (s == 200 && (r.page < HTTP_PAGE_SUMMARY || r.page >= HTTP_PAGES))
		abort();
	if (s == 200 && (r.since < -1 || r.since >= 1000000000000000000LL))
		abort();
	http_accept_scan((const char *)data, size, &a);
	if (a.q[0] < 0 || a.q[0] > 1000 || a.q[1] < 0 || a.q[1] > 1000 || (http_accept_html(&a) && a.q[0] == 0))
		abort();
	return 0;
}
