/*
 * tally: what the server has served, the figures of the status line, the
 * metrics and /status.json: sessions ended (by reason and duration), bytes,
 * refusals, checks. The supervisor keeps the ended sessions' part; a model adds
 * what its live children hold (model.h's tally).
 */
#ifndef MPECHO_TALLY_H
#define MPECHO_TALLY_H

#include <stdint.h>

#include "admission.h"
#include "end.h"
#include "session.h"

/* Figures of the status line and the metrics. */
struct tally {
	int sessions;			/* live now */
	int workers;			/* prefork: workers now; -1 when the model has none */
	uint64_t served;		/* sessions that ended */
	uint64_t bytes_in, bytes_out;
	uint64_t refused[REFUSAL_COUNT];	/* connections refused, by reason */
	uint64_t checks;		/* balancer health checks */
	uint64_t ended[END_REASONS];	/* sessions that ended, by reason (end.h) */
	uint64_t duration[END_BUCKETS];	/* and by duration bucket */
	uint64_t duration_ms;		/* their durations summed */
	uint64_t fork_failures, accept_pauses, workers_started;
};

/*
 * Count one connection that ended (reason END_*, or END_KILLED): a session in
 * the tally, a health check found at its end among *checks only.
 */
void tally_end(struct tally *t, uint64_t *checks, enum session_kind kind, int reason, int64_t ms);

/* Refusals of every reason, summed. */
uint64_t tally_refused(const struct tally *t);

#endif
