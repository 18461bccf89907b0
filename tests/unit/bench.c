/* bench: unit tests of mpecho-bench's latency histogram. */
#include <stdint.h>

#include "unit.h"

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
}

void
unit_bench(void)
{
	test_layout();
	test_stats();
}
