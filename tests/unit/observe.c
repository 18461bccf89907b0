/* observe: unit tests of the metrics endpoint's request parser, the agent's lines and the JSON log lines. */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "http.h"
#include "log.h"
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

void
unit_observe(void)
{
	test_http_parse();
	test_agent_line();
	test_log_json();
}
