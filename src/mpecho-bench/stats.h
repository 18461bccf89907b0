/* stats: a latency histogram for mpecho-bench, log-linear (HDR-style): ~1.6% precision, fixed size. */
#ifndef MPECHO_STATS_H
#define MPECHO_STATS_H

#include <stdint.h>

#define STATS_SUB_BITS 6			/* 64 linear sub-buckets per power of two */
#define STATS_SUB (1u << STATS_SUB_BITS)
#define STATS_MAX_EXP 40			/* values up to 2^40 ns (about 18 minutes) */
#define STATS_BUCKETS ((STATS_MAX_EXP - STATS_SUB_BITS + 2) * STATS_SUB)

struct stats {
	uint64_t count;
	uint64_t sum;
	uint64_t min, max;
	uint64_t buckets[STATS_BUCKETS];
};

void stats_init(struct stats *st);
void stats_add(struct stats *st, uint64_t value);

/* Add every sample of src to dst. */
void stats_merge(struct stats *dst, const struct stats *src);

/* The value at quantile q (0..1): an upper bound within the bucket's precision; 0 if empty. */
uint64_t stats_quantile(const struct stats *st, double q);

#endif
