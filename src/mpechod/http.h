/*
 * http: the request side of the tiny HTTP/1.x responder behind --metrics.
 * A pure, strict parser over the bytes received so far: the request line,
 * then header lines up to the empty line, HTTP_MAX bytes at most.
 */
#ifndef MPECHO_HTTP_H
#define MPECHO_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX 2048		/* a request, headers included, may not be longer */

/* /, /metrics, /healthz (the supervisor's loop turns), /readyz (it takes new clients) */
enum http_page { HTTP_PAGE_SUMMARY, HTTP_PAGE_METRICS, HTTP_PAGE_HEALTHZ, HTTP_PAGE_READYZ };

struct http_request {
	bool head;		/* HEAD: the headers of the answer only */
	enum http_page page;
};

/*
 * 0 if the request is not complete yet; else the status to answer: 200 (and
 * *r is filled), 400 malformed, 404 unknown path, 405 a method other than GET
 * or HEAD, 431 longer than HTTP_MAX, 505 not HTTP/1.0 or 1.1.
 */
int http_parse(const char *buf, size_t len, struct http_request *r);

/* "OK", "Not Found", ...: the reason phrase of a status. */
const char *http_reason(int status);

#endif
