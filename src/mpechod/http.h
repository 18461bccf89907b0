/*
 * http: the request side of the tiny HTTP/1.x responder behind --metrics.
 * A pure, strict parser over the bytes received so far: the request line,
 * then header lines up to the empty line, HTTP_MAX bytes at most.
 */
#ifndef MPECHO_HTTP_H
#define MPECHO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX 2048		/* a request, headers included, may not be longer */

/*
 * /, /metrics, /healthz (the supervisor's loop turns), /readyz (it takes new
 * clients), /status.json (the live status page's figures)
 */
enum http_page { HTTP_PAGE_SUMMARY, HTTP_PAGE_METRICS, HTTP_PAGE_HEALTHZ, HTTP_PAGE_READYZ,
	HTTP_PAGE_STATUS, HTTP_PAGES };

struct http_request {
	bool head;		/* HEAD: the headers of the answer only */
	enum http_page page;
	bool html;		/* the client prefers text/html to text/plain (Accept, or ?format=) */
	int64_t since;		/* ?since=N: history samples after the Nth only; -1: all */
};

/*
 * What the Accept headers say of the two types a page comes in: for each, the
 * quality (0-1000) of the most specific range that matches it, and how
 * specific that range is (0 none, 1 star/star, 2 text/star, 3 the type itself).
 */
struct http_accept {
	bool seen;		/* an Accept header came: else every type is acceptable */
	int q[2], spec[2];	/* [0] text/html, [1] text/plain */
};

/*
 * 0 if the request is not complete yet; else the status to answer: 200 (and
 * *r is filled), 400 malformed, 404 unknown path, 405 a method other than GET
 * or HEAD, 431 longer than HTTP_MAX, 505 not HTTP/1.0 or 1.1.
 */
int http_parse(const char *buf, size_t len, struct http_request *r);

/*
 * http_field.c: one Accept header's value, added to what a request's earlier
 * ones said (ranges that do not parse are passed over); whether they prefer
 * text/html to text/plain, strictly (a tie, star/star, or no header: plain).
 */
void http_accept_scan(const char *v, size_t n, struct http_accept *a);
bool http_accept_html(const struct http_accept *a);

/*
 * A query string (after the '?'): "&"-separated pairs; since=N (1 to 18
 * digits, once) and format=html|text are ours, other keys are passed over.
 * Sets r->since, and *format to 1 (html), 0 (text) or leaves it. 0, or -1 if
 * one of ours is malformed (the request is then 400).
 */
int http_query(const char *q, size_t n, struct http_request *r, int *format);

/* "OK", "Not Found", ...: the reason phrase of a status. */
const char *http_reason(int status);

#endif
