/*
 * model_loop_worker: one worker of the loop model. One epoll set holds the
 * shared listeners (EPOLLEXCLUSIVE: a connection wakes one waiting worker,
 * not all), the worker's signalfd and its sessions; the listeners are in it
 * only while the worker has room under its share of -c (back-pressure: the
 * kernel's backlog holds the rest). Deadlines come from the timer heap.
 */
#include "model_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "logline.h"
#include "model.h"
#include "session.h"

/* epoll keys below this are a listener's index; this one is the signalfd; above, sessions. */
#define KEY_SIGNALS 0xffffu
#define KEY_GATE (KEY_SIGNALS - 1)	/* the supervisor's gate; listeners are keyed by index below it */
#define LOOP_EVENTS 256		/* events taken per wait */
#define ACCEPT_BATCH 64		/* connections taken per wake-up of one listener */

/* Every descriptor the hard limit allows: a worker's share of -c was sized to fit it. */
static void
lw_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The signalfd, the epoll set, the access rules, the timers, the buffer. 0, or -1 with errno. */
static int
lw_setup(struct loop_worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = KEY_SIGNALS };
	sigset_t set;

	lw_raise_nofile();
	loop_worker_signals(&set);
	if ((w->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->sigfd, &ev) < 0 ||
	    (w->gate >= 0 && epoll_ctl(w->ep, EPOLL_CTL_ADD, w->gate,
	    &(struct epoll_event){ .events = EPOLLIN, .data.u64 = KEY_GATE }) < 0) ||
	    admission_init(&w->adm, NULL, 0, 0, 0) < 0 ||
	    loop_heap_init(&w->timers, 1024) < 0 ||
	    loop_service_init(w) < 0 ||
	    (w->buf = malloc(2 * LOOP_BUF + 64)) == NULL ||
	    (w->free_spots = malloc(((size_t)w->me->spots + 1) * sizeof(int))) == NULL)
		return -1;
	admission_follow(&w->adm, w->job->rules);
	w->spots = w->job->spots + (size_t)w->job->slot * (size_t)w->job->stride;
	for (w->nfree = 0; w->nfree < w->me->spots; w->nfree++)	/* the lowest on top: dense */
		w->free_spots[w->nfree] = w->me->spots - 1 - w->nfree;
	w->adm.shared_refused = w->job->totals->refused;
	w->adm.limits = w->job->limits;
	w->adm.prefix6 = w->job->prefix6;
	w->adm.proxy_from = w->job->proxy_from;
	w->generation = w->job->totals->generation;
	return 0;
}

/* The listeners in the epoll set, or out of it. */
static void
lw_listen(struct loop_worker *w, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	size_t i;

	for (i = 0; i < w->job->ls->n; i++) {
		ev.data.u64 = i;
		epoll_ctl(w->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, w->job->ls->v[i].fd, &ev);
	}
	w->listening = on;
}

/* Sessions it may have now: its share of -c, less what a retiring worker of that share still has. */
static int
lw_cap(const struct loop_worker *w)
{
	return __atomic_load_n(&w->me->cap, __ATOMIC_ACQUIRE);
}

/* Every session ends now, counted and logged as killed by sig. */
static void
lw_kill_all(struct loop_worker *w, int sig)
{
	struct loop_session *s;

	while ((s = loop_heap_top(&w->timers)) != NULL)
		loop_session_kill(w, s, sig);
}

/*
 * SIGUSR1: no new sessions (the drain; or the supervisor died: then the
 * sessions get --grace); SIGHUP: take the log file the supervisor opened
 * again; SIGTERM from the supervisor (the grace is over): every session ends
 * now. SIGUSR2 only wakes the loop: the per-source counts are to be given
 * back (lw_give_back()), its room under -c grew (--max-requests: a retiring
 * worker's session ended), or there are new TLS credentials (lw_renew()).
 */
static void
lw_read_signals(struct loop_worker *w)
{
	struct signalfd_siginfo si;

	while (model_worker_signal(w->sigfd, &si)) {
		if (si.ssi_signo == SIGUSR1) {
			w->leave = true;
			if (getppid() != w->job->supervisor && w->kill_at == 0)
				w->kill_at = clock_ms() + w->job->grace_ms;
		} else if (si.ssi_signo == SIGHUP) {
			logline_reopen();
		} else if (si.ssi_signo == SIGTERM && (long)si.ssi_pid == w->job->supervisor) {
			lw_kill_all(w, SIGTERM);
			_exit(0);
		}
	}
}

