/* bench: unit tests of mpecho-bench's latency histogram, --rate's schedule, and merging results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "pace.h"
#include "result.h"
#include "stats.h"

/* The layout: buckets contiguous, each within 1/128 of any value it holds. */
static void
test_layout(void)
{
	unsigned b, bad = 0;
	uint64_t v;

	CHECK(stats_bucket_low(0) == 0 && stats_bucket_high(STATS_BUCKETS - 1) == UINT64_MAX);
	for (b = 0; b + 1 < STATS_BUCKETS; b++)
		bad += stats_bucket_high(b) + 1 != stats_bucket_low(b + 1);
	CHECK(bad == 0);
	for (v = 1, bad = 0; v < (uint64_t)1 << STATS_MAX_EXP; v = v * 3 / 2 + 1) {
		b = stats_bucket_of(v);
		bad += !(stats_bucket_low(b) <= v && v <= stats_bucket_high(b));
		bad += (stats_bucket_high(b) - stats_bucket_low(b)) * 128 > v;	/* within 1/128 of v */
	}
	CHECK(bad == 0);
	CHECK(stats_bucket_of((uint64_t)1 << 50) == STATS_BUCKETS - 1);
}

static void
test_stats(void)
{
	static struct stats st, other, a, b, part;
	uint64_t v, q;
	int i;

	stats_init(&st);
	CHECK(stats_quantile(&st, 0.5) == 0);
	for (v = 1; v <= 1000; v++)
		stats_add(&st, v);
	CHECK(st.count == 1000 && st.min == 1 && st.max == 1000 && st.sum == 500500);
	q = stats_quantile(&st, 0.5);
	CHECK(q >= 500 && q <= 500 * 1.01);
	q = stats_quantile(&st, 0.99);
	CHECK(q >= 990 && q <= 990 * 1.01);
	CHECK(stats_quantile(&st, 1.0) == 1000);
	CHECK(stats_quantile(&st, 0.0) == 1);
	/* Precision across the range: every quantile is an upper bound within 1/128. */
	stats_init(&other);
	for (i = 0; i < 40; i++)
		stats_add(&other, (uint64_t)1 << i);
	for (i = 0; i < 40; i++) {
		q = stats_quantile(&other, (i + 0.5) / 40.0);
		CHECK(q >= ((uint64_t)1 << i) && q <= ((uint64_t)1 << i) + ((uint64_t)1 << i) / 128);
	}
	stats_add(&other, (uint64_t)1 << 50);	/* beyond the range: counted, max exact */
	CHECK(stats_quantile(&other, 1.0) == (uint64_t)1 << 50);
	stats_merge(&st, &other);
	CHECK(st.count == 1041 && st.max == (uint64_t)1 << 50 && st.min == 1);
	/* An interval: the samples added since a copy. */
	stats_copy(&a, &st);
	stats_add(&st, 5000);
	stats_add(&st, 7);
	stats_copy(&b, &st);
	stats_since(&part, &b, &a);
	CHECK(part.count == 2 && part.sum == 5007 && part.min == 7 && part.max >= 5000 &&
	    part.max <= 5000 + 5000 / 128);
	/* A copy taken while a thread records: its buckets hold a sample its min and max miss. */
	b.max = 0;
	b.min = UINT64_MAX;
	stats_since(&part, &b, &a);
	CHECK(part.min >= stats_bucket_low(stats_bucket_of(7)) &&
	    part.min <= stats_bucket_high(stats_bucket_of(7)) &&
	    part.max >= stats_bucket_low(stats_bucket_of(5000)) &&
	    part.max <= stats_bucket_high(stats_bucket_of(5000)));
}

/* --rate: the schedule spreads the connections evenly, and the heap gives the earliest first. */
static void
test_pace(void)
{
	struct pace p;
	int64_t due[5] = { 50, 10, 40, 10, 30 };
	int i, order[5], n = 0, id;

	CHECK(pace_due(1000, 100.0, 4, 0, 0) == 1000);
	CHECK(pace_due(1000, 100.0, 4, 1, 0) == 1000 + 10000000);	/* 1/100 s apart */
	CHECK(pace_due(1000, 100.0, 4, 1, 2) == 1000 + 90000000);	/* every 4/100 s each */
	CHECK(pace_init(&p, 5) == 0);
	for (i = 0; i < 5; i++)
		CHECK(pace_push(&p, i, due[i]) == 0);
	CHECK(pace_push(&p, 2, 1) < 0);		/* waiting already */
	pace_remove(&p, 4);			/* closed while it waited */
	CHECK(pace_next(&p) == 10 && pace_pop(&p, 5) == -1);
	while ((id = pace_pop(&p, 100)) >= 0)
		order[n++] = id;
	CHECK(n == 4 && due[order[0]] == 10 && due[order[1]] == 10 && order[2] == 2 && order[3] == 0);
	CHECK(pace_next(&p) == INT64_MAX);
	pace_free(&p);
}

