/*
 * stats: mpecho-bench's latency histogram, log-linear like HdrHistogram's at
 * two significant digits: every value within 1/128 (0.8%), fixed size, exact
 * counts. One thread adds to a histogram; others may read it meanwhile.
 */
#ifndef MPECHO_STATS_H
#define MPECHO_STATS_H

#include <stdint.h>

#define STATS_SUB_BITS 7			/* 128 linear buckets per power of two */
#define STATS_SUB (1u << STATS_SUB_BITS)
#define STATS_MAX_EXP 42			/* values up to 2^42 ns (73 minutes) ... */
#define STATS_BUCKETS ((STATS_MAX_EXP - STATS_SUB_BITS + 1) * STATS_SUB + 1)	/* ... then one more */

struct stats {
	uint64_t count;
	uint64_t sum;
	uint64_t min, max;
	uint64_t buckets[STATS_BUCKETS];
};

void stats_init(struct stats *st);

/*
 * Add a value. Only one thread adds to a histogram; its stores are atomic, so
 * another thread may take a copy meanwhile (stats_copy()).
 */
void stats_add(struct stats *st, uint64_t value);

/* A copy of a histogram another thread is adding to (each field read atomically). */
void stats_copy(struct stats *dst, const struct stats *src);

/* Add every sample of src to dst. */
void stats_merge(struct stats *dst, const struct stats *src);

/*
 * The samples added to now since the copy `before` was taken. Its min and
 * max are those of the buckets that hold them (within a bucket's precision).
 */
void stats_since(struct stats *out, const struct stats *now, const struct stats *before);

/* The value at quantile q (0..1): an upper bound within the bucket's precision; 0 if empty. */
uint64_t stats_quantile(const struct stats *st, double q);

/*
 * The layout: the bucket a value falls in, and the lowest and highest values
 * of a bucket (the last one holds everything from 2^STATS_MAX_EXP up).
 */
unsigned stats_bucket_of(uint64_t value);
uint64_t stats_bucket_low(unsigned b);
uint64_t stats_bucket_high(unsigned b);

#endif
