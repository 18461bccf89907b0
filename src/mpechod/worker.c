/*
 * worker: the worker side of the pool. It waits in one epoll set on the
 * listeners (EPOLLEXCLUSIVE: the kernel wakes one waiter per connection, not
 * the whole pool) and on its own signalfd, serves one connection at a time,
 * and keeps its scoreboard line current.
 */
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admission.h"
#include "clock.h"
#include "listener.h"
#include "log.h"
#include "logline.h"
#include "model.h"
#include "proxy_wait.h"
#include "session.h"

#define WORKER_SIGNALS UINT32_MAX	/* the epoll key of the signalfd; listeners are keyed by index */
#define WORKER_GATE (UINT32_MAX - 1)	/* the supervisor's gate, until it opens */

struct worker {
	const struct worker_job *job;
	struct worker_board *me;
	struct admission adm;		/* the access rules (per-source limits are the fork model's) */
	uint64_t published_checks;	/* of adm's count, in the totals */
	int ep, sigfd;
	int gate;			/* -1, or the listeners wait until it is readable */
	bool leave;
	bool accept_error_logged;
};

/* The listeners into the epoll set. 0 or -1. */
static int
worker_listen(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	size_t i;

	for (i = 0; i < w->job->ls->n; i++) {
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->job->ls->v[i].fd, &ev) < 0)
			return -1;
	}
	return 0;
}

/* The supervisor said "ready": the gate goes, the listeners come. 0 or -1. */
static int
worker_pass_gate(struct worker *w)
{
	if (epoll_ctl(w->ep, EPOLL_CTL_DEL, w->gate, NULL) < 0)
		return -1;
	close(w->gate);
	w->gate = -1;
	return worker_listen(w);
}

/*
 * The signalfd for SIGUSR1 and SIGHUP (blocked since the fork), and the epoll
 * set: the listeners, or the gate until it opens. 0 or -1.
 */
static int
worker_setup(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = WORKER_SIGNALS };
	struct epoll_event gate = { .events = EPOLLIN, .data.u32 = WORKER_GATE };
	sigset_t set;

	worker_signals(&set);
	if ((w->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->sigfd, &ev) < 0 ||
	    (w->gate >= 0 ? epoll_ctl(w->ep, EPOLL_CTL_ADD, w->gate, &gate) : worker_listen(w)) < 0)
		return -1;
	if (admission_init(&w->adm, NULL, 0, 0, 0) < 0)
		return -1;
	admission_follow(&w->adm, w->job->rules);
	w->adm.proxy_from = w->job->proxy_from;
	w->adm.shared_refused = w->job->totals->refused;
	return 0;
}

void
worker_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGHUP);
	sigaddset(set, SESSION_ORPHAN_SIGNAL);
}

/*
 * SIGUSR1: leave after the current session; SIGHUP: the log file the
 * supervisor opened again; SESSION_ORPHAN_SIGNAL: leave if the supervisor
 * died (from anyone else, a stray kill: nothing).
 */
static void
worker_read_signals(struct worker *w)
{
	struct signalfd_siginfo si;

	while (model_worker_signal(w->sigfd, &si)) {
		if (si.ssi_signo == SIGUSR1)
			w->leave = true;
		else if (si.ssi_signo == SIGHUP)
			logline_reopen();
		else if (si.ssi_signo == SESSION_ORPHAN_SIGNAL && getppid() != w->job->supervisor)
			w->leave = true;
	}
}

/*
 * session_run() with the supervisor's death taken as it runs (the handler
 * shortens the session to --grace), not only from the signalfd between
 * sessions. Blocked again after it, the check catches a death the handler
 * took; one after the check stays pending for the signalfd.
 */
static enum end
worker_session(struct worker *w, int fd, const struct peer *p)
{
	sigset_t orphan;
	enum end end;

	sigemptyset(&orphan);
	sigaddset(&orphan, SESSION_ORPHAN_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &orphan, NULL);
	end = session_run(fd, p->tls, w->job->session, &w->me->cur);
	pthread_sigmask(SIG_BLOCK, &orphan, NULL);
	if (getppid() != w->job->supervisor)
		w->leave = true;
	return end;
}

/* One connection, start to end, with the same log lines as the fork model. */
static void
worker_serve(struct worker *w, int fd, const struct peer *p)
{
	struct worker_board *me = w->me;
	struct worker_totals *tot = w->job->totals;
	int64_t start = clock_ms();
	enum session_kind kind;
	enum end end;
	char how[64];
	int busy;

	if (admission_check(&w->adm, p, start) != ADMITTED) {
		close(fd);
		return;
	}
	peer_text(p, me->peer, sizeof(me->peer));
	me->addr = p->local ? (struct net_addr){ 0 } : p->addr;
	me->session_start_ms = start;
	__atomic_store_n(&me->state, WORKER_BUSY, __ATOMIC_RELAXED);	/* cur is 0: see below */
	busy = __atomic_add_fetch(&tot->busy, 1, __ATOMIC_RELAXED);
	if (busy >= w->job->max_conns)	/* -c reached: the supervisor's limit line counts it */
		__atomic_add_fetch(&tot->at_limit, 1, __ATOMIC_RELAXED);
	me->check = p->check;
	if (p->check)
		w->adm.checks++;
	session_log_connect(me->peer, p->check, (long)getpid(), busy);
	end = worker_session(w, fd, p);
	/* Idle first: a worker that leaves now must not look to the supervisor as if it died serving. */
	__atomic_store_n(&me->state, WORKER_IDLE, __ATOMIC_RELAXED);
	busy = __atomic_sub_fetch(&tot->busy, 1, __ATOMIC_RELAXED);
	kind = session_kind(p->check, &me->cur);
	session_log_end(me->peer, kind, (long)getpid(), end_describe(W_EXITCODE(end, 0), how,
	    sizeof(how)), me->cur.bytes_in, me->cur.bytes_out, clock_ms() - start, busy);
	__atomic_store_n(&me->bytes_in, me->bytes_in + me->cur.bytes_in, __ATOMIC_RELAXED);
	__atomic_store_n(&me->bytes_out, me->bytes_out + me->cur.bytes_out, __ATOMIC_RELAXED);
	/* Zero the session's counters for the next one: the supervisor adds them to the totals. */
	__atomic_store_n(&me->cur.bytes_in, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&me->cur.bytes_out, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&me->cur.check, 0, __ATOMIC_RELAXED);
	if (kind == SESSION_CHECK)	/* one its PROXY header named is counted already */
		w->adm.checks++;
	if (kind != SESSION_SERVED)
		return;		/* a check: no session to count */
	__atomic_add_fetch(&tot->ended[end], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&tot->duration[end_bucket(clock_ms() - start)], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&tot->duration_ms, (uint64_t)(clock_ms() - start), __ATOMIC_RELAXED);
	__atomic_store_n(&me->sessions, me->sessions + 1, __ATOMIC_RELAXED);
}

