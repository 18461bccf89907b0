/* prefork: the worker-pool model. Each worker accepts and serves one connection at a time. */
#ifndef MPECHO_PREFORK_H
#define MPECHO_PREFORK_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "session.h"

struct config;
struct listeners;
struct session_params;

enum worker_state { WORKER_STARTING, WORKER_IDLE, WORKER_BUSY };

/* One worker's line of the scoreboard, in memory shared with the supervisor. */
struct worker_board {
	int state;			/* enum worker_state, stored by the worker */
	int64_t session_start_ms;	/* of the session it is serving (monotonic) */
	char peer[NET_ADDRSTRLEN];	/* of that session, for the supervisor if the worker dies */
	uint64_t sessions;		/* sessions it served */
	uint64_t bytes_in, bytes_out;	/* of its ended sessions */
	struct stream_counters cur;	/* the session it is serving */
};

/* Counters every worker adds to. */
struct prefork_totals {
	int busy;			/* workers serving a connection now, for log lines */
	uint64_t refused_acl;
};

/*
 * The pool's next step (Apache prefork semantics, at most cfg->max_conns
 * workers): > 0 start that many workers; -1 retire one idle worker; 0 nothing.
 */
int prefork_plan(int idle, int total, const struct config *cfg);

/*
 * A worker's life: accept on the listeners, serve one connection at a time,
 * until SIGUSR1 (leave after the current session) or --max-requests sessions.
 * SIGHUP reopens the log file. Never returns: _exit(0), or 1 if it cannot work.
 */
void prefork_worker(const struct config *cfg, const struct session_params *params,
    const struct listeners *ls,
    struct worker_board *me, struct prefork_totals *tot) __attribute__((noreturn));

#endif
