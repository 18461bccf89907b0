/* result: unit tests of mpecho-bench's JSON reader and of the checks on a result read back for merge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "bench.h"
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

/* text (freed here) with one piece replaced: refused, with why mentioning what. */
static bool
refused_text(char *text, size_t len, const char *from, const char *to, const char *what)
{
	static struct result r;
	char *at = text != NULL ? strstr(text, from) : NULL, *edited, why[256] = "";
	bool ok;

	if (at == NULL) {
		printf("edit %s: not in the sample\n", from);
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

/* The sample with one piece of text replaced: refused, with why mentioning what. */
static bool
refused(const char *from, const char *to, const char *what)
{
	size_t len;
	char *text = sample_json(&len);

	return refused_text(text, len, from, to, what);
}

/* A hold result with mem, likewise. */
static char *hold_json(const struct memory *mem, size_t *len);

static bool
refused_hold(const struct memory *mem, const char *from, const char *to, const char *what)
{
	size_t len = 0;
	char *text = hold_json(mem, &len);

	return refused_text(text, len, from, to, what);
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

/* A hold result with memory figures as --procs writes it: as JSON, and back. */
static char *
hold_json(const struct memory *mem, size_t *len)
{
	static struct result r;
	char *text = NULL;
	FILE *f;

	memset(&r, 0, sizeof(r));
	r.mode = MODE_HOLD;
	strcpy(r.version, "0.1.0");
	strcpy(r.host, "127.0.0.1");
	strcpy(r.port, "8000");
	r.set = (struct settings){ .conns = 1000, .size = 64, .threads = 2, .duration = 1,
	    .timeout = 1 };
	r.started = 1000;
	r.measure_start = 1001;
	r.measure_end = r.ended = 1002;
	r.seconds = 1;
	r.runs = 2;
	r.held = 1000;
	stats_init(&r.lat);
	r.mem = *mem;
	if ((f = open_memstream(&text, len)) != NULL) {
		result_write_json(f, &r);
		fclose(f);
	}
	return text;
}

static void
test_memory(void)
{
	static const struct memory with = { true, 2, 1000000, 900000, 42, 100, 500, 1001.5 };
	static const struct memory without = { true, 3, 1000, 1000, 0, 0, 0, 1001.5 };
	static struct result r;
	char why[256], *text;
	size_t len;

	text = hold_json(&with, &len);
	CHECK(text != NULL && strstr(text, "\"mem_per_conn_bytes\":102400.0") != NULL &&
	    strstr(text, "\"pss_per_conn_bytes\":409.6") != NULL);
	CHECK(result_read_json(&r, text, len, why, sizeof(why)) == 0);
	CHECK(memcmp(&r.mem, &with, sizeof(with)) == 0 && r.held == 1000);
	CHECK(result_per_conn(&r, 100, 500, false) == 409.6);
	free(text);
	text = hold_json(&without, &len);
	CHECK(text != NULL && strstr(text, "\"server_pss_after_kib\":null") != NULL);
	CHECK(result_read_json(&r, text, len, why, sizeof(why)) == 0 && r.mem.measured &&
	    r.mem.procs == 3 && r.mem.server_pid == 0);
	free(text);
	text = hold_json(&(struct memory){ 0 }, &len);
	CHECK(text != NULL && strstr(text, "\"memory\":null") != NULL);
	CHECK(result_read_json(&r, text, len, why, sizeof(why)) == 0 && !r.mem.measured);
	free(text);
	/* The checks: null exactly where no server was named, procs in range, an object or null. */
	CHECK(refused_hold(&with, "\"server_pss_after_kib\":500", "\"server_pss_after_kib\":null",
	    "server_pss_after_kib"));
	CHECK(refused_hold(&without, "\"server_pss_before_kib\":null", "\"server_pss_before_kib\":5",
	    "must be null"));
	CHECK(refused_hold(&with, "\"procs\":2", "\"procs\":0", "memory.procs"));
	CHECK(refused_hold(&with, "\"procs\":2", "\"procs\":201", "procs"));
	CHECK(refused_hold(&with, "\"memory\":{", "\"memory\":5,\"m\":{", "'memory' must be null, or an object"));
}

/* procmem: the /proc lines hold's memory figures come from. */
static void
test_procmem(void)
{
	static const char meminfo[] = "MemTotal:       24000000 kB\nMemFree:  1 kB\n"
	    "MemAvailable:   20000000 kB\nBuffers: 5 kB\n";
	static const char rollup[] = "55d0-7ffd ---p 00000000 00:00 0  [rollup]\nRss:  1200 kB\n"
	    "Pss:                 987 kB\nPss_Anon: 5 kB";
	long pids[4];
	uint64_t kib = 7;

	CHECK(procmem_kib(meminfo, "MemAvailable", &kib) == 0 && kib == 20000000);
	CHECK(procmem_kib(meminfo, "MemTotal", &kib) == 0 && kib == 24000000);
	CHECK(procmem_kib(rollup, "Pss", &kib) == 0 && kib == 987);
	CHECK(procmem_kib(rollup, "Pss_Anon", &kib) == 0 && kib == 5);
	CHECK(procmem_kib(meminfo, "Mem", &kib) < 0);
	CHECK(procmem_kib("Pss: 12 MB\n", "Pss", &kib) < 0);
	CHECK(procmem_kib("Pss: x kB\n", "Pss", &kib) < 0);
	CHECK(procmem_kib("Pss: 99999999999999999999999 kB\n", "Pss", &kib) < 0);
	CHECK(procmem_kib("", "Pss", &kib) < 0);
	CHECK(procmem_pids("12 345 6 ", pids, 4) == 3 && pids[0] == 12 && pids[1] == 345 && pids[2] == 6);
	CHECK(procmem_pids("", pids, 4) == 0);
	CHECK(procmem_pids("1 2 3 4 5", pids, 4) < 0);
	CHECK(procmem_pids("1 x", pids, 4) < 0);
	CHECK(procmem_pids("0", pids, 4) < 0);
	CHECK(procmem_pids("99999999999", pids, 4) < 0);
}

void
unit_result(void)
{
	test_json_accepts();
	test_json_refuses();
	test_result_read();
	test_memory();
	test_procmem();
}
