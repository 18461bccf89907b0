/*
 * observe: unit tests of the metrics endpoint's request parser, the status
 * page's renderers, the agent's lines and the JSON log lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "http.h"
#include "log.h"
#include "page.h"
#include "status.h"
#include "unit.h"

static int
http_status(const char *req)
{
	struct http_request r;

	return http_parse(req, strlen(req), &r);
}

static void
test_http_parse(void)
{
	struct http_request r;
	char big[HTTP_MAX + 10];
	const char *ok = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
	size_t cut;
	int every = 1;

	CHECK(http_parse(ok, strlen(ok), &r) == 200 && r.page == HTTP_PAGE_METRICS && !r.head);
	for (cut = 0; cut < strlen(ok); cut++)		/* every prefix asks for more */
		every &= http_parse(ok, cut, &r) == 0;
	CHECK(every);
	CHECK(http_parse("HEAD / HTTP/1.0\r\n\r\n", 19, &r) == 200 && r.head && r.page == HTTP_PAGE_SUMMARY);
	CHECK(http_status("GET /metrics?x=1 HTTP/1.1\r\n\r\n") == 200);
	CHECK(http_parse("GET /healthz HTTP/1.1\r\n\r\n", 27, &r) == 200 && r.page == HTTP_PAGE_HEALTHZ);
	CHECK(http_parse("GET /readyz?v HTTP/1.0\r\n\r\n", 28, &r) == 200 && r.page == HTTP_PAGE_READYZ);
	CHECK(http_status("GET /readyz/ HTTP/1.1\r\n\r\n") == 404);
	CHECK(http_status("GET /healthzz HTTP/1.1\r\n\r\n") == 404);
	CHECK(http_status("GET /ready HTTP/1.1\r\n\r\n") == 404);
	CHECK(http_status("GET /other HTTP/1.1\r\n\r\n") == 404);
	CHECK(http_status("GET /metrics/ HTTP/1.1\r\n\r\n") == 404);
	CHECK(http_status("POST /metrics HTTP/1.1\r\n\r\n") == 405);
	CHECK(http_status("get /metrics HTTP/1.1\r\n\r\n") == 405);
	CHECK(http_status("GET /metrics HTTP/2.0\r\n\r\n") == 400);
	CHECK(http_status("GET /metrics HTTP/1.2\r\n\r\n") == 505);
	CHECK(http_status("GET metrics HTTP/1.1\r\n\r\n") == 400);
	CHECK(http_status("GET  /metrics HTTP/1.1\r\n\r\n") == 400);
	CHECK(http_status("GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n") == 400);
	CHECK(http_status("GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n") == 400);
	CHECK(http_status("GET /metrics HTTP/1.1\n\r\n\r\n") == 400);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	CHECK(http_parse(big, HTTP_MAX, &r) == 431);
	CHECK(http_parse(big, 100, &r) == 0);
}

static int
parse(const char *req, struct http_request *r)
{
	return http_parse(req, strlen(req), r);
}

/* Whether a request with this Accept value is given the HTML page. */
static bool
accept_html(const char *value)
{
	char req[512];
	struct http_request r;

	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\nAccept: %s\r\n\r\n", value);
	return http_parse(req, strlen(req), &r) == 200 && r.html;
}

