/*
 * sample: unit tests of mpecho-bench's intervals: merged by wall-clock time
 * on synthetic runs (counts summed slot by slot, percentiles those of one
 * histogram fed every sample), written as JSON, read back and checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "result.h"

/*
 * A synthetic run that began at started: n intervals of secs each, the i-th
 * with ops = base + i, and its latencies: fast values of lo ns and slow of hi.
 */
static void
fake_run(struct result *r, double started, double secs, size_t n, uint64_t base, int fast,
    uint64_t lo, int slow, uint64_t hi)
{
	static struct stats st;
	size_t i;
	int k;

	memset(r, 0, sizeof(*r));
	r->mode = MODE_PINGPONG;
	snprintf(r->version, sizeof(r->version), "0.1.0");
	snprintf(r->host, sizeof(r->host), "127.0.0.1");
	snprintf(r->port, sizeof(r->port), "7");
	r->set = (struct settings){ .conns = 2, .size = 64, .threads = 1, .duration = (double)n * secs,
	    .timeout = 10, .progress = secs != 1 ? secs : 0 };
	r->started = r->measure_start = started;
	r->ended = r->measure_end = started + (double)n * secs;
	r->seconds = (double)n * secs;
	r->runs = 1;
	stats_init(&r->lat);
	r->intervals = calloc(n, sizeof(*r->intervals));
	r->nintervals = n;
	for (i = 0; i < n; i++) {
		struct sample *s = &r->intervals[i];

		stats_init(&st);
		for (k = 0; k < fast + slow; k++)
			stats_add(&st, k < fast ? lo : hi);
		stats_merge(&r->lat, &st);
		*s = (struct sample){ .at = (double)(i + 1) * secs, .secs = secs,
		    .phase = i == 0 ? PHASE_WARMUP : PHASE_MEASURE, .ops = base + i, .conns = 1,
		    .bytes = 10 * (base + i), .errors = i == 1, .bad = 2 * (i == 2) };
		CHECK(sample_keep_latency(s, &st) == 0);
		r->ops += st.count;
	}
}

static uint64_t
ops_of(const struct result *r)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < r->nintervals; i++)
		sum += r->intervals[i].ops;
	return sum;
}

/* Two runs started together: slot by slot, counts summed and percentiles of all samples. */
static void
test_merge_aligned(void)
{
	static struct result a, b, out;
	static struct stats all;
	struct result *in[] = { &a, &b };
	char why[256];
	size_t i;
	int k;

	fake_run(&a, 1000.0001, 1, 3, 100, 90, 100, 0, 0);
	fake_run(&b, 1000.002, 1, 3, 50, 0, 0, 10, 10000);
	CHECK(result_merge(&out, in, 2, why, sizeof(why)) == 0 && out.nintervals == 3);
	stats_init(&all);
	for (k = 0; k < 100; k++)
		stats_add(&all, k < 90 ? 100 : 10000);
	for (i = 0; i < out.nintervals && out.nintervals == 3; i++) {
		const struct sample *s = &out.intervals[i];

		CHECK(s->ops == 150 + 2 * i && s->bytes == 10 * s->ops && s->conns == 2);
		CHECK(s->errors == 2 * (i == 1) && s->bad == 4 * (i == 2));
		CHECK(s->secs > 0.999 && s->secs < 1.001 && s->at > (double)i + 0.99 &&
		    s->at < (double)i + 1.01);
		CHECK(s->phase == (i == 0 ? PHASE_WARMUP : PHASE_MEASURE));
		CHECK(s->p50 == (double)stats_quantile(&all, 0.5) / 1e3 && s->p50 < 1);
		CHECK(s->p90 == (double)stats_quantile(&all, 0.9) / 1e3 && s->p90 > 9);
		CHECK(s->p99 == (double)stats_quantile(&all, 0.99) / 1e3 && s->max == 10);
	}
	CHECK(ops_of(&out) == ops_of(&a) + ops_of(&b) && out.set.progress == 0);
	result_free(&out);
	result_free(&a);
	result_free(&b);
}

/* Runs apart in time, and of different interval lengths: each interval in the slot of its middle. */
static void
test_merge_apart(void)
{
	static struct result a, b, c, out;
	struct result *in[] = { &a, &b }, *in2[] = { &a, &c };
	char why[256];

	fake_run(&a, 2000, 1, 3, 100, 5, 1000, 0, 0);
	fake_run(&b, 2000.7, 1, 3, 10, 5, 1000, 0, 0);	/* middles at 1.2, 2.2, 3.2: one slot on */
	CHECK(result_merge(&out, in, 2, why, sizeof(why)) == 0 && out.nintervals == 4);
	if (out.nintervals == 4)
		CHECK(out.intervals[0].ops == 100 && out.intervals[1].ops == 111 &&
		    out.intervals[2].ops == 113 && out.intervals[3].ops == 12 &&
		    out.intervals[3].at > 3.99 && out.intervals[3].at < 4.01);
	CHECK(ops_of(&out) == ops_of(&a) + ops_of(&b));
	result_free(&out);
	fake_run(&c, 2000, 0.5, 4, 10, 5, 1000, 0, 0);	/* two of c's a slot of 1 s */
	CHECK(result_merge(&out, in2, 2, why, sizeof(why)) == 0 && out.nintervals == 3);
	if (out.nintervals == 3)
		CHECK(out.intervals[0].ops == 100 + 21 && out.intervals[1].ops == 101 + 25 &&
		    out.intervals[0].secs > 0.999 && out.intervals[0].secs < 1.001 &&
		    out.intervals[0].conns == 3 && out.set.progress == 1);
	result_free(&out);
	samples_free(c.intervals, c.nintervals);	/* one without intervals: none merged */
	c.intervals = NULL;
	c.nintervals = 0;
	CHECK(result_merge(&out, in2, 2, why, sizeof(why)) == 0 && out.nintervals == 0 &&
	    out.ops == a.ops + c.ops);
	result_free(&out);
	result_free(&a);
	result_free(&b);
}