/* The health checks this worker took go into the pool's shared totals (refusals go at once). */
static void
worker_publish(struct worker *w)
{
	struct worker_totals *tot = w->job->totals;

	if (w->adm.checks != w->published_checks)
		__atomic_add_fetch(&tot->checks, w->adm.checks - w->published_checks, __ATOMIC_RELAXED);
	w->published_checks = w->adm.checks;
}

/*
 * A connection on a PROXY listener: its header first, read here (the worker has
 * nothing else to do meanwhile), then the client it names is served.
 */
static void
worker_proxied(struct worker *w, int fd, const struct peer *balancer)
{
	struct proxy_wait pw;
	struct peer client;

	proxy_wait_init(&pw);
	if (!admission_proxy_from(&w->adm, balancer, clock_ms())) {
		close(fd);
		return;
	}
	switch (proxy_wait_blocking(&pw, fd, w->job->proxy_timeout_ms)) {
	case PROXY_WAIT_DONE:
		if (proxy_wait_peer(&pw, balancer, &client) == 0) {
			worker_serve(w, fd, &client);
			return;
		}
		admission_proxy_failed(&w->adm, balancer, "client address", clock_ms());
		break;
	case PROXY_WAIT_CHECK:
		admission_health_check(&w->adm, balancer);
		break;
	default:
		admission_proxy_failed(&w->adm, balancer, pw.why, clock_ms());
		break;
	}
	close(fd);
}

/* Out of descriptors or memory: rest a moment, still answering signals, instead of spinning. */
static void
worker_rest(struct worker *w)
{
	struct pollfd pfd = { .fd = w->sigfd, .events = POLLIN };

	if (!w->accept_error_logged)
		log_msg(LOG_LVL_ERROR, "event=accept-failed pid=%ld error=%s action=pause pause_ms=%d",
		    (long)getpid(), log_qerr(), LISTENER_PAUSE_MS);
	w->accept_error_logged = true;
	__atomic_add_fetch(&w->job->totals->accept_pauses, 1, __ATOMIC_RELAXED);
	if (poll(&pfd, 1, LISTENER_PAUSE_MS) > 0)
		worker_read_signals(w);
}

/* A listener is ready: take its connection, unless another worker was faster. */
static void
worker_take(struct worker *w, const struct listener *l)
{
	struct peer p;
	int fd = listener_accept(l, &p, 0);

	if (fd >= 0) {
		w->accept_error_logged = false;
		if (l->proxy)
			worker_proxied(w, fd, &p);
		else
			worker_serve(w, fd, &p);
		worker_publish(w);
	} else if (errno == EINVAL) {
		w->leave = true;	/* the supervisor shut the listener down: the server is stopping */
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && !listener_transient(errno)) {
		worker_rest(w);
	}
}

/* Wait for a signal or a connection; signals first, then at most one connection. 0 or -1. */
static int
worker_wait(struct worker *w)
{
	struct epoll_event ev[8];
	int i, n = epoll_wait(w->ep, ev, 8, -1);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++)
		if (ev[i].data.u32 == WORKER_SIGNALS)
			worker_read_signals(w);
		else if (ev[i].data.u32 == WORKER_GATE)
			return worker_pass_gate(w);
	for (i = 0; i < n && !w->leave; i++) {
		if (ev[i].data.u32 != WORKER_SIGNALS) {
			worker_take(w, &w->job->ls->v[ev[i].data.u32]);
			break;
		}
	}
	return 0;
}

void
worker_run(const struct worker_job *job, struct worker_board *me, int gate)
{
	struct worker w = { .job = job, .me = me, .ep = -1, .sigfd = -1, .gate = gate };

	if (worker_setup(&w) < 0) {
		log_msg(LOG_LVL_ERROR, "event=worker-error pid=%ld error=%s",
		    (long)getpid(), log_qerrf("cannot wait for connections"));
		_exit(1);
	}
	/* Its user, signal mask and descriptors are final from here: /proc shows the worker. */
	log_msg(LOG_LVL_DEBUG, "event=worker-ready pid=%ld", (long)getpid());
	while (!w.leave && (job->max_requests == 0 || me->sessions < (uint64_t)job->max_requests)) {
		__atomic_store_n(&me->state, WORKER_IDLE, __ATOMIC_RELAXED);
		if (worker_wait(&w) < 0) {
			log_msg(LOG_LVL_ERROR, "event=worker-error pid=%ld error=%s",
			    (long)getpid(), log_qerrf("epoll"));
			_exit(1);
		}
	}
	_exit(0);
}