static void
test_http_accept(void)
{
	struct http_request r;
	struct http_accept a = { false, { 0, 0 }, { 0, 0 } };

	/* Chromium's and Firefox's navigations: HTML */
	CHECK(accept_html("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
	    "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"));
	CHECK(accept_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
	/* curl, wget, a script: plain text as before */
	CHECK(!accept_html("*/*"));
	CHECK(parse("GET / HTTP/1.1\r\n\r\n", &r) == 200 && !r.html);
	CHECK(!accept_html("text/plain"));
	CHECK(!accept_html("text/*"));
	CHECK(!accept_html("text/html, text/plain"));		/* a tie keeps plain text */
	CHECK(!accept_html("text/plain;q=0.5, text/html;q=0.5"));
	CHECK(accept_html("text/plain;q=0.5, text/html"));
	CHECK(accept_html("TEXT/HTML"));
	CHECK(accept_html("text/*;q=0.3, text/html;q=0.7"));	/* the most specific range decides */
	CHECK(!accept_html("text/html;q=0.7, text/*;q=0.9, text/plain"));
	CHECK(!accept_html("text/html;q=0"));
	CHECK(accept_html("text/html ; level=1 ; q=1.0 , text/plain;q=0.999"));
	CHECK(accept_html("text/html;q=0.001"));		/* no range takes text/plain */
	CHECK(!accept_html("text/html;q=1.5"));			/* malformed ranges are passed over */
	CHECK(!accept_html("text/html;q=0.1234"));
	CHECK(!accept_html("text/html;q="));
	CHECK(!accept_html("text/htmlx, texthtml, /html"));
	CHECK(!accept_html(""));
	CHECK(accept_html(",,text/html,"));
	/* two headers count as one list */
	CHECK(parse("GET / HTTP/1.1\r\nAccept: text/html\r\naccept: text/plain;q=0.1\r\n\r\n", &r) == 200 && r.html);
	CHECK(parse("GET / HTTP/1.1\r\nAccept: text/plain;q=0.1\r\nACCEPT: text/html\r\n\r\n", &r) == 200 && r.html);
	CHECK(parse("GET / HTTP/1.1\r\nAccept-Language: text/html\r\n\r\n", &r) == 200 && !r.html);
	http_accept_scan("text/plain;q=0.2", 16, &a);
	CHECK(!http_accept_html(&a));
	http_accept_scan("text/html;q=0.3", 15, &a);
	CHECK(http_accept_html(&a));
}

static void
test_http_query(void)
{
	struct http_request r;

	CHECK(parse("GET /status.json HTTP/1.1\r\n\r\n", &r) == 200 &&
	    r.page == HTTP_PAGE_STATUS && r.since == -1);
	CHECK(parse("GET /status.json?since=42 HTTP/1.1\r\n\r\n", &r) == 200 && r.since == 42);
	CHECK(parse("GET /status.json?x&since=0&y=2 HTTP/1.1\r\n\r\n", &r) == 200 && r.since == 0);
	CHECK(parse("GET /status.json?since=999999999999999999 HTTP/1.1\r\n\r\n", &r) == 200 &&
	    r.since == 999999999999999999LL);
	CHECK(http_status("GET /status.json?since=9999999999999999999 HTTP/1.1\r\n\r\n") == 400);
	CHECK(http_status("GET /status.json?since= HTTP/1.1\r\n\r\n") == 400);
	CHECK(http_status("GET /status.json?since HTTP/1.1\r\n\r\n") == 400);
	CHECK(http_status("GET /status.json?since=-1 HTTP/1.1\r\n\r\n") == 400);
	CHECK(http_status("GET /status.json?since=1x HTTP/1.1\r\n\r\n") == 400);
	CHECK(http_status("GET /status.json?since=1&since=2 HTTP/1.1\r\n\r\n") == 400);
	CHECK(parse("GET /?format=html HTTP/1.1\r\n\r\n", &r) == 200 && r.html);
	CHECK(parse("GET /?format=text HTTP/1.1\r\nAccept: text/html\r\n\r\n", &r) == 200 && !r.html);
	CHECK(http_status("GET /?format=json HTTP/1.1\r\n\r\n") == 400);
	CHECK(http_status("GET /?format HTTP/1.1\r\n\r\n") == 400);
	CHECK(parse("GET /?&&sincex=1&formats=x&= HTTP/1.1\r\n\r\n", &r) == 200 && r.since == -1);
	CHECK(http_status("GET /status.json/ HTTP/1.1\r\n\r\n") == 404);
}

/* What page_json_string() or page_html() makes of s. */
static bool
escaped(void (*fn)(struct metrics_text *, const char *), const char *s, const char *want)
{
	struct metrics_text t = { 0 };
	bool ok;

	fn(&t, s);
	ok = t.p != NULL && t.len == strlen(want) && memcmp(t.p, want, t.len) == 0;
	if (!ok)
		printf("escaped %s as %.*s, not %s\n", s, (int)t.len, t.p != NULL ? t.p : "", want);
	free(t.p);
	return ok;
}

static void
test_page_escapes(void)
{
	CHECK(escaped(page_json_string, "127.0.0.1:8000", "\"127.0.0.1:8000\""));
	CHECK(escaped(page_json_string, "unix:/a \"b\"\\c\n\x01\xc3\xa9</script>",
	    "\"unix:/a \\\"b\\\"\\\\c\\u000a\\u0001\\u00c3\\u00a9</script>\""));
	CHECK(escaped(page_json_string, "", "\"\""));
	CHECK(escaped(page_html, "a<b>&\"c'\x7f\x1b\xff", "a&lt;b&gt;&amp;&quot;c&#39;&#xfffd;&#xfffd;&#xfffd;"));
	CHECK(escaped(page_html, "[::1]:80", "[::1]:80"));
}

/* A key=value line as log_msg() builds it, with a value quoted by log_quote(). */
static int
json_is(const char *value, const char *want_json_value)
{
	char q[256], kv[512], json[1024], want[512];

	snprintf(kv, sizeof(kv), "event=x error=%s n=7", log_quote(value, q, sizeof(q)));
	snprintf(want, sizeof(want), "{\"event\":\"x\",\"error\":%s,\"n\":7}", want_json_value);
	log_kv_json(kv, json, sizeof(json));
	if (strcmp(json, want) != 0)
		printf("  %s\n  gave %s\n  want %s\n", kv, json, want);
	return strcmp(json, want) == 0;
}

static void
test_log_json(void)
{
	char json[256];

	CHECK(json_is("plain", "\"plain\""));
	CHECK(json_is("two words", "\"two words\""));
	CHECK(json_is("a \"quoted\" \\ thing", "\"a \\\"quoted\\\" \\\\ thing\""));
	CHECK(json_is("line\nbreak\x01", "\"line\\u000abreak\\u0001\""));	/* no line can be forged */
	CHECK(json_is("event=forged", "\"event=forged\""));
	CHECK(json_is("caf\xc3\xa9", "\"caf\\u00c3\\u00a9\""));	/* bytes >= 0x7f arrive as \xNN */
	CHECK(json_is("", "\"\""));
	log_kv_json("a=1 b=-2 c=0.250 d=007 e=1.2.3 f=0 g=1e5", json, sizeof(json));
	CHECK(strcmp(json, "{\"a\":1,\"b\":-2,\"c\":0.250,\"d\":\"007\",\"e\":\"1.2.3\",\"f\":0,\"g\":\"1e5\"}") == 0);
	CHECK(log_kv_json("no key here", json, sizeof(json)) == 0);
	CHECK(log_kv_json("a=\"unterminated", json, sizeof(json)) > 0 && strcmp(json, "{}") == 0);
	CHECK(log_kv_json("a=1 b=\"0123456789012345678901234567890\"", json, 24) > 0 &&
	    strcmp(json, "{\"a\":1}") == 0);				/* cut at a whole field */
}

/* HAProxy's agent-check: the words for each state, and what a balancer may send. */
static void
test_agent_line(void)
{
	char big[AGENT_LINE_MAX + 8];
	const char *ok = "be_echo/s1\r\n";
	size_t cut;
	int every = 1;

	CHECK(strcmp(agent_answer(AGENT_READY), "up ready\n") == 0);
	CHECK(strcmp(agent_answer(AGENT_LEAVING), "up drain\n") == 0);
	CHECK(strcmp(agent_answer(AGENT_DRAINING), "drain down#draining\n") == 0);
	CHECK(agent_request(ok, strlen(ok)) == AGENT_LINE);
	for (cut = 0; cut + 1 < strlen(ok); cut++)	/* every prefix asks for more */
		every &= agent_request(ok, cut) == AGENT_MORE;
	CHECK(every);
	CHECK(agent_request("\n", 1) == AGENT_LINE);
	CHECK(agent_request("a\tb\n", 4) == AGENT_LINE);
	CHECK(agent_request("a\rb\n", 4) == AGENT_BAD);
	CHECK(agent_request("a\0b\n", 4) == AGENT_BAD);
	CHECK(agent_request("caf\xc3\xa9\n", 6) == AGENT_BAD);
	CHECK(agent_request("x\x7f\n", 3) == AGENT_BAD);
	CHECK(agent_request("line\nmore", 9) == AGENT_LINE);	/* decided at its LF */
	memset(big, 'a', sizeof(big));
	CHECK(agent_request(big, AGENT_LINE_MAX - 1) == AGENT_MORE);
	CHECK(agent_request(big, AGENT_LINE_MAX) == AGENT_BAD);
	big[AGENT_LINE_MAX - 1] = '\n';
	CHECK(agent_request(big, AGENT_LINE_MAX) == AGENT_LINE);
}

/* The status page's renderers, on a view made by hand. */
static void
test_status_page(void)
{
	struct status_view *v = calloc(1, sizeof(*v));
	struct metrics_text t = { 0 };
	int i;

	CHECK(status_chart_top(0) == 1 && status_chart_top(1) == 1 && status_chart_top(1.5) == 2);
	CHECK(status_chart_top(3) == 5 && status_chart_top(7) == 10 && status_chart_top(10) == 10);
	CHECK(status_chart_top(11) == 20 && status_chart_top(250) == 500 && status_chart_top(0.3) == 0.5);
	snprintf(v->version, sizeof(v->version), "0.1.0");
	snprintf(v->listeners[0], STATUS_NAME, "unix:/run/<x>&y");
	v->nlisteners = 1;
	v->served = 12345;
	for (i = 0; i < 3; i++)
		v->samples[i] = (struct status_sample){ .seq = (uint64_t)i + 1, .uptime = i + 1.0,
		    .sessions = 2 * i, .served = 10 * (uint64_t)i };
	v->nsamples = 3;
	v->seq = 3;
	v->pool = true;
	v->workers = v->nworkers = 1;
	v->worker[0] = (struct status_worker){ .pid = 42, .state = "busy", .connections = 1, .served = 7 };
	CHECK(status_html(v, &t) == 0 && t.p != NULL && strstr(t.p, "unix:/run/&lt;x&gt;&amp;y") != NULL);
	CHECK(strstr(t.p, "<x>") == NULL && strstr(t.p, "data-f=\"served\">12345</b>") != NULL);
	/* the sessions chart: 3 samples, 2 points, the newest at the right edge, 4 of a top of 5 */
	CHECK(strstr(t.p, "points=\"298,60.0 299,20.0\"") != NULL);
	CHECK(strstr(t.p, page_script) != NULL && strstr(t.headers, "script-src 'sha256-") != NULL);
	CHECK(strstr(t.p, "<span class=\"busy\" title=\"pid 42: busy, 7 served\">1</span>") != NULL);
	free(t.p);
	t = (struct metrics_text){ 0 };
	status_json(v, 2, &t);
	CHECK(t.p != NULL && strstr(t.p, "\"samples\":[[3,3.0,4,20,0,0,0]]}}\n") != NULL);
	CHECK(strstr(t.p, "\"listeners\":[\"unix:/run/<x>&y\"],\"listeners_more\":0,") != NULL);
	CHECK(strstr(t.p, "\"list\":[{\"pid\":42,\"state\":\"busy\",\"connections\":1,\"served\":7}]}") != NULL);
	free(t.p);
	free(v);
}

void
unit_observe(void)
{
	test_status_page();
	test_http_parse();
	test_http_accept();
	test_http_query();
	test_page_escapes();
	test_agent_line();
	test_log_json();
}
