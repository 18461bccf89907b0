/* http_field: the parts of a request a page depends on: the Accept header's choice, the query string. */
#include "http.h"

#include <string.h>
#include <strings.h>

/* Whether c is optional white space (RFC 9110's OWS). */
static bool
http_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* p..end with the white space around it cut off. */
static void
http_trim(const char **p, const char **end)
{
	while (*p < *end && http_ows(**p))
		(*p)++;
	while (*end > *p && http_ows((*end)[-1]))
		(*end)--;
}

/* A qvalue ("0", "0.5", "1.000"): 0-1000, or -1 if malformed. */
static int
http_qvalue(const char *p, const char *end)
{
	int q, scale = 100;

	if (p == end || (*p != '0' && *p != '1'))
		return -1;
	q = (*p++ - '0') * 1000;
	if (p == end)
		return q;
	if (*p++ != '.' || end - p > 3)
		return -1;
	for (; p < end; p++, scale /= 10) {
		if (*p < '0' || *p > '9')
			return -1;
		q += (*p - '0') * scale;
	}
	return q <= 1000 ? q : -1;
}

/*
 * The quality of one media range's parameters: the q= among them (other
 * parameters are passed over), 1000 without one, -1 if malformed.
 */
static int
http_range_q(const char *p, const char *end)
{
	const char *semi, *pend;
	int q = 1000;

	while (p < end) {
		semi = memchr(p, ';', (size_t)(end - p));
		pend = semi != NULL ? semi : end;
		http_trim(&p, &pend);
		if (pend - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=' &&
		    (q = http_qvalue(p + 2, pend)) < 0)
			return -1;
		p = semi != NULL ? semi + 1 : end;
	}
	return q;
}

/* How specifically "type/subtype" (p..end) names text/NAME: 3 exactly, 2 text/star, 1 star/star, 0 not. */
static int
http_range_spec(const char *p, const char *end, const char *name)
{
	size_t n = (size_t)(end - p), len = strlen(name);

	if (n == 3 && memcmp(p, "*/*", 3) == 0)
		return 1;
	if (n < 6 || strncasecmp(p, "text/", 5) != 0)
		return 0;
	if (n == 6 && p[5] == '*')
		return 2;
	return n == 5 + len && strncasecmp(p + 5, name, len) == 0 ? 3 : 0;
}

/* One media range with its parameters: noted for text/html and text/plain where it is the most specific yet. */
static void
http_accept_range(const char *p, const char *end, struct http_accept *a)
{
	static const char *const names[2] = { "html", "plain" };
	const char *semi = memchr(p, ';', (size_t)(end - p)), *tend = semi != NULL ? semi : end;
	int q, s, i;

	http_trim(&p, &tend);
	if (p == tend || (q = http_range_q(semi != NULL ? semi + 1 : end, end)) < 0)
		return;
	for (i = 0; i < 2; i++) {
		s = http_range_spec(p, tend, names[i]);
		if (s > a->spec[i] || (s == a->spec[i] && s > 0 && q > a->q[i])) {
			a->spec[i] = s;
			a->q[i] = q;
		}
	}
}

void
http_accept_scan(const char *v, size_t n, struct http_accept *a)
{
	const char *end = v + n, *comma;

	a->seen = true;
	while (v < end) {
		comma = memchr(v, ',', (size_t)(end - v));
		http_accept_range(v, comma != NULL ? comma : end, a);
		v = comma != NULL ? comma + 1 : end;
	}
}

bool
http_accept_html(const struct http_accept *a)
{
	return a->seen && a->q[0] > a->q[1];
}

/* since=N: 1 to 18 digits, into r->since. 0, or -1. */
static int
http_query_since(const char *p, const char *end, struct http_request *r)
{
	int64_t v = 0;

	if (p == end || end - p > 18 || r->since >= 0)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	r->since = v;
	return 0;
}

int
http_query(const char *q, size_t n, struct http_request *r, int *format)
{
	const char *end = q + n, *amp, *pend, *eq;
	size_t klen;

	for (; q < end; q = amp != NULL ? amp + 1 : end) {
		amp = memchr(q, '&', (size_t)(end - q));
		pend = amp != NULL ? amp : end;
		eq = memchr(q, '=', (size_t)(pend - q));
		klen = (size_t)((eq != NULL ? eq : pend) - q);
		if (klen == 5 && memcmp(q, "since", 5) == 0) {
			if (eq == NULL || http_query_since(eq + 1, pend, r) < 0)
				return -1;
		} else if (klen == 6 && memcmp(q, "format", 6) == 0) {
			if (eq != NULL && pend - eq == 5 && memcmp(eq + 1, "html", 4) == 0)
				*format = 1;
			else if (eq != NULL && pend - eq == 5 && memcmp(eq + 1, "text", 4) == 0)
				*format = 0;
			else
				return -1;
		}
	}
	return 0;
}
