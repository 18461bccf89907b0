/*
 * model_prefork: a pool of workers that each accept on the shared listeners
 * and serve one connection at a time (worker.c). The supervisor only sizes
 * the pool from the scoreboard, replaces dead workers, and holds respawns
 * when workers die young in a loop.
 */
#include "model.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admission.h"
#include "child.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "options.h"
#include "proctab.h"
#include "session.h"
#include "status.h"
#include "tally.h"
#include "worker.h"

#define SPAWN_MAX 32		/* workers started in one step at most */
#define MAINTAIN_MS 100		/* the pool is sized this often */

struct pool {
	struct worker_board *board;	/* a line per slot, shared with the workers */
	struct worker_totals *totals;	/* shared with the workers */
	bool *retiring;			/* by slot: told to leave (SIGUSR1) */
	struct worker_job job;
	int64_t maintain_ms;		/* next pool check */
	struct model_respawn respawn;	/* no new worker before its hold_ms (crash loop) */
	uint64_t at_limit_seen;		/* totals->at_limit already logged or held */
	struct log_throttle limit_log;	/* the limit line: at most once a second */
};

int
prefork_plan(int idle, int total, const struct config *cfg)
{
	int want;

	if (idle < cfg->min_spare && total < cfg->max_conns) {
		want = cfg->min_spare - idle;
		if (want > cfg->max_conns - total)
			want = cfg->max_conns - total;
		return want > SPAWN_MAX ? SPAWN_MAX : want;
	}
	if (idle > cfg->max_spare)
		return -1;
	return 0;
}

static void
pool_spawn(struct model_env *env, struct pool *p)
{
	int slot = proctab_claim(env->tab);
	sigset_t signals;
	pid_t pid;

	memset(&p->board[slot], 0, sizeof(p->board[slot]));
	p->retiring[slot] = false;
	worker_signals(&signals);
	if ((pid = model_worker_fork(env, slot, &signals, SESSION_ORPHAN_SIGNAL)) == 0)
		worker_run(&p->job, &p->board[slot], env->gate);
	if (pid < 0)
		p->respawn.hold_ms = clock_ms() + LISTENER_PAUSE_MS;
}

static int
pool_start(struct model_env *env)
{
	size_t n = (size_t)env->cfg->max_conns;
	struct pool *p = calloc(1, sizeof(*p));
	int i;

	if (p == NULL)
		return -1;
	env->data = p;
	p->limit_log.max = 1;
	p->board = mem_shared(n * sizeof(*p->board));
	p->totals = mem_shared(sizeof(*p->totals));
	p->retiring = mem_private(n * sizeof(*p->retiring));
	if (p->board == NULL || p->totals == NULL || p->retiring == NULL)
		return -1;
	p->job = (struct worker_job){ .ls = env->ls, .session = env->session, .rules = env->rules,
	    .proxy_from = &env->cfg->proxy_from, .proxy_timeout_ms = env->cfg->proxy_timeout * 1000,
	    .max_requests = env->cfg->max_requests, .max_conns = env->cfg->max_conns,
	    .totals = p->totals, .supervisor = getpid() };
	session_watch_orphan(env->cfg->grace);	/* an orphan's session in hand: --grace, as in fork */
	for (i = 0; i < env->cfg->start_workers; i++)
		pool_spawn(env, p);
	return 0;
}

static void
pool_stop(struct model_env *env)
{
	struct pool *p = env->data;
	size_t n = (size_t)env->cfg->max_conns;

	mem_free(p->board, n * sizeof(*p->board));
	mem_free(p->totals, sizeof(*p->totals));
	mem_free(p->retiring, n * sizeof(*p->retiring));
	free(p);
	env->data = NULL;
}

