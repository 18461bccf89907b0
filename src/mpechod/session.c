/* session: one connection, start to end: transport, deadlines, service, close. */
#include "session.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "banner.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "service.h"
#include "transport.h"

/*
 * A service ended the session while the client may still be sending: closing
 * with unread input would reset the connection and could destroy replies still
 * in flight. Send our FIN, then read and drop input until the client closes
 * or LINGER_MS pass (a lingering close).
 */
static void
session_linger(struct transport *t)
{
	struct timeval tv = { .tv_sec = 1 };
	int64_t until = clock_ms() + SESSION_LINGER_MS;
	char sink[4096];

	if (transport_shutdown(t) < 0)
		return;
	setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (transport_read(t, sink, sizeof(sink)) > 0 && clock_ms() < until)
		;
}

/*
 * --max-time: the alarm shuts the connection down where it stands, which ends
 * any blocked read or write; session_run() then reports END_MAX_TIME.
 * Only a flag and shutdown(2), both safe in a signal handler.
 */
static volatile sig_atomic_t max_time_hit;
static volatile sig_atomic_t max_time_fd = -1;

static void
session_max_time_reached(int sig)
{
	(void)sig;
	max_time_hit = 1;
	if (max_time_fd >= 0)
		shutdown(max_time_fd, SHUT_RDWR);
}

/*
 * Deadlines without a poll per I/O call: the idle timeout is the socket's own
 * receive and send timeout (a blocked call that makes no progress for that
 * long fails with EAGAIN), set on the listeners and inherited (listener.c);
 * the time limit is an alarm.
 */
static void
session_arm_max_time(int fd, int secs)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = session_max_time_reached;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	max_time_hit = 0;
	max_time_fd = fd;
	alarm((unsigned)secs);
}

static volatile sig_atomic_t session_grace;
static pid_t session_supervisor;	/* set once, before any session is forked */

/*
 * The supervisor died: the --max-time alarm's way out, due within the grace
 * period. The signal from anyone else (a kill to the whole group) is not
 * that news while the supervisor is still our parent.
 */
static void
session_orphaned(int sig)
{
	struct sigaction sa;
	unsigned left;

	(void)sig;
	if (getppid() == session_supervisor)
		return;
	left = alarm(0);
	if (session_grace == 0) {
		session_max_time_reached(SIGALRM);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = session_max_time_reached;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(left > 0 && left < (unsigned)session_grace ? left : (unsigned)session_grace);
}

void
session_watch_orphan(int grace)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = session_orphaned;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	session_grace = grace;
	session_supervisor = getpid();
	sigaction(SESSION_ORPHAN_SIGNAL, &sa, NULL);
}

static bool
session_disarm_max_time(void)
{
	alarm(0);
	max_time_fd = -1;
	return max_time_hit;
}

bool
session_was_check(enum end end, uint64_t in, uint64_t out, uint64_t banner)
{
	return (end == END_EOF || end == END_RESET) && in == 0 && out == banner;
}

static void
session_mark_check(struct stream_counters *ctr, enum end end, const struct stream *st)
{
	if (session_was_check(end, st->bytes_in, st->bytes_out, st->banner))
		__atomic_store_n(&ctr->check, 1, __ATOMIC_RELAXED);
}

enum session_kind
session_kind(bool header_check, const struct stream_counters *ctr)
{
	if (header_check)
		return SESSION_CHECK_QUIET;
	return __atomic_load_n(&ctr->check, __ATOMIC_RELAXED) ? SESSION_CHECK : SESSION_SERVED;
}

size_t
session_banner_text(int fd, const struct session_params *p, char *line, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[NET_ADDRSTRLEN] = "?";

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		net_format((struct sockaddr *)&ss, addr, sizeof(addr));
	return banner_expand(p->banner, p->hostname, p->server_pid, addr, line, cap);
}

/* --banner: one line before the service, with the local address this client reached. */
static int
session_banner(struct stream *st, const struct session_params *p)
{
	char line[BANNER_MAX];
	int rc;

	rc = stream_write(st, line, session_banner_text(st->tr->fd, p, line, sizeof(line)));
	st->banner = st->bytes_out;	/* what went out of it, whole or not */
	return rc;
}

enum end
session_run(int fd, bool tls, const struct session_params *p, struct stream_counters *ctr)
{
	const struct transport_ops *ops = tls ? &transport_tls : &transport_plain;
	struct transport t;
	struct stream st;
	enum end end;

	max_time_fd = fd;	/* for the alarm: --max-time (the handshake counts), an orphan's grace */
	if (p->max_time > 0)
		session_arm_max_time(fd, p->max_time);
	if (ops->open(&t, fd, p->tls) < 0) {
		if (errno == ENODATA)	/* it closed before its first byte: a check */
			__atomic_store_n(&ctr->check, 1, __ATOMIC_RELAXED);
		/* a failed handshake is logged already */
		end = errno == EPROTO ? END_TLS : errno == ENODATA ? END_EOF : END_ERROR;
		if (end == END_ERROR)
			log_msg(LOG_LVL_WARN, "event=session-error pid=%ld error=%s",
			    (long)getpid(), log_qerr());
		close(fd);
		return p->max_time > 0 && session_disarm_max_time() ? END_MAX_TIME : end;
	}
	stream_init(&st, &t, ctr, p->splice);
	stream_pace(&st, p->min_rate, p->idle_timeout);
	if (p->banner != NULL && session_banner(&st, p) < 0)
		end = end_of_errno(errno);
	else
		end = p->service->run(&st);
	session_mark_check(ctr, end, &st);
	if (p->max_time > 0 && session_disarm_max_time())
		end = END_MAX_TIME;
	max_time_fd = -1;
	if (end == END_ERROR)
		log_msg(LOG_LVL_WARN, "event=session-error pid=%ld error=%s",
		    (long)getpid(), log_qerr());
	if (end == END_QUIT)
		session_linger(&t);
	else if (end == END_EOF && !transport_splices(&t))
		transport_shutdown(&t);	/* TLS: the close-notify; a plain socket's close() sends the FIN */
	transport_close(&t);
	return end;
}

void
session_log_connect(const char *who, bool check, long pid, int sessions)
{
	log_msg(check ? LOG_LVL_DEBUG : LOG_LVL_INFO, "event=connect %s pid=%ld sessions=%d", who, pid,
	    sessions);
}

void
session_log_end(const char *who, enum session_kind kind, long pid, const char *how,
    uint64_t in, uint64_t out, int64_t ms, int sessions)
{
	log_msg(kind == SESSION_CHECK_QUIET ? LOG_LVL_DEBUG : LOG_LVL_INFO,
	    "event=end %s pid=%ld %s%s in=%llu out=%llu duration=%lld.%03lld sessions=%d",
	    who, pid, how, kind != SESSION_SERVED ? " check=yes" : "", (unsigned long long)in,
	    (unsigned long long)out, (long long)(ms / 1000), (long long)(ms % 1000), sessions);
}
