/*
 * prefork: the worker side of the pool. With one listener a worker blocks in
 * accept(2), where the kernel wakes one waiter per connection; with several it
 * waits in epoll with EPOLLEXCLUSIVE. The supervisor reads the scoreboard to
 * size the pool and never touches a connection.
 */
#include "prefork.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "log.h"
#include "listener.h"
#include "net.h"
#include "options.h"
#include "privs.h"

#define SPAWN_MAX 32		/* workers started in one step at most */
#define EMFILE_REST_MS 200

static volatile sig_atomic_t leave;
static volatile sig_atomic_t reopen;

static void
on_leave(int sig)
{
	(void)sig;
	leave = 1;
}

static void
on_reopen(int sig)
{
	(void)sig;
	reopen = 1;
}

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

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Handlers without SA_RESTART: a blocked accept() or epoll_wait() returns EINTR and the loop looks. */
static void
worker_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_leave;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_reopen;
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Wait for a connection on any listener; -1 with errno (EINTR: look at the flags). */
static int
worker_accept(const struct listener *ls, size_t nls, int ep, struct sockaddr_storage *ss)
{
	struct epoll_event ev;
	socklen_t len = sizeof(*ss);
	int n;

	if (nls == 1)
		return accept4(ls[0].fd, (struct sockaddr *)ss, &len, SOCK_CLOEXEC);
	n = epoll_wait(ep, &ev, 1, 100);
	if (n <= 0) {
		if (n == 0)
			errno = EAGAIN;
		return -1;
	}
	return accept4(ls[ev.data.u32].fd, (struct sockaddr *)ss, &len, SOCK_CLOEXEC);
}

static int
worker_epoll(const struct listener *ls, size_t nls)
{
	struct epoll_event ev;
	size_t i;
	int ep;

	if (nls == 1)
		return -1;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -2;
	for (i = 0; i < nls; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ls[i].fd, &ev) < 0) {
			close(ep);
			return -2;
		}
	}
	return ep;
}

/* One connection, start to end, with the same log lines as the fork model. */
static void
worker_serve(const struct config *cfg, const struct session_params *params, int fd,
    const struct sockaddr_storage *ss,
    struct worker_board *me, struct prefork_totals *tot, struct log_throttle *refusals)
{
	char peer[NET_ADDRSTRLEN], how[64];
	struct net_addr addr;
	enum end end;
	int64_t start = now_ms();
	int busy;

	net_format((const struct sockaddr *)ss, peer, sizeof(peer));
	if (net_addr_of((const struct sockaddr *)ss, &addr) < 0 || !acl_permits(&cfg->acl, &addr)) {
		__atomic_add_fetch(&tot->refused_acl, 1, __ATOMIC_RELAXED);
		if (log_throttle_allow(refusals, start, "refused-held"))
			log_msg(LOG_LVL_WARN, "event=refused peer=%s reason=acl", peer);
		close(fd);
		return;
	}
	memcpy(me->peer, peer, sizeof(me->peer));
	me->session_start_ms = start;
	__atomic_store_n(&me->state, WORKER_BUSY, __ATOMIC_RELAXED);	/* cur is 0: see below */
	busy = __atomic_add_fetch(&tot->busy, 1, __ATOMIC_RELAXED);
	log_msg(LOG_LVL_INFO, "event=connect peer=%s pid=%ld sessions=%d", peer, (long)getpid(), busy);
	end = session_run(fd, params, &me->cur);
	/* Idle first: a worker that leaves now must not look to the supervisor as if it died serving. */
	__atomic_store_n(&me->state, WORKER_IDLE, __ATOMIC_RELAXED);
	busy = __atomic_sub_fetch(&tot->busy, 1, __ATOMIC_RELAXED);
	session_log_end(peer, (long)getpid(), end_describe(W_EXITCODE(end, 0), how, sizeof(how)),
	    me->cur.bytes_in, me->cur.bytes_out, now_ms() - start, busy);
	__atomic_store_n(&me->bytes_in, me->bytes_in + me->cur.bytes_in, __ATOMIC_RELAXED);
	__atomic_store_n(&me->bytes_out, me->bytes_out + me->cur.bytes_out, __ATOMIC_RELAXED);
	/* Zero the session's counters for the next one: the supervisor adds them to the totals. */
	__atomic_store_n(&me->cur.bytes_in, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&me->cur.bytes_out, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&me->sessions, me->sessions + 1, __ATOMIC_RELAXED);
}

void
prefork_worker(const struct config *cfg, const struct session_params *params,
    const struct listeners *lv,
    struct worker_board *me, struct prefork_totals *tot)
{
	struct log_throttle refusals = { .max = 10 };
	struct sockaddr_storage ss;
	bool emfile_logged = false;
	int ep, fd;

	worker_signals();
	if (cfg->privs.set && privs_drop(&cfg->privs) < 0) {
		log_msg(LOG_LVL_ERROR, "event=worker-error pid=%ld error=\"cannot become %s: %s\"",
		    (long)getpid(), cfg->privs.name, strerror(errno));
		_exit(1);
	}
	if ((ep = worker_epoll(lv->v, lv->n)) == -2) {
		log_msg(LOG_LVL_ERROR, "event=worker-error pid=%ld error=\"epoll: %s\"",
		    (long)getpid(), strerror(errno));
		_exit(1);
	}
	while (!leave && (cfg->max_requests == 0 || me->sessions < (uint64_t)cfg->max_requests)) {
		if (reopen) {
			reopen = 0;
			log_reopen();
		}
		__atomic_store_n(&me->state, WORKER_IDLE, __ATOMIC_RELAXED);
		fd = worker_accept(lv->v, lv->n, ep, &ss);
		if (fd >= 0) {
			emfile_logged = false;
			worker_serve(cfg, params, fd, &ss, me, tot, &refusals);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || listener_transient(errno))
			continue;
		if (errno == EINVAL)
			break;		/* the supervisor shut the listener down: the server is stopping */
		if (!emfile_logged)
			log_msg(LOG_LVL_ERROR, "event=accept-failed pid=%ld error=\"%s\" action=pause pause_ms=%d",
			    (long)getpid(), strerror(errno), EMFILE_REST_MS);
		emfile_logged = true;
		usleep(EMFILE_REST_MS * 1000);
	}
	_exit(0);
}
