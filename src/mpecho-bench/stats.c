/* stats: a log-linear latency histogram (HdrHistogram's layout at two significant digits). */
#include "stats.h"

#include <string.h>

#define LAST (STATS_BUCKETS - 1)		/* the bucket beyond the range */

void
stats_init(struct stats *st)
{
	memset(st, 0, sizeof(*st));
	st->min = UINT64_MAX;
}

/* Values below STATS_SUB are exact; above, each power of two has STATS_SUB buckets. */
unsigned
stats_bucket_of(uint64_t v)
{
	unsigned e;

	if (v < STATS_SUB)
		return (unsigned)v;
	if (v >= (uint64_t)1 << STATS_MAX_EXP)
		return LAST;
	e = 63u - (unsigned)__builtin_clzll(v);		/* v in [2^e, 2^(e+1)) */
	return (e - STATS_SUB_BITS + 1) * STATS_SUB +
	    (unsigned)((v >> (e - STATS_SUB_BITS)) & (STATS_SUB - 1));
}

uint64_t
stats_bucket_low(unsigned b)
{
	unsigned e;

	if (b < STATS_SUB)
		return b;
	if (b >= LAST)
		return (uint64_t)1 << STATS_MAX_EXP;
	e = b / STATS_SUB + STATS_SUB_BITS - 1;
	return (uint64_t)(STATS_SUB + b % STATS_SUB) << (e - STATS_SUB_BITS);
}

uint64_t
stats_bucket_high(unsigned b)
{
	return b >= LAST ? UINT64_MAX : stats_bucket_low(b + 1) - 1;
}

/* The one writer's store: atomic, so that a reader never sees half a value. */
static void
put(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

void
stats_add(struct stats *st, uint64_t value)
{
	unsigned b = stats_bucket_of(value);

	put(&st->buckets[b], st->buckets[b] + 1);
	put(&st->sum, st->sum + value);
	if (value < st->min)
		put(&st->min, value);
	if (value > st->max)
		put(&st->max, value);
	put(&st->count, st->count + 1);
}

void
stats_copy(struct stats *dst, const struct stats *src)
{
	unsigned i;

	dst->count = __atomic_load_n(&src->count, __ATOMIC_RELAXED);
	dst->sum = __atomic_load_n(&src->sum, __ATOMIC_RELAXED);
	dst->min = __atomic_load_n(&src->min, __ATOMIC_RELAXED);
	dst->max = __atomic_load_n(&src->max, __ATOMIC_RELAXED);
	for (i = 0; i < STATS_BUCKETS; i++)
		dst->buckets[i] = __atomic_load_n(&src->buckets[i], __ATOMIC_RELAXED);
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

/*
 * v, or the nearest value of bucket i: a copy taken while a thread records is
 * not one instant (its min and max may be from before a sample its buckets
 * hold), and an interval's extremes are in the buckets its samples are in.
 */
static uint64_t
stats_within(uint64_t v, unsigned i)
{
	uint64_t low = stats_bucket_low(i), high = stats_bucket_high(i);

	return v < low ? low : v > high ? high : v;
}

void
stats_since(struct stats *out, const struct stats *now, const struct stats *before)
{
	unsigned i;

	stats_init(out);
	out->sum = now->sum - before->sum;
	for (i = 0; i < STATS_BUCKETS; i++) {
		out->buckets[i] = now->buckets[i] - before->buckets[i];
		out->count += out->buckets[i];
		if (out->buckets[i] == 0)
			continue;
		if (out->min == UINT64_MAX)
			out->min = stats_within(now->min, i);
		out->max = stats_within(now->max, i);
	}
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
			top = stats_bucket_high(i);
			return top < st->max ? top : st->max;
		}
	}
	return st->max;
}
