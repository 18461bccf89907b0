/* limits: per-source admission: live sessions per client address, and a connection rate. */
#ifndef MPECHO_LIMITS_H
#define MPECHO_LIMITS_H

#include <stdint.h>

#include "net.h"

enum limits_verdict {
	LIMITS_OK,
	LIMITS_PER_SOURCE,	/* that address already has max_per_source live sessions */
	LIMITS_RATE		/* that address opened connections faster than the rate */
};

struct limits;

/*
 * A table for at most `sources` addresses at once. max_per_source 0 means no
 * limit; rate 0 means no rate limit, else a token bucket per address that
 * refills `rate` tokens a second and holds up to `rate` (a one-second burst).
 * NULL with errno on failure.
 */
struct limits *limits_new(int sources, int max_per_source, int rate);
void limits_free(struct limits *l);

/*
 * The same, in memory shared with the children forked later (mem_shared()):
 * the loop model's workers share one table, under a lock of their own.
 */
struct limits *limits_new_shared(int sources, int max_per_source, int rate);

/* Forget every live count; the rate buckets stay (the loop model: a worker died with its sessions). */
void limits_clear_live(struct limits *l);

/* Count one more live session for addr, judging nothing (the counts given back after a clear). */
void limits_hold(struct limits *l, const struct net_addr *addr, int64_t now_ms);

/* Admit a new connection from addr at time now_ms (monotonic); on LIMITS_OK it counts as live. */
enum limits_verdict limits_admit(struct limits *l, const struct net_addr *addr, int64_t now_ms);

/* A live session from addr ended. */
void limits_release(struct limits *l, const struct net_addr *addr);

/* Live sessions counted for addr (for tests and status). */
int limits_live(const struct limits *l, const struct net_addr *addr);

#endif