/* xorshift: the same synthetic samples every run. */
static uint64_t
next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int
by_value(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* A pingpong result of n synthetic latencies (shape: kind), its window [start, start + secs). */
static void
synthetic(struct result *r, uint64_t *samples, int n, int kind, double start, double secs)
{
	static uint64_t x = 88172645463325252ull;
	int i;

	memset(r, 0, sizeof(*r));
	r->mode = MODE_PINGPONG;
	snprintf(r->version, sizeof(r->version), "test");
	snprintf(r->host, sizeof(r->host), "echo.example");
	snprintf(r->port, sizeof(r->port), "7");
	r->set = (struct settings){ .conns = 8, .size = 64, .threads = 2, .duration = secs,
	    .timeout = 10 };
	r->started = r->measure_start = start;
	r->ended = r->measure_end = start + secs;
	r->seconds = secs;
	r->runs = 1;
	stats_init(&r->lat);
	for (i = 0; i < n; i++) {
		uint64_t v = kind == 0 ? 20000 + next_random(&x) % 5000 :	/* narrow, 20-25 us */
		    kind == 1 ? 1000 + next_random(&x) % 10000000 :		/* wide, to 10 ms */
		    (next_random(&x) % 100 == 0 ? 200000000 : 50000);	/* a tail of 200 ms */
		samples[i] = v;
		stats_add(&r->lat, v);
	}
	r->ops = r->lat.count;
}

/* A result through JSON and back, as merge reads it. */
static void
through_json(struct result *r)
{
	static struct result back;
	char *text = NULL, why[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	result_write_json(f, r);
	fclose(f);
	CHECK(result_read_json(&back, text, len, why, sizeof(why)) == 0);
	*r = back;
	free(text);
}

/*
 * Merged percentiles equal those of one histogram fed every sample (the
 * buckets add up exactly), and each is within 1/128 of the true value.
 */
static void
test_merge_percentiles(void)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 };
	static struct result r[3], merged, all;
	static uint64_t samples[30000];
	struct result *in[3] = { &r[0], &r[1], &r[2] };
	char why[256];
	uint64_t want, got;
	size_t i;
	int k, bad = 0;

	stats_init(&all.lat);
	for (k = 0; k < 3; k++) {
		synthetic(&r[k], samples + k * 10000, 10000, k, k * 5.0, 10.0);	/* 0-10, 5-15, 10-20 s */
		stats_merge(&all.lat, &r[k].lat);
		through_json(&r[k]);
	}
	CHECK(result_merge(&merged, in, 3, why, sizeof(why)) == 0);
	CHECK(merged.ops == 30000 && merged.lat.count == 30000 && merged.runs == 3);
	CHECK(merged.lat.sum == all.lat.sum && merged.lat.min == all.lat.min &&
	    merged.lat.max == all.lat.max);
	CHECK(merged.seconds > 19.999 && merged.seconds < 20.001);	/* the union of the windows */
	CHECK(merged.set.conns == 24);
	qsort(samples, 30000, sizeof(samples[0]), by_value);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		got = stats_quantile(&merged.lat, qs[i]);
		want = samples[qs[i] >= 1.0 ? 29999 : (size_t)(qs[i] * 30000)];
		bad += got != stats_quantile(&all.lat, qs[i]);
		bad += got < want || got > want + want / 128;
	}
	CHECK(bad == 0);
}

/* Results that are not of one run's kind are refused, naming why. */
static void
test_merge_refusals(void)
{
	static struct result a, b, out;
	static uint64_t samples[10];
	struct result *in[2] = { &a, &b };
	char why[512];

	synthetic(&a, samples, 10, 0, 0, 1);
	synthetic(&b, samples, 10, 0, 0, 1);
	b.mode = MODE_CONNRATE;
	CHECK(result_merge(&out, in, 2, why, sizeof(why)) < 0 && strstr(why, "different modes") != NULL);
	b.mode = MODE_PINGPONG;
	snprintf(b.port, sizeof(b.port), "8");
	CHECK(result_merge(&out, in, 2, why, sizeof(why)) < 0 && strstr(why, "different targets") != NULL);
	snprintf(b.port, sizeof(b.port), "7");
	b.set.rate = 100;
	CHECK(result_merge(&out, in, 2, why, sizeof(why)) < 0 && strstr(why, "--rate") != NULL);
	b.set.rate = 0;
	b.err.corrupt = 1;
	b.status = result_status(&b);
	CHECK(result_merge(&out, in, 2, why, sizeof(why)) == 0 && out.status == 1);
}

void
unit_bench(void)
{
	test_layout();
	test_stats();
	test_pace();
	test_merge_percentiles();
	test_merge_refusals();
}
