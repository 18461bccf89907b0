/* http: parsing a request line and its headers, strictly. */
#include "http.h"

#include <string.h>
#include <strings.h>

/* The end of the header block ("\r\n\r\n"): its offset past the end, or 0. */
static size_t
http_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/*
 * Every header line is "name: value" with a token name; the values of Accept
 * headers are scanned into *a. false if a line is malformed.
 */
static bool
http_headers(const char *p, const char *end, struct http_accept *a)
{
	const char *eol, *colon;

	while (p < end && !(p[0] == '\r' && p[1] == '\n')) {
		if ((eol = memchr(p, '\r', (size_t)(end - p))) == NULL || eol[1] != '\n')
			return false;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || colon == p || memchr(p, ' ', (size_t)(colon - p)) != NULL)
			return false;
		if (colon - p == 6 && strncasecmp(p, "accept", 6) == 0)
			http_accept_scan(colon + 1, (size_t)(eol - colon - 1), a);
		p = eol + 2;
	}
	return true;
}

/* The page a path names (its query string cut off): 0, or -1 for none of ours. */
static int
http_page_of(const char *path, size_t len, enum http_page *page)
{
	static const char *const paths[] = {
		[HTTP_PAGE_SUMMARY] = "/", [HTTP_PAGE_METRICS] = "/metrics",
		[HTTP_PAGE_HEALTHZ] = "/healthz", [HTTP_PAGE_READYZ] = "/readyz",
		[HTTP_PAGE_STATUS] = "/status.json",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strlen(paths[i]) == len && memcmp(path, paths[i], len) == 0) {
			*page = (enum http_page)i;
			return 0;
		}
	return -1;
}

/* METHOD SP TARGET SP HTTP/1.x: the status it alone decides, or 200; *format from the query. */
static int
http_request_line(const char *p, size_t n, struct http_request *r, int *format)
{
	const char *sp1 = memchr(p, ' ', n), *sp2, *target, *q;
	size_t tlen;

	if (sp1 == NULL || (sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p))) == NULL)
		return 400;
	if (n - (size_t)(sp2 + 1 - p) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return 400;
	if (sp2[8] != '0' && sp2[8] != '1')
		return 505;
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	if (tlen == 0 || target[0] != '/' || memchr(target, ' ', tlen) != NULL)
		return 400;
	if ((q = memchr(target, '?', tlen)) != NULL) {
		if (http_query(q + 1, tlen - (size_t)(q + 1 - target), r, format) < 0)
			return 400;
		tlen = (size_t)(q - target);
	}
	if (!((sp1 - p == 3 && memcmp(p, "GET", 3) == 0) || (sp1 - p == 4 && memcmp(p, "HEAD", 4) == 0)))
		return 405;
	r->head = p[0] == 'H';
	return http_page_of(target, tlen, &r->page) < 0 ? 404 : 200;
}

int
http_parse(const char *buf, size_t len, struct http_request *r)
{
	size_t end = http_end(buf, len < HTTP_MAX ? len : HTTP_MAX);
	struct http_accept accept = { false, { 0, 0 }, { 0, 0 } };
	const char *eol;
	int status, format = -1;

	memset(r, 0, sizeof(*r));
	r->since = -1;
	if (end == 0)
		return len >= HTTP_MAX ? 431 : 0;
	eol = memchr(buf, '\r', end);
	if (eol == NULL || eol[1] != '\n' || memchr(buf, '\n', (size_t)(eol - buf)) != NULL)
		return 400;
	if (!http_headers(eol + 2, buf + end, &accept))
		return 400;
	status = http_request_line(buf, (size_t)(eol - buf), r, &format);
	r->html = format >= 0 ? format == 1 : http_accept_html(&accept);
	return status;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}
