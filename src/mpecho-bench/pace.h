/*
 * pace: --rate, an open loop paced as wrk2 paces it. Each connection's k-th
 * operation is due at a fixed time (the connections evenly out of phase); one
 * that comes due while its connection is still busy starts as soon as it is
 * free, and its latency counts from when it was due, so a server that stalls
 * shows in the figures instead of slowing the load (coordinated omission).
 */
#ifndef MPECHO_BENCH_PACE_H
#define MPECHO_BENCH_PACE_H

#include <stdint.h>

struct pace_slot {
	int64_t due;			/* ns, clock_ns() */
	int id;				/* the connection's index in its thread */
};

/* The connections waiting for their time, earliest first (a binary heap). */
struct pace {
	struct pace_slot *heap;
	int *pos;			/* by connection: its place in the heap, or -1 */
	int n, cap;
};

/* Room for connections 0 .. cap-1: 0, or -1 with errno. */
int pace_init(struct pace *p, int cap);
void pace_free(struct pace *p);

/* When operation k of connection id (of conns in all) is due, the load having begun at epoch. */
int64_t pace_due(int64_t epoch, double rate, int conns, unsigned id, uint64_t k);

/* Connection id waits until due (each waits at most once at a time): 0, or -1 if full. */
int pace_push(struct pace *p, int id, int64_t due);

/* Connection id no longer waits (it closed meanwhile). */
void pace_remove(struct pace *p, int id);

/* A connection whose time has come by now (taken off), or -1. */
int pace_pop(struct pace *p, int64_t now);

/* The earliest time a connection waits for, or INT64_MAX if none waits. */
int64_t pace_next(const struct pace *p);

#endif