/* The intervals written as JSON and read back: the same counts, buckets and percentiles. */
static void
test_intervals_json(void)
{
	static struct result a, back;
	char *text = NULL, why[256];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	fake_run(&a, 3000, 0.5, 3, 7, 90, 100, 10, 10000);
	result_write_json(f, &a);
	fclose(f);
	CHECK(strstr(text, "\"intervals\":[{\"start\":3000.000000,\"secs\":0.500000,\"phase\":\"warm-up\","
	    "\"ops\":7,\"conns\":1,\"bytes\":70,\"errors\":0,\"bad_bytes\":0,\"latency\":{\"max\":10000,"
	    "\"lowest\":100,\"counts\":[90,0,0,") != NULL && strstr(text, ",0,10]}}") != NULL);
	CHECK(strstr(text, "\"counts\":[90,0,0,") - strstr(text, ",0,10]}}") < 0);
	CHECK(result_read_json(&back, text, len, why, sizeof(why)) == 0 && back.nintervals == 3);
	for (i = 0; i < back.nintervals && back.nintervals == 3; i++)
		CHECK(back.intervals[i].ops == a.intervals[i].ops && back.intervals[i].nlat == 2 &&
		    back.intervals[i].lat[1].count == 10 && back.intervals[i].lat[1].index == 924 && back.intervals[i].p90 == a.intervals[i].p90 &&
		    back.intervals[i].max == 10 && back.intervals[i].at > 0.5 * (double)i + 0.49 &&
		    back.intervals[i].phase == a.intervals[i].phase);
	result_free(&back);
	result_free(&a);
	free(text);
}

/* The text of a, with one piece replaced: refused, with why naming what. */
static bool
interval_refused(const char *from, const char *to, const char *what)
{
	static struct result a, back;
	char *text = NULL, *at, edited[8192], why[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bool ok;

	fake_run(&a, 3000, 0.5, 3, 7, 90, 100, 10, 10000);
	result_write_json(f, &a);
	fclose(f);
	result_free(&a);
	if ((at = strstr(text, from)) == NULL || len + strlen(to) >= sizeof(edited)) {
		free(text);
		return false;
	}
	snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	ok = result_read_json(&back, edited, strlen(edited), why, sizeof(why)) < 0 &&
	    strstr(why, what) != NULL && back.intervals == NULL;
	if (!ok)
		printf("edit %s -> %s: %s\n", from, to, why);
	free(text);
	return ok;
}

static void
test_intervals_refused(void)
{
	CHECK(interval_refused("\"start\":3000.500000", "\"start\":3000.000000", "increase"));
	CHECK(interval_refused("\"start\":3000.000000", "\"start\":2990", "start"));
	CHECK(interval_refused("\"phase\":\"warm-up\"", "\"phase\":\"cool\"", "phase"));
	CHECK(interval_refused("\"lowest\":100,", "\"lowest\":1001,", "layout"));
	CHECK(interval_refused("\"counts\":[90,", "\"counts\":[0,", "begin and end"));
	CHECK(interval_refused(",0,10]}}", ",0,0]}}", "begin and end"));
	CHECK(interval_refused(",0,10]}}", ",0,-1]}}", "whole numbers"));
	CHECK(interval_refused("\"counts\":[90,", "\"counts\":[18446744073709551615,", "overflow"));
	CHECK(interval_refused("{\"max\":10000,", "{\"max\":20000,", "last bucket"));
	CHECK(interval_refused("\"lowest\":100,", "\"lowest\":4398046511104,", "from 1 to"));
	CHECK(interval_refused("\"lowest\":100,\"counts\":[90,", "\"lowest\":100,\"counts\":[],\"x\":[90,",
	    "from 1 to"));
	CHECK(interval_refused("\"lowest\":100,", "", "latency"));
	CHECK(interval_refused("\"secs\":0.500000", "\"secs\":0", "secs"));
	CHECK(interval_refused("\"intervals\":[", "\"intervals\":7,\"x\":[", "intervals"));
	CHECK(interval_refused("\"bad_bytes\":0", "\"bad_bytes\":-1", "bad_bytes"));
}

void
unit_sample(void)
{
	test_merge_aligned();
	test_merge_apart();
	test_intervals_json();
	test_intervals_refused();
}
