/*
 * model_loop: the supervisor's side of the loop model. It starts a fixed
 * number of workers (model_loop_worker.c), each serving a share of -c (a
 * lane), and replaces one that dies; the sessions a dead worker held are
 * lost, and are counted and logged as such. A worker that served
 * --max-requests retires: a new one takes its lane at once, with room for
 * what the old one no longer holds. The figures come from each worker's board.
 */
#include "model.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admission.h"
#include "child.h"
#include "clock.h"
#include "limits.h"
#include "log.h"
#include "mem.h"
#include "model_loop.h"
#include "options.h"
#include "proctab.h"
#include "session.h"
#include "status.h"
#include "tally.h"

#define TICK_MS 100		/* missing workers are started this often */

struct loop_model {
	struct loop_board *boards;	/* by slot, shared with the workers */
	struct loop_totals *totals;	/* shared */
	struct limits *limits;		/* the per-source table, shared; NULL: no such limit */
	struct admission giveback;	/* its view of that table: a dead worker's counts given back */
	struct loop_job job;
	int workers;			/* lanes: shares of -c */
	int *lane;			/* by table slot: the lane of the worker there */
	int64_t tick_ms;
	struct model_respawn respawn;	/* no new worker before its hold_ms (crash loop) */
	uint64_t at_limit_seen;		/* totals->at_limit already logged or held */
	struct log_throttle limit_log;
};

int
loop_share(int max_conns, int n, int slot)
{
	return max_conns / n + (slot < max_conns % n);
}

int
loop_workers(const struct config *cfg, long *nofile)
{
	long n = cfg->workers > 0 ? cfg->workers : sysconf(_SC_NPROCESSORS_ONLN), per;
	struct rlimit rl;

	*nofile = 0;
	if (n < 1)
		n = 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    (per = (long)rl.rlim_max - LOOP_FD_SPARE) > 0 && (cfg->max_conns + n - 1) / n > per) {
		n = (cfg->max_conns + per - 1) / per;
		*nofile = (long)rl.rlim_max;
	}
	if (n > cfg->max_conns)
		n = cfg->max_conns;
	return (int)(n > OPTIONS_LOOP_WORKERS ? OPTIONS_LOOP_WORKERS : n);
}

/*
 * A worker per lane, and room for three retiring in each (--max-requests, new
 * TLS credentials) that still serve their sessions; a lane whose room is all
 * taken gets a worker once one of them is gone.
 */
static int
loop_children(const struct config *cfg)
{
	long nofile;

	return LOOP_LANE_SLOTS * loop_workers(cfg, &nofile);
}

/*
 * The room of lane's taking worker: its share, less the sessions a worker of
 * that lane that retired still holds; -1 if no worker takes sessions for it.
 */
static int
loop_lane_room(const struct model_env *env, const struct loop_model *m, int lane, int *taker)
{
	int i, room = loop_share(env->cfg->max_conns, m->workers, lane);

	*taker = -1;
	for (i = 0; i < env->tab->size; i++) {
		if (env->tab->slots[i].pid <= 0 || m->lane[i] != lane)
			continue;
		if (__atomic_load_n(&m->boards[i].retiring, __ATOMIC_ACQUIRE))
			room -= __atomic_load_n(&m->boards[i].live, __ATOMIC_RELAXED);
		else
			*taker = i;
	}
	return room > 0 ? room : 0;
}

/* The list of a worker's clients' addresses (model_loop_worker.c: loop_admit()). */
static struct net_addr *
loop_spots(const struct loop_model *m, int slot)
{
	return m->job.spots + (size_t)slot * (size_t)m->job.stride;
}

static void
loop_spawn(struct model_env *env, struct loop_model *m, int lane)
{
	int slot = proctab_claim(env->tab), taker;
	sigset_t signals;
	pid_t pid;

	if (slot < 0)
		return;
	memset(&m->boards[slot], 0, sizeof(m->boards[slot]));
	m->lane[slot] = lane;
	m->boards[slot].cap = loop_lane_room(env, m, lane, &taker);
	m->boards[slot].spots = loop_share(env->cfg->max_conns, m->workers, lane);
	memset(loop_spots(m, slot), 0, (size_t)m->job.stride * sizeof(*m->job.spots));
	m->job.slot = slot;	/* the worker's copy of the job says which are its */
	loop_worker_signals(&signals);
	if ((pid = model_worker_fork(env, slot, &signals, SIGUSR1)) == 0)
		loop_worker_run(&m->job, &m->boards[slot], env->gate);
	if (pid < 0)
		m->respawn.hold_ms = clock_ms() + LISTENER_PAUSE_MS;
}

