/* bench: unit tests of mpecho-bench's latency histogram. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "stats.h"

static void
test_stats(void)
{
	static struct stats st, other;
	uint64_t v, q;
	int i;

	stats_init(&st);
	CHECK(stats_quantile(&st, 0.5) == 0);
	for (v = 1; v <= 1000; v++)
		stats_add(&st, v);
	CHECK(st.count == 1000 && st.min == 1 && st.max == 1000 && st.sum == 500500);
	q = stats_quantile(&st, 0.5);
	CHECK(q >= 500 && q <= 500 * 1.02);
	q = stats_quantile(&st, 0.99);
	CHECK(q >= 990 && q <= 990 * 1.02);
	CHECK(stats_quantile(&st, 1.0) == 1000);
	CHECK(stats_quantile(&st, 0.0) == 1);
	/* Precision across the range: every quantile is an upper bound within 1/64. */
	stats_init(&other);
	for (i = 0; i < 40; i++)
		stats_add(&other, (uint64_t)1 << i);
	for (i = 0; i < 40; i++) {
		q = stats_quantile(&other, (i + 0.5) / 40.0);
		CHECK(q >= ((uint64_t)1 << i) && q <= ((uint64_t)1 << i) + ((uint64_t)1 << i) / 64);
	}
	stats_add(&other, (uint64_t)1 << 50);	/* beyond the range: counted, max exact */
	CHECK(stats_quantile(&other, 1.0) == (uint64_t)1 << 50);
	stats_merge(&st, &other);
	CHECK(st.count == 1041 && st.max == (uint64_t)1 << 50 && st.min == 1);
}

void
unit_bench(void)
{
	test_stats();
}
