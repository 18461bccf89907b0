/*
 * worker: a prefork worker, the pool's child. It accepts on the shared
 * listeners and serves one connection at a time, and publishes what it does
 * on its line of the scoreboard, which the supervisor reads to size the pool.
 */
#ifndef MPECHO_WORKER_H
#define MPECHO_WORKER_H

#include <signal.h>
#include <stdint.h>

#include "admission.h"
#include "end.h"
#include "listener.h"
#include "net.h"
#include "stream.h"

struct acl;
struct acl_shared;
struct listeners;
struct session_params;

enum worker_state { WORKER_STARTING, WORKER_IDLE, WORKER_BUSY };

/* One worker's line of the scoreboard, in memory shared with the supervisor. */
struct worker_board {
	int state;			/* enum worker_state, stored by the worker */
	int64_t session_start_ms;	/* of the session it is serving (monotonic) */
	char peer[PEER_TEXT_MAX];	/* "peer=... [via=...]" of that session, for the supervisor if the worker dies */
	bool check;			/* that session is a balancer's health check */
	struct net_addr addr;		/* its client's address (family 0: on a Unix socket) */
	uint64_t sessions;		/* sessions it served */
	uint64_t bytes_in, bytes_out;	/* of its ended sessions */
	struct stream_counters cur;	/* the session it is serving */
};

/* Counters every worker adds to, shared. */
struct worker_totals {
	int busy;			/* workers serving a connection now, for log lines */
	uint64_t refused[REFUSAL_COUNT];	/* connections workers refused, by reason */
	uint64_t checks;		/* balancer health checks */
	uint64_t ended[END_REASONS];	/* sessions workers served, by how they ended */
	uint64_t duration[END_BUCKETS];	/* and by duration bucket (end.h) */
	uint64_t duration_ms;
	uint64_t accept_pauses;
	uint64_t at_limit;		/* sessions begun with -c live (model_prefork.c logs them) */
};

/* What a worker is given. */
struct worker_job {
	const struct listeners *ls;
	const struct session_params *session;
	const struct acl_shared *rules;	/* the access rules in force */
	const struct acl *proxy_from;	/* who may send a PROXY header */
	int proxy_timeout_ms;		/* how long a PROXY header may take */
	int max_requests;		/* sessions before it leaves; 0: no limit */
	int max_conns;			/* -c */
	struct worker_totals *totals;
	pid_t supervisor;		/* the parent: another one means it died */
};

/*
 * A worker's life, in the child the pool forked (after child_begin(), with
 * worker_signals() blocked): accept and serve one connection at a time
 * until SIGUSR1 (leave after the current session), --max-requests sessions,
 * the supervisor's death, or the listeners shut down. SIGHUP reopens the log
 * file. The signals are read from a signalfd in the same epoll set as the
 * listeners, so none is missed between a check and a wait. The supervisor's
 * death (SESSION_ORPHAN_SIGNAL) is also taken while a session runs, by
 * session_watch_orphan()'s handler: the session in hand gets --grace, and the
 * worker leaves after it. gate: -1, or the supervisor's, which turns readable
 * once the server said "ready"; no connection is taken before. Never returns:
 * _exit(0), or 1 if it cannot work.
 */
void worker_run(const struct worker_job *job, struct worker_board *me, int gate)
    __attribute__((noreturn));

/* The signals a worker reads from its signalfd (blocked from its fork on): SIGUSR1, SIGHUP, SIGUSR2. */
void worker_signals(sigset_t *set);

#endif