/* A worker that died while serving: that session's end line is the supervisor's to write. */
static void
pool_log_lost_session(struct model_env *env, struct pool *p, int slot, pid_t pid, int wstatus,
    int64_t now)
{
	const struct worker_board *b = &p->board[slot];
	enum session_kind kind = session_kind(b->check, &b->cur);
	char how[64];

	__atomic_sub_fetch(&p->totals->busy, 1, __ATOMIC_RELAXED);
	session_log_end(b->peer, kind, (long)pid, end_describe(wstatus, how, sizeof(how)),
	    b->cur.bytes_in, b->cur.bytes_out, now - b->session_start_ms, p->totals->busy);
	tally_end(env->ended, &env->adm->checks, kind, END_KILLED, now - b->session_start_ms);
}

static void
pool_reaped(struct model_env *env, int slot, pid_t pid, int wstatus)
{
	struct pool *p = env->data;
	const struct worker_board *b = &p->board[slot];
	int64_t now = clock_ms(), age = now - env->tab->slots[slot].start_ms;
	bool failed = !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0;
	char how[64];

	if (__atomic_load_n(&b->state, __ATOMIC_RELAXED) == WORKER_BUSY)
		pool_log_lost_session(env, p, slot, pid, wstatus, now);
	env->ended->served += b->sessions;
	env->ended->bytes_in += b->bytes_in + b->cur.bytes_in;
	env->ended->bytes_out += b->bytes_out + b->cur.bytes_out;
	log_msg(failed ? LOG_LVL_WARN : LOG_LVL_DEBUG, "event=worker-exit pid=%ld %s sessions=%llu age=%lld.%03lld workers=%d",
	    (long)pid, end_wait_text(wstatus, how, sizeof(how)), (unsigned long long)b->sessions, (long long)(age / 1000),
	    (long long)(age % 1000), env->tab->live);
	if (failed && !env->draining)
		model_worker_failed(&p->respawn, age, now);
	p->maintain_ms = now;	/* replace it at once (unless respawning is held) */
}

/* Idle workers not yet told to leave; *victim becomes one of them that may retire, or stays -1. */
static int
pool_idle(const struct model_env *env, const struct pool *p, int *victim)
{
	int i, idle = 0, state;

	*victim = -1;
	for (i = 0; i < env->tab->size; i++) {
		if (env->tab->slots[i].pid <= 0 || p->retiring[i])
			continue;
		state = __atomic_load_n(&p->board[i].state, __ATOMIC_RELAXED);
		if (state != WORKER_BUSY) {
			idle++;
			if (state == WORKER_IDLE)
				*victim = i;
		}
	}
	return idle;
}

/* Size the pool: start workers while too few are idle, retire one while too many are. */
static void
pool_maintain(struct model_env *env, struct pool *p, int64_t now)
{
	int idle, plan, victim;

	p->maintain_ms = now + MAINTAIN_MS;
	idle = pool_idle(env, p, &victim);
	model_limit_lines(&p->limit_log, &p->at_limit_seen, __atomic_load_n(&p->totals->at_limit,
	    __ATOMIC_RELAXED), env->cfg->max_conns, now);
	plan = prefork_plan(idle, env->tab->live, env->cfg);
	if (plan > 0 && now >= p->respawn.hold_ms) {
		while (plan-- > 0)
			pool_spawn(env, p);
	} else if (plan < 0 && victim >= 0) {
		p->retiring[victim] = true;
		kill(env->tab->slots[victim].pid, SIGUSR1);	/* it leaves now, or after a connection it just took */
	}
}

static int64_t
pool_tick(struct model_env *env, int64_t now_ms)
{
	struct pool *p = env->data;

	if (env->draining)
		return INT64_MAX;
	if (now_ms >= p->maintain_ms)
		pool_maintain(env, p, now_ms);
	return p->maintain_ms;
}