void
loop_worker_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR2);
}

/* Out of descriptors or memory: accepting rests a moment instead of spinning. */
static void
lw_rest(struct loop_worker *w)
{
	if (w->rest_until == 0)
		log_msg(LOG_LVL_ERROR, "event=accept-failed pid=%ld error=%s action=pause pause_ms=%d",
		    (long)getpid(), log_qerr(), LISTENER_PAUSE_MS);
	__atomic_store_n(&w->me->accept_pauses, w->me->accept_pauses + 1, __ATOMIC_RELAXED);
	w->rest_until = clock_ms() + LISTENER_PAUSE_MS;
	lw_listen(w, false);
}

bool
loop_limits_lock(const struct loop_job *job)
{
	if (job->limits == NULL || pthread_mutex_lock(&job->totals->lock) != EOWNERDEAD)
		return false;
	/* A worker died holding it: a count (and that worker's spots) may be half-changed. */
	pthread_mutex_consistent(&job->totals->lock);
	__atomic_store_n(&job->totals->torn, 1, __ATOMIC_RELAXED);
	return true;
}

void
loop_limits_unlock(const struct loop_job *job)
{
	if (job->limits != NULL)
		pthread_mutex_unlock(&job->totals->lock);
}

/* A spot for p's address (written address first, family last: the supervisor may be reading). */
static int
lw_spot_take(struct loop_worker *w, const struct peer *p)
{
	int i;

	if (p->local)
		return -1;
	if (w->nfree == 0) {	/* live <= the lane's share = spots: never; if it were, the recount path */
		__atomic_store_n(&w->job->totals->torn, 1, __ATOMIC_RELAXED);
		return -1;
	}
	i = w->free_spots[--w->nfree];
	memcpy(w->spots[i].bytes, p->addr.bytes, sizeof(p->addr.bytes));
	__atomic_store_n(&w->spots[i].family, p->addr.family, __ATOMIC_RELEASE);
	return i;
}

enum refusal
loop_admit(struct loop_worker *w, const struct peer *p, int *spot)
{
	enum refusal why;

	*spot = -1;
	loop_limits_lock(w->job);
	if ((why = admission_check(&w->adm, p, w->now)) == ADMITTED)
		*spot = lw_spot_take(w, p);
	loop_limits_unlock(w->job);
	return why;
}

void
loop_release(struct loop_worker *w, const struct peer *p, int spot)
{
	loop_limits_lock(w->job);
	admission_release(&w->adm, p);
	if (spot >= 0) {
		__atomic_store_n(&w->spots[spot].family, 0, __ATOMIC_RELEASE);
		w->free_spots[w->nfree++] = spot;
	}
	loop_limits_unlock(w->job);
}

/*
 * The supervisor cleared the table's live counts (a worker died with sessions
 * it could not give back): this worker counts its own again.
 */
static void
lw_give_back(struct loop_worker *w)
{
	unsigned gen = __atomic_load_n(&w->job->totals->generation, __ATOMIC_ACQUIRE);
	int64_t now = clock_ms();
	int i;

	if (w->job->limits == NULL || gen == w->generation)
		return;
	loop_limits_lock(w->job);
	for (i = 0; i < w->timers.n; i++)
		if (w->timers.v[i]->pw == NULL)	/* one still owing its PROXY header is not counted yet */
			admission_hold(&w->adm, &w->timers.v[i]->peer, now);
	w->generation = __atomic_load_n(&w->job->totals->generation, __ATOMIC_RELAXED);
	loop_limits_unlock(w->job);
}

/* This worker retires: no new session; a new worker takes its share of -c (model_loop.c). */
static void
lw_retire(struct loop_worker *w)
{
	w->leave = true;
	__atomic_store_n(&w->me->retiring, 1, __ATOMIC_RELEASE);
}

/* SIGHUP loaded new TLS credentials: this worker's are old, it retires. */
static void
lw_renew(struct loop_worker *w)
{
	if (__atomic_load_n(&w->job->totals->credentials, __ATOMIC_ACQUIRE) != w->job->credentials &&
	    !w->me->retiring)
		lw_retire(w);
}

/*
 * One connection taken: admitted (under the per-source table's lock), then
 * served; on a ,proxy listener, held until its header names the client.
 */
