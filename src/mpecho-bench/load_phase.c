/*
 * load_phase: the run's clock shared by the threads: the phase (warm-up,
 * measured, drain), the epoch --rate counts from, and the end of the measured
 * part, marked once by whoever reaches it first (the main thread at the
 * duration, a load thread at --count), which wakes the main thread at once.
 */
#include "bench.h"

#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* An enum phase: written by the main thread (and the thread reaching --count), read by all. */
static int phase;
static int64_t epoch;			/* ns: when the load began */
static int64_t measure_end;		/* ns: when the measured part ended; 0 while it goes on */
static uint64_t measured_ops;		/* summed over threads, for --count */
static int wake_fd = -1;		/* readable once the measured part has ended */

enum phase
load_phase(void)
{
	return (enum phase)__atomic_load_n(&phase, __ATOMIC_RELAXED);
}

void
load_set_phase(enum phase p)
{
	__atomic_store_n(&phase, (int)p, __ATOMIC_RELAXED);
}

int
load_begin(int64_t start)
{
	epoch = start;
	if (wake_fd < 0)
		wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return wake_fd;
}

int64_t
load_epoch(void)
{
	return epoch;
}

int64_t
load_end_measure(int64_t now)
{
	int64_t none = 0;
	uint64_t one = 1;

	if (__atomic_compare_exchange_n(&measure_end, &none, now, false, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE)) {
		load_set_phase(PHASE_DRAIN);
		if (wake_fd >= 0 && write(wake_fd, &one, sizeof(one)) < 0)
			return now;	/* it cannot fail: the counter is far from full */
		return now;
	}
	return none;		/* the value stored first */
}

bool
load_count_reached(uint64_t count)
{
	return count > 0 && __atomic_add_fetch(&measured_ops, 1, __ATOMIC_RELAXED) >= count;
}
