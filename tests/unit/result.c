/* result: unit tests of mpecho-bench's JSON reader and of the checks on a result read back for merge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "json.h"
#include "result.h"

/* Parse text; true if it parses (then *doc holds it) and the error line otherwise is one line. */
static bool
parses(const char *text, struct json_doc *doc)
{
	char why[160] = "";
	int rc = json_parse(text, strlen(text), doc, why, sizeof(why));

	if (rc < 0)
		CHECK(why[0] != '\0' && strchr(why, '\n') == NULL && strncmp(why, "line ", 5) == 0);
	return rc == 0;
}

static void
test_json_accepts(void)
{
	struct json_doc d;
	const struct json *v;

	CHECK(parses(" {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"], \"b\": {}} ", &d));
	v = json_get(d.root, "a")->child;
	CHECK(v->type == JSON_NUMBER && v->whole && v->u == 1);
	CHECK(v->next->type == JSON_NUMBER && !v->next->whole && v->next->num == -2500.0);
	v = v->next->next->next->next->next;
	CHECK(v->type == JSON_STRING && strcmp(v->str, "x\xc3\xa9\xf0\x9f\x98\x80\n") == 0);
	CHECK(json_get(d.root, "b")->type == JSON_OBJECT && json_get(d.root, "c") == NULL);
	json_free(&d);
	CHECK(parses("18446744073709551615", &d) && d.root->whole && d.root->u == UINT64_MAX);
	json_free(&d);
	CHECK(parses("18446744073709551616", &d) && !d.root->whole);	/* 2^64: not exact */
	json_free(&d);
	CHECK(parses("0", &d) && d.root->whole && d.root->u == 0);
	json_free(&d);
}

static void
test_json_refuses(void)
{
	static const char *const bad[] = { "", "{", "[1,]", "{\"a\":1,}", "01", "-", "1.", "1e",
	    "+1", ".5", "\"abc", "\"a\x01\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"",
	    "\"\\u12g4\"", "tru", "nul", "{\"a\" 1}", "{1:2}", "[1 2]", "1 2", "NaN", "Infinity",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" };
	struct json_doc d;
	size_t i;
	int wrong = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parses(bad[i], &d)) {
			printf("parsed, but should not have: %s\n", bad[i]);
			wrong++;
		}
		json_free(&d);
	}
	CHECK(wrong == 0);
}

/* A real-shaped result, as result_write_json() writes it. */
static char *
sample_json(size_t *len)
{
	static struct result r;
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	memset(&r, 0, sizeof(r));
	r.mode = MODE_CONNRATE;
	snprintf(r.version, sizeof(r.version), "0.1.0");
	snprintf(r.host, sizeof(r.host), "127.0.0.1");
	snprintf(r.port, sizeof(r.port), "8000");
	r.set = (struct settings){ .conns = 4, .size = 64, .threads = 1, .duration = 1, .timeout = 10 };
	r.started = r.measure_start = 100;
	r.ended = r.measure_end = 101;
	r.seconds = 1;
	r.runs = 1;
	stats_init(&r.lat);
	stats_add(&r.lat, 1000);
	stats_add(&r.lat, 250000);
	r.ops = 2;
	result_write_json(f, &r);
	fclose(f);
	return text;
}

/* The sample with one piece of text replaced: refused, with why mentioning what. */
static bool
refused(const char *from, const char *to, const char *what)
{
	static struct result r;
	size_t len;
	char *text = sample_json(&len), *at = strstr(text, from), *edited, why[256];
	bool ok;

	if (at == NULL) {
		free(text);
		return false;
	}
	if ((edited = malloc(len + strlen(to) + 1)) == NULL)
		abort();
	sprintf(edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	ok = result_read_json(&r, edited, strlen(edited), why, sizeof(why)) < 0 &&
	    strstr(why, what) != NULL && strchr(why, '\n') == NULL;
	if (!ok)
		printf("edit %s -> %s: %s\n", from, to, why);
	free(text);
	free(edited);
	return ok;
}

static void
test_result_read(void)
{
	static struct result r;
	size_t len;
	char *text = sample_json(&len), why[256];

	CHECK(result_read_json(&r, text, len, why, sizeof(why)) == 0);
	CHECK(r.mode == MODE_CONNRATE && r.ops == 2 && r.lat.count == 2 && r.lat.max == 250000 &&
	    strcmp(r.port, "8000") == 0 && r.set.conns == 4 && r.bytes == 0);
	free(text);
	CHECK(refused("mpecho-bench/1", "mpecho-bench/9", "format"));
	CHECK(refused("\"connrate\"", "\"bogus\"", "mode"));
	CHECK(refused("\"conns\":4,\"size\"", "\"conns\":0,\"size\"", "conns"));
	CHECK(refused("\"ops\":2", "\"ops\":3", "one sample per operation"));
	CHECK(refused("\"count\":2", "\"count\":5", "add up"));
	CHECK(refused("[1000,1003,1]", "[1000,1004,1]", "not this layout"));
	CHECK(refused("[1000,1003,1],[249856", "[249856,250879,1],[249856", "increasing order"));
	CHECK(refused("\"bytes\":null", "\"bytes\":0", "must be null"));
	CHECK(refused("\"lost\":0", "\"lost\":null", "whole number"));
	CHECK(refused("\"lost\":0", "\"lost\":-1", "whole number"));
	CHECK(refused("\"127.0.0.1\"", "\"127.0.0.1\\n\"", "printable"));
	CHECK(refused("\"min\":1000", "\"min\":5", "outside its buckets"));
	CHECK(refused("\"seconds\":1.000000", "\"seconds\":50", "seconds"));
	CHECK(refused("\"status\":0", "\"status\":2", "status"));
	CHECK(refused(",\"histogram\"", ",\"histo\"", "histogram"));
	CHECK(refused("{\"format\"", "{\"formats\"", "not an mpecho-bench --json result"));
}

void
unit_result(void)
{
	test_json_accepts();
	test_json_refuses();
	test_result_read();
}
