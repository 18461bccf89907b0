/* clock: monotonic time for deadlines and durations (never the wall clock, which can jump). */
#ifndef MPECHO_CLOCK_H
#define MPECHO_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t
clock_ms(void)
{
	return clock_ns() / 1000000;
}

#endif
