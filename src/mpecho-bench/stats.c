/* stats: a log-linear latency histogram. */
#include "stats.h"

#include <string.h>

void
stats_init(struct stats *st)
{
	memset(st, 0, sizeof(*st));
	st->min = UINT64_MAX;
}

/* Values below STATS_SUB are exact; above, each power of two has STATS_SUB buckets. */
static unsigned
bucket_of(uint64_t v)
{
	unsigned e;

	if (v < STATS_SUB)
		return (unsigned)v;
	if (v >= (uint64_t)1 << STATS_MAX_EXP)
		return STATS_BUCKETS - 1;
	e = 63u - (unsigned)__builtin_clzll(v);		/* v in [2^e, 2^(e+1)) */
	return (e - STATS_SUB_BITS + 1) * STATS_SUB +
	    (unsigned)((v >> (e - STATS_SUB_BITS)) & (STATS_SUB - 1));
}

/* The largest value that falls in bucket b. */
static uint64_t
bucket_top(unsigned b)
{
	unsigned e;

	if (b < STATS_SUB)
		return b;
	e = b / STATS_SUB + STATS_SUB_BITS - 1;
	return ((uint64_t)(STATS_SUB + b % STATS_SUB + 1) << (e - STATS_SUB_BITS)) - 1;
}

void
stats_add(struct stats *st, uint64_t value)
{
	st->count++;
	st->sum += value;
	if (value < st->min)
		st->min = value;
	if (value > st->max)
		st->max = value;
	st->buckets[bucket_of(value)]++;
}

void
stats_merge(struct stats *dst, const struct stats *src)
{
	unsigned i;

	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (i = 0; i < STATS_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

uint64_t
stats_quantile(const struct stats *st, double q)
{
	uint64_t rank, seen = 0, top;
	unsigned i;

	if (st->count == 0)
		return 0;
	if (q >= 1.0)
		return st->max;
	rank = (uint64_t)(q * (double)st->count);
	if (rank >= st->count)
		rank = st->count - 1;
	for (i = 0; i < STATS_BUCKETS; i++) {
		seen += st->buckets[i];
		if (seen > rank) {
			top = bucket_top(i);
			return top < st->max ? top : st->max;
		}
	}
	return st->max;
}