/* --max-per-source, --rate: one table for the workers, in shared memory, behind a robust lock. */
static int
loop_limits_start(const struct config *cfg, struct loop_model *m)
{
	pthread_mutexattr_t a;
	int rc;

	if (cfg->max_per_source == 0 && cfg->rate == 0)
		return 0;
	if ((m->limits = limits_new_shared(2 * cfg->max_conns + 1024, cfg->max_per_source,
	    cfg->rate)) == NULL)
		return -1;
	if ((rc = pthread_mutexattr_init(&a)) != 0 ||
	    (rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) != 0 ||
	    (rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (rc = pthread_mutex_init(&m->totals->lock, &a)) != 0) {
		errno = rc;
		return -1;
	}
	pthread_mutexattr_destroy(&a);
	return 0;
}

static int
loop_start(struct model_env *env)
{
	struct loop_model *m = calloc(1, sizeof(*m));
	long nofile;
	int i;

	if (m == NULL)
		return -1;
	env->data = m;
	m->limit_log.max = 1;
	m->workers = loop_workers(env->cfg, &nofile);
	m->boards = mem_shared((size_t)env->tab->size * sizeof(*m->boards));
	m->totals = mem_shared(sizeof(*m->totals));
	m->lane = calloc((size_t)env->tab->size, sizeof(*m->lane));
	if (m->boards == NULL || m->totals == NULL || m->lane == NULL)
		return -1;
	m->job.stride = loop_share(env->cfg->max_conns, m->workers, 0);	/* the largest share */
	m->job.spots = mem_shared((size_t)env->tab->size * (size_t)m->job.stride *
	    sizeof(*m->job.spots));
	if (m->job.spots == NULL || loop_limits_start(env->cfg, m) < 0 ||
	    admission_init(&m->giveback, &env->cfg->acl, 0, 0, 0) < 0)
		return -1;
	m->giveback.limits = m->limits;
	m->giveback.prefix6 = env->cfg->source_prefix6;
	m->job = (struct loop_job){ .spots = m->job.spots, .stride = m->job.stride, .ls = env->ls,
	    .session = env->session, .rules = env->rules,
	    .totals = m->totals, .limits = m->limits, .prefix6 = env->cfg->source_prefix6,
	    .proxy_from = &env->cfg->proxy_from, .proxy_timeout_ms = env->cfg->proxy_timeout * 1000,
	    .supervisor = (long)getpid(), .grace_ms = env->cfg->grace * 1000,
	    .max_requests = env->cfg->max_requests, .max_conns = env->cfg->max_conns };
	if (nofile > 0)
		snprintf(env->words, sizeof(env->words), " workers=%d nofile=%ld "
		    "per_worker=%d", m->workers, nofile, loop_share(env->cfg->max_conns, m->workers, 0));
	else
		snprintf(env->words, sizeof(env->words), " workers=%d", m->workers);
	for (i = 0; i < m->workers; i++)
		loop_spawn(env, m, i);
	return 0;
}

static void
loop_stop(struct model_env *env)
{
	struct loop_model *m = env->data;

	mem_free(m->boards, (size_t)env->tab->size * sizeof(*m->boards));
	mem_free(m->job.spots, (size_t)env->tab->size * (size_t)m->job.stride * sizeof(*m->job.spots));
	m->giveback.limits = NULL;	/* the table is m->limits, freed below */
	admission_free(&m->giveback);
	free(m->lane);
	mem_free(m->totals, sizeof(*m->totals));
	limits_free(m->limits);
	free(m);
	env->data = NULL;
}

/*
 * The per-source counts of a dead worker's sessions, given back at once: its
 * list of addresses says which, unless it died holding the table's lock (or
 * its list was not whole): then the live counts are cleared, and the other
 * workers count theirs again (lw_give_back()).
 */
static void
loop_give_back(struct model_env *env, struct loop_model *m, int slot)
{
	const struct net_addr *spot = loop_spots(m, slot);
	struct peer p = { 0 };
	int i;

	loop_limits_lock(&m->job);
	if (!__atomic_load_n(&m->totals->torn, __ATOMIC_RELAXED)) {
		for (i = 0; i < m->boards[slot].spots; i++) {
			if (spot[i].family == 0)
				continue;
			p.addr = spot[i];
			admission_release(&m->giveback, &p);
		}
		loop_limits_unlock(&m->job);
		return;
	}
	limits_clear_live(m->limits);
	__atomic_store_n(&m->totals->torn, 0, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->totals->generation, 1, __ATOMIC_RELEASE);
	loop_limits_unlock(&m->job);
	proctab_signal(env->tab, SIGUSR2);	/* the others count theirs again now */
}

/* What a worker that ended did goes into the supervisor's figures; its live sessions were lost. */
static int
loop_fold(struct model_env *env, struct loop_model *m, int slot, int64_t age)
{
	const struct loop_board *b = &m->boards[slot];
	int i, lost = __atomic_load_n(&b->live, __ATOMIC_RELAXED);

	env->ended->served += b->served;
	env->ended->bytes_in += b->bytes_in;
	env->ended->bytes_out += b->bytes_out;
	for (i = 0; i < END_REASONS; i++)
		env->ended->ended[i] += b->ended[i];
	for (i = 0; i < END_BUCKETS; i++)
		env->ended->duration[i] += b->duration[i];
	env->ended->duration_ms += b->duration_ms;
	env->ended->accept_pauses += b->accept_pauses;
	env->adm->checks += b->checks;
	for (i = 0; i < lost; i++)	/* how long each lasted is not known: at most the worker's age */
		tally_end(env->ended, &env->adm->checks, SESSION_SERVED, END_KILLED, age);
	__atomic_sub_fetch(&m->totals->live, lost, __ATOMIC_RELAXED);
	if (lost > 0 && m->limits != NULL)
		loop_give_back(env, m, slot);
	return lost;
}

static void
loop_reaped(struct model_env *env, int slot, pid_t pid, int wstatus)
{
	struct loop_model *m = env->data;
	int64_t now = clock_ms(), age = now - env->tab->slots[slot].start_ms;
	bool failed = !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0;
	int lost = loop_fold(env, m, slot, age);
	char how[64];

	memset(&m->boards[slot], 0, sizeof(m->boards[slot]));
	if (WIFEXITED(wstatus))
		snprintf(how, sizeof(how), "exit=%d", WEXITSTATUS(wstatus));
	else
		snprintf(how, sizeof(how), "signal=%s", end_signal_name(WTERMSIG(wstatus)));
	log_msg(failed || lost > 0 ? LOG_LVL_WARN : LOG_LVL_DEBUG, "event=worker-exit pid=%ld %s "
	    "lost=%d age=%lld.%03lld workers=%d", (long)pid, how, lost, (long long)(age / 1000),
	    (long long)(age % 1000), env->tab->live);
	if (failed && !env->draining)
		model_worker_failed(&m->respawn, age, now);
	m->tick_ms = now;	/* replace it at the next turn (unless respawning is held) */
}

/*
 * Each lane: its taking worker's room kept current (woken by SIGUSR2 when it
 * grew: it may be waiting without the listeners), or a worker started for it.
 */
static void
loop_lanes(struct model_env *env, struct loop_model *m, int64_t now)
{
	int lane, room, taker;

	for (lane = 0; lane < m->workers; lane++) {
		room = loop_lane_room(env, m, lane, &taker);
		if (taker >= 0 && room != m->boards[taker].cap) {
			__atomic_store_n(&m->boards[taker].cap, room, __ATOMIC_RELEASE);
			if (room > 0)
				kill(env->tab->slots[taker].pid, SIGUSR2);
		} else if (taker < 0 && now >= m->respawn.hold_ms && env->tab->nfree > 0) {
			loop_spawn(env, m, lane);
		}
	}
}

/*
 * Start missing workers; the limit line for each time the workers counted -c
 * reached since the last tick (a tick samples too seldom to see them all).
 */
static int64_t
loop_tick(struct model_env *env, int64_t now)
{
	struct loop_model *m = env->data;
	uint64_t hits = __atomic_load_n(&m->totals->at_limit, __ATOMIC_RELAXED);

	if (env->draining)
		return INT64_MAX;
	if (now < m->tick_ms)
		return m->tick_ms;
	m->tick_ms = now + TICK_MS;
	model_limit_lines(&m->limit_log, &m->at_limit_seen, hits, env->cfg->max_conns, now);
	loop_lanes(env, m, now);
	return m->tick_ms;
}

static void
loop_tally(const struct model_env *env, struct tally *t)
{
	const struct loop_model *m = env->data;
	const struct loop_board *b;
	int i, k;

	for (i = 0; i < env->tab->size; i++) {
		if (env->tab->slots[i].pid <= 0)
			continue;
		b = &m->boards[i];
		t->sessions += __atomic_load_n(&b->live, __ATOMIC_RELAXED);
		t->served += __atomic_load_n(&b->served, __ATOMIC_RELAXED);
		t->bytes_in += __atomic_load_n(&b->bytes_in, __ATOMIC_RELAXED);
		t->bytes_out += __atomic_load_n(&b->bytes_out, __ATOMIC_RELAXED);
		t->checks += __atomic_load_n(&b->checks, __ATOMIC_RELAXED);
		t->accept_pauses += __atomic_load_n(&b->accept_pauses, __ATOMIC_RELAXED);
		t->duration_ms += __atomic_load_n(&b->duration_ms, __ATOMIC_RELAXED);
		for (k = 0; k < END_REASONS; k++)
			t->ended[k] += __atomic_load_n(&b->ended[k], __ATOMIC_RELAXED);
		for (k = 0; k < END_BUCKETS; k++)
			t->duration[k] += __atomic_load_n(&b->duration[k], __ATOMIC_RELAXED);
	}
	for (i = 0; i < REFUSAL_COUNT; i++)
		t->refused[i] += __atomic_load_n(&m->totals->refused[i], __ATOMIC_RELAXED);
}

/* /metrics: each worker's sessions now, and the workers started. */
static void
loop_metrics(const struct model_env *env, struct metrics_text *t)
{
	const struct loop_model *m = env->data;
	int i;

	metrics_printf(t, "# HELP mpechod_loop_worker_sessions Sessions a loop worker holds now.\n"
	    "# TYPE mpechod_loop_worker_sessions gauge\n");
	for (i = 0; i < env->tab->size; i++)
		if (env->tab->slots[i].pid > 0)
			metrics_printf(t, "mpechod_loop_worker_sessions{lane=\"%d\",pid=\"%ld\"} %d\n",
			    m->lane[i], (long)env->tab->slots[i].pid,
			    __atomic_load_n(&m->boards[i].live, __ATOMIC_RELAXED));
	metrics_printf(t, "# HELP mpechod_loop_workers_started_total Loop workers started.\n"
	    "# TYPE mpechod_loop_workers_started_total counter\n"
	    "mpechod_loop_workers_started_total %llu\n", (unsigned long long)env->ended->workers_started);
}

/*
 * The live sessions' client addresses, from the workers' lists (written as
 * this reads them: one that changes meanwhile may be missed or counted once
 * too many, as a status page may).
 */
static int
loop_peers(const struct model_env *env, struct net_addr *out, int max)
{
	const struct loop_model *m = env->data;
	const struct net_addr *spot;
	int i, k, n = 0;

	for (i = 0; i < env->tab->size && n < max; i++) {
		if (env->tab->slots[i].pid <= 0)
			continue;
		spot = loop_spots(m, i);
		for (k = 0; k < m->boards[i].spots && n < max; k++) {
			if ((out[n].family = __atomic_load_n(&spot[k].family, __ATOMIC_ACQUIRE)) == 0)
				continue;
			memcpy(out[n++].bytes, spot[k].bytes, sizeof(spot[k].bytes));
		}
	}
	return n;
}

/*
 * Workers reopen the log file on HUP; in a drain they take no new client and
 * leave once idle. New TLS credentials: each worker retires as after
 * --max-requests (it serves its sessions to their end, with the credentials
 * they began with), and new ones, forked from the new context, take the lanes.
 */
static void
loop_notify(struct model_env *env, enum model_event ev)
{
	struct loop_model *m = env->data;

	if (ev == MODEL_REOPEN) {
		proctab_signal(env->tab, SIGHUP);
	} else if (ev == MODEL_DRAIN) {
		proctab_signal(env->tab, SIGUSR1);
	} else if (ev == MODEL_RENEW) {
		m->job.credentials++;	/* what the workers forked from now on hold */
		__atomic_store_n(&m->totals->credentials, m->job.credentials, __ATOMIC_RELEASE);
		proctab_signal(env->tab, SIGUSR2);
		m->tick_ms = 0;		/* the lanes are looked at next turn */
	}
}

/* The workers for the status page: each serving its sessions, or leaving (--max-requests). */
static int
loop_list(const struct model_env *env, struct status_worker *out, int max)
{
	const struct loop_model *m = env->data;
	int i, n = 0;

	for (i = 0; i < env->tab->size && n < max; i++) {
		if (env->tab->slots[i].pid <= 0)
			continue;
		out[n] = (struct status_worker){ .pid = (long)env->tab->slots[i].pid,
		    .connections = __atomic_load_n(&m->boards[i].live, __ATOMIC_RELAXED),
		    .served = __atomic_load_n(&m->boards[i].served, __ATOMIC_RELAXED) };
		snprintf(out[n++].state, sizeof(out->state), "%s",
		    __atomic_load_n(&m->boards[i].retiring, __ATOMIC_RELAXED) ? "leaving" : "serving");
	}
	return n;
}

const struct model model_loop = {
	.name = "loop",
	.start = loop_start,
	.children = loop_children,
	.serve = NULL,
	.reaped = loop_reaped,
	.tick = loop_tick,
	.tally = loop_tally,
	.peers = loop_peers,
	.metrics = loop_metrics,
	.workers = loop_list,
	.notify = loop_notify,
	.stop = loop_stop,
};
