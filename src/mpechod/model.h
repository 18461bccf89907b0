/*
 * model: how connections become processes. model_fork.c forks a session
 * per connection the supervisor accepts; model_prefork.c keeps a pool of
 * workers that accept on their own; model_loop.c a few workers, each an
 * epoll loop serving many connections. The supervisor's loop knows a model
 * only through these operations: a new model is a new file, not an `if`.
 */
#ifndef MPECHO_MODEL_H
#define MPECHO_MODEL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct acl_shared;
struct admission;
struct child_env;
struct config;
struct listeners;
struct metrics_text;
struct net_addr;
struct peer;
struct proctab;
struct session_params;
struct status_worker;
struct tally;

enum model_event {
	MODEL_REOPEN,		/* SIGHUP: the log file was reopened; children reopen theirs */
	MODEL_DRAIN,		/* the listeners are shut: children finish what they serve */
	MODEL_RENEW		/* SIGHUP loaded new TLS credentials: children that hold the old go */
};

/*
 * What a model is given of the supervisor's, and all it is given: the
 * configuration, what every session gets, what every child drops, the
 * listeners (workers that accept on their own keep them), the process table
 * it fills, the tally it adds what ended to, admission (per-source counts
 * given back, health checks counted). The supervisor keeps the rest: its
 * signals, stop stages, endpoints, pidfile, privileged helper.
 */
struct model_env {
	const struct config *cfg;
	const struct session_params *session;
	const struct child_env *child;
	const struct listeners *ls;
	struct proctab *tab;
	struct tally *ended;		/* what ended children served and moved */
	struct admission *adm;
	const struct acl_shared *rules;	/* the access rules in force (workers follow them) */
	bool draining;			/* the drain began: no new workers, no respawn */
	int gate;			/* -1, or workers forked now wait until it is readable (ready logged) */
	void *data;			/* the model's own state (start() sets it, stop() frees it) */
	char words[96];			/* what the model adds to the start line (" workers=2"), or "" */
};

struct model {
	const char *name;
	/* Before ready: set up (shared memory, the first workers). 0, or -1 with errno. */
	int (*start)(struct model_env *env);
	/* The children it may have at once (the process table); NULL: -c. */
	int (*children)(const struct config *cfg);
	/*
	 * A connection the supervisor accepted and admitted: serve it; fd is the
	 * model's. NULL for a model whose workers accept on their own: the
	 * supervisor then never polls the listeners.
	 */
	void (*serve)(struct model_env *env, int fd, const struct peer *peer);
	/* A child of the model was reaped; slot is its table slot (now free, still readable). */
	void (*reaped)(struct model_env *env, int slot, pid_t pid, int wstatus);
	/* Work on a timer: returns when to be called next (INT64_MAX: no timer). */
	int64_t (*tick)(struct model_env *env, int64_t now_ms);
	/* Add what the live children hold (sessions, bytes) to a status tally. */
	void (*tally)(const struct model_env *env, struct tally *t);
	/*
	 * The client addresses of the live sessions (at most max, health checks
	 * and Unix-socket clients left out) into out; returns how many.
	 */
	int (*peers)(const struct model_env *env, struct net_addr *out, int max);
	/* Lines of its own for /metrics (NULL: none). */
	void (*metrics)(const struct model_env *env, struct metrics_text *t);
	/*
	 * The workers, for the status page (at most max into out, in slot order);
	 * returns how many. NULL for a model without workers (fork).
	 */
	int (*workers)(const struct model_env *env, struct status_worker *out, int max);
	/* Tell the children about an event. */
	void (*notify)(struct model_env *env, enum model_event ev);
	/* Release what start() set up. */
	void (*stop)(struct model_env *env);
};

extern const struct model model_fork, model_prefork, model_loop;

/*
 * A worker of a pool model (prefork, loop) into slot, claimed from env->tab.
 * The child keeps the listeners, keeps signals blocked (the worker reads them
 * from its signalfd), drops what child_begin() drops, is sent orphan_signal
 * (one of signals) if the supervisor dies, and gets 0. The supervisor gets
 * the pid, the worker recorded in the table and counted; or -1 (fork failed:
 * logged, counted, the slot given back).
 */
pid_t model_worker_fork(struct model_env *env, int slot, const sigset_t *signals, int orphan_signal);

/* The next signal a worker's signalfd (non-blocking) holds: true, or false when none. */
struct signalfd_siginfo;
bool model_worker_signal(int sigfd, struct signalfd_siginfo *si);

/*
 * A pool's guard against workers that die young again and again (a crash at
 * start), which must not make the supervisor fork in a loop.
 */
struct model_respawn {
	int64_t hold_ms;	/* no new worker before then */
	int64_t backoff_ms;	/* the last hold */
	int64_t window_ms;	/* when the count of fast failures began */
	int fails;		/* fast failures in that window */
};

/*
 * A worker failed (a signal, or a status other than 0) at age ms: after
 * MODEL_FAST_FAILS such failures younger than MODEL_FAST_FAIL_MS within
 * MODEL_FAIL_WINDOW_MS, respawning waits 1 s, 2 s, 4 s ... up to 60 s, and
 * each hold is logged (respawn-throttled).
 */
void model_worker_failed(struct model_respawn *r, int64_t age, int64_t now);

/*
 * The limit line of a pool: hits is how many sessions its workers began with
 * -c sessions live (each counts it in shared memory); those since *seen make
 * one line a second, the rest are held and summed up (limit-held). Called on
 * the supervisor's tick.
 */
struct log_throttle;
void model_limit_lines(struct log_throttle *t, uint64_t *seen, uint64_t hits, int max_conns,
    int64_t now);

/*
 * The prefork pool's next step, pure (Apache prefork rules, at most
 * cfg->max_conns workers): > 0 start that many workers; -1 retire one idle
 * worker; 0 nothing.
 */
int prefork_plan(int idle, int total, const struct config *cfg);

#endif