static void
pool_tally(const struct model_env *env, struct tally *t)
{
	const struct pool *p = env->data;
	const struct worker_board *b;
	int i;

	for (i = 0; i < env->tab->size; i++) {
		if (env->tab->slots[i].pid <= 0)
			continue;
		b = &p->board[i];
		t->bytes_in += __atomic_load_n(&b->bytes_in, __ATOMIC_RELAXED) +
		    __atomic_load_n(&b->cur.bytes_in, __ATOMIC_RELAXED);
		t->bytes_out += __atomic_load_n(&b->bytes_out, __ATOMIC_RELAXED) +
		    __atomic_load_n(&b->cur.bytes_out, __ATOMIC_RELAXED);
		t->served += __atomic_load_n(&b->sessions, __ATOMIC_RELAXED);
		if (__atomic_load_n(&b->state, __ATOMIC_RELAXED) == WORKER_BUSY)
			t->sessions++;
	}
	t->workers = env->tab->live;
	for (i = 0; i < REFUSAL_COUNT; i++)
		t->refused[i] += __atomic_load_n(&p->totals->refused[i], __ATOMIC_RELAXED);
	t->checks += __atomic_load_n(&p->totals->checks, __ATOMIC_RELAXED);
	for (i = 0; i < END_REASONS; i++)
		t->ended[i] += __atomic_load_n(&p->totals->ended[i], __ATOMIC_RELAXED);
	for (i = 0; i < END_BUCKETS; i++)
		t->duration[i] += __atomic_load_n(&p->totals->duration[i], __ATOMIC_RELAXED);
	t->duration_ms += __atomic_load_n(&p->totals->duration_ms, __ATOMIC_RELAXED);
	t->accept_pauses += __atomic_load_n(&p->totals->accept_pauses, __ATOMIC_RELAXED);
}

static int
pool_peers(const struct model_env *env, struct net_addr *out, int max)
{
	const struct pool *p = env->data;
	const struct worker_board *b;
	int i, n = 0;

	for (i = 0; i < env->tab->size && n < max; i++) {
		b = &p->board[i];
		if (env->tab->slots[i].pid > 0 && __atomic_load_n(&b->state, __ATOMIC_RELAXED) == WORKER_BUSY &&
		    b->addr.family != 0 && !b->check)
			out[n++] = b->addr;
	}
	return n;
}

static int
pool_workers(const struct model_env *env, struct status_worker *out, int max)
{
	static const char *const names[] = { [WORKER_STARTING] = "starting", [WORKER_IDLE] = "idle",
	    [WORKER_BUSY] = "busy" };
	const struct pool *p = env->data;
	int i, n = 0, state;

	for (i = 0; i < env->tab->size && n < max; i++) {
		if (env->tab->slots[i].pid <= 0)
			continue;
		state = __atomic_load_n(&p->board[i].state, __ATOMIC_RELAXED);
		out[n] = (struct status_worker){ .pid = (long)env->tab->slots[i].pid,
		    .connections = state == WORKER_BUSY,
		    .served = __atomic_load_n(&p->board[i].sessions, __ATOMIC_RELAXED) };
		snprintf(out[n++].state, sizeof(out->state), "%s", p->retiring[i] && state != WORKER_BUSY ?
		    "leaving" : state >= 0 && state <= WORKER_BUSY ? names[state] : "?");
	}
	return n;
}

/*
 * Workers reopen the log file too; in a drain they leave after the session
 * they serve. New TLS credentials: every worker is retired the same way (it
 * leaves once idle) and new ones, forked with the new credentials, take over.
 */
static void
pool_notify(struct model_env *env, enum model_event ev)
{
	struct pool *p = env->data;
	int i;

	if (ev == MODEL_RENEW) {
		for (i = 0; i < env->tab->size; i++)
			if (env->tab->slots[i].pid > 0)
				p->retiring[i] = true;
		p->maintain_ms = 0;	/* replacements at the next tick */
	}
	proctab_signal(env->tab, ev == MODEL_REOPEN ? SIGHUP : SIGUSR1);
}

const struct model model_prefork = {
	.name = "prefork",
	.start = pool_start,
	.serve = NULL,
	.reaped = pool_reaped,
	.tick = pool_tick,
	.tally = pool_tally,
	.peers = pool_peers,
	.workers = pool_workers,
	.notify = pool_notify,
	.stop = pool_stop,
};