static void
lw_admit(struct loop_worker *w, const struct listener *l, int fd, const struct peer *p)
{
	int spot;

	if (l->proxy) {
		loop_session_proxied(w, fd, p);
		return;
	}
	if (loop_admit(w, p, &spot) != ADMITTED) {
		close(fd);
		return;
	}
	if (loop_session_start(w, fd, p, spot, l->deferred) < 0)
		loop_release(w, p, spot);
	if (w->job->max_requests > 0 && ++w->taken >= (uint64_t)w->job->max_requests)
		lw_retire(w);	/* --max-requests: a new worker takes its place */
}

/* A listener is ready: take its connections while there is room (other workers may be faster). */
static void
lw_accept(struct loop_worker *w, const struct listener *l)
{
	struct peer p;
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH && !w->leave && w->me->live + w->pending < lw_cap(w); i++) {
		if ((fd = listener_accept(l, &p, SOCK_NONBLOCK)) >= 0) {
			lw_admit(w, l, fd, &p);
			continue;
		}
		if (errno == EINVAL) {
			w->leave = true;	/* the supervisor shut the listener down: the drain */
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (!listener_transient(errno)) {
			lw_rest(w);
			return;
		}
	}
}

/* Deadlines due now; returns the wait until the next (-1: none). */
static int
lw_timers(struct loop_worker *w, int64_t now)
{
	struct loop_session *s;
	int64_t next;

	if (w->kill_at > 0 && now >= w->kill_at)
		lw_kill_all(w, SIGTERM);	/* an orphan's grace is over */
	if (w->rest_until > 0 && now >= w->rest_until)
		w->rest_until = 0;
	while ((s = loop_heap_top(&w->timers)) != NULL && s->due_ms <= now)
		loop_session_due(w, s, now);
	next = admission_tick(&w->adm, now);
	if ((s = loop_heap_top(&w->timers)) != NULL && s->due_ms < next)
		next = s->due_ms;
	if (w->rest_until > 0 && w->rest_until < next)
		next = w->rest_until;
	if (w->kill_at > 0 && w->kill_at < next)
		next = w->kill_at;
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

/* The supervisor said "ready": the gate goes; the next turn adds the listeners. */
static void
lw_pass_gate(struct loop_worker *w)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, w->gate, NULL);
	close(w->gate);
	w->gate = -1;
}

/* One wait and what it brought. 0, or -1 with errno (epoll failed). */
static int
lw_turn(struct loop_worker *w)
{
	struct epoll_event ev[LOOP_EVENTS];
	int i, n, timeout = lw_timers(w, w->now = clock_ms());
	bool room;

	lw_renew(w);
	room = !w->leave && w->gate < 0 && w->rest_until == 0 && w->me->live + w->pending < lw_cap(w);
	if (room != w->listening)
		lw_listen(w, room);
	lw_give_back(w);
	if (w->leave && w->me->live + w->pending == 0)
		return 0;
	if ((n = epoll_wait(w->ep, ev, LOOP_EVENTS, timeout)) < 0)
		return errno == EINTR ? 0 : -1;
	w->now = clock_ms();
	for (i = 0; i < n; i++) {
		if (ev[i].data.u64 == KEY_SIGNALS)
			lw_read_signals(w);
		else if (ev[i].data.u64 == KEY_GATE)
			lw_pass_gate(w);
		else if (ev[i].data.u64 < KEY_GATE)
			lw_accept(w, &w->job->ls->v[ev[i].data.u64]);
		else
			loop_session_ready(w, ev[i].data.ptr, ev[i].events);
	}
	return 0;
}

void
loop_worker_run(const struct loop_job *job, struct loop_board *me, int gate)
{
	struct loop_worker w = { .job = job, .me = me, .ep = -1, .sigfd = -1, .gate = gate };

	if (lw_setup(&w) < 0) {
		log_msg(LOG_LVL_ERROR, "event=worker-error pid=%ld error=%s",
		    (long)getpid(), log_qerrf("cannot serve"));
		_exit(1);
	}
	/* Its user, signal mask and descriptors are final from here, as a prefork worker's. */
	log_msg(LOG_LVL_DEBUG, "event=worker-ready pid=%ld", (long)getpid());
	while (!w.leave || me->live + w.pending > 0) {
		if (lw_turn(&w) < 0) {
			log_msg(LOG_LVL_ERROR, "event=worker-error pid=%ld error=%s",
			    (long)getpid(), log_qerrf("epoll"));
			_exit(1);
		}
	}
	_exit(0);
}
