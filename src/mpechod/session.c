/* session: one connection in a child process: serve, account, close, exit. */
#include "session.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "options.h"
#include "service.h"

/* After a service ends a session, how long its unread input is drained before close. */
#define LINGER_SECS 2

static const char *const end_names[SESSION_NEND] = {
	[SESSION_EOF] = "eof",
	[SESSION_ERROR] = "error",
	[SESSION_RESET] = "reset",
	[SESSION_QUIT] = "quit",
	[SESSION_IDLE] = "idle",
	[SESSION_MAX_TIME] = "max-time",
};

const char *
session_end_name(int status)
{
	return status >= 0 && status < SESSION_NEND ? end_names[status] : NULL;
}

enum session_end
session_failure(int err)
{
	switch (err) {
	case ECONNRESET:
	case EPIPE:
	case ENOTCONN:
		return SESSION_RESET;
	case ETIMEDOUT:
		return SESSION_IDLE;
	default:
		return SESSION_ERROR;
	}
}

/* Publish the byte counts to the supervisor: a plain store, no lock in the data path. */
static ssize_t
count_in(struct session *s, ssize_t n)
{
	if (n > 0) {
		s->bytes_in += (uint64_t)n;
		__atomic_store_n(&s->ctr->bytes_in, s->bytes_in, __ATOMIC_RELAXED);
	}
	return n;
}

static int
count_out(struct session *s, int rc, size_t done)
{
	s->bytes_out += done;
	__atomic_store_n(&s->ctr->bytes_out, s->bytes_out, __ATOMIC_RELAXED);
	return rc;
}

ssize_t
session_read(struct session *s, void *buf, size_t len)
{
	return count_in(s, io_read(s->fd, buf, len));
}

int
session_write(struct session *s, const void *buf, size_t len)
{
	size_t done;
	int rc = io_send_all(s->fd, buf, len, &done);

	return count_out(s, rc, done);
}

ssize_t
session_splice_in(struct session *s, int pipe_w, size_t len)
{
	return count_in(s, io_splice_in(s->fd, pipe_w, len));
}

int
session_splice_out(struct session *s, int pipe_r, size_t len)
{
	size_t done;
	int rc = io_splice_out(pipe_r, s->fd, len, &done);

	return count_out(s, rc, done);
}

/*
 * A service ended the session while the client may still be sending: closing
 * with unread input would reset the connection and could destroy replies still
 * in flight. Send our FIN, then read and drop input until the client closes
 * or LINGER_SECS pass (a lingering close).
 */
static void
linger_close(int fd)
{
	struct timeval tv = { .tv_sec = 1 };
	struct timespec start, now;
	char sink[4096];

	if (shutdown(fd, SHUT_WR) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (io_read(fd, sink, sizeof(sink)) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= LINGER_SECS)
			break;
	}
}

/*
 * --max-time: the alarm shuts the connection down where it stands, which ends
 * any blocked read or write; session_run() then reports SESSION_MAX_TIME.
 * Only a flag and shutdown(2), both safe in a signal handler.
 */
static volatile sig_atomic_t max_time_hit;
static volatile sig_atomic_t max_time_fd = -1;

static void
max_time_reached(int sig)
{
	(void)sig;
	max_time_hit = 1;
	if (max_time_fd >= 0)
		shutdown(max_time_fd, SHUT_RDWR);
}

/*
 * Deadlines without a poll per I/O call: the idle timeout is the socket's own
 * receive and send timeout (a blocked call that makes no progress for that
 * long fails with EAGAIN), set on the listeners and inherited (server.c);
 * the time limit is an alarm.
 */
static void
set_deadlines(int fd, const struct config *cfg)
{
	struct sigaction sa;

	if (cfg->max_time > 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = max_time_reached;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		max_time_hit = 0;
		max_time_fd = fd;
		alarm((unsigned)cfg->max_time);
	}
}

enum session_end
session_run(int fd, const struct config *cfg, struct session_counters *ctr)
{
	struct session s = { .fd = fd, .splice = cfg->splice, .ctr = ctr };
	enum session_end end;

	set_deadlines(fd, cfg);
	end = cfg->service->run(&s);
	if (cfg->max_time > 0) {
		alarm(0);
		max_time_fd = -1;
		if (max_time_hit)
			end = SESSION_MAX_TIME;
	}
	if (end == SESSION_ERROR)
		log_msg(LOG_LVL_WARN, "event=session-error pid=%ld error=\"%s\"",
		    (long)getpid(), strerror(errno));
	if (end == SESSION_QUIT)
		linger_close(fd);
	else if (end == SESSION_EOF)
		shutdown(fd, SHUT_WR);
	close(fd);
	return end;
}

void
session_serve(int fd, const struct config *cfg, struct session_counters *ctr)
{
	_exit(session_run(fd, cfg, ctr));
}

const char *
session_describe(int status, char *buf, size_t len)
{
	const char *reason = session_end_name(status);

	snprintf(buf, len, "exit=%d reason=%s", status, reason != NULL ? reason : "unknown");
	return buf;
}

void
session_log_end(const char *peer, long pid, const char *how, uint64_t in, uint64_t out,
    int64_t ms, int sessions)
{
	log_msg(LOG_LVL_INFO, "event=end peer=%s pid=%ld %s in=%llu out=%llu duration=%lld.%03lld sessions=%d",
	    peer, pid, how, (unsigned long long)in, (unsigned long long)out,
	    (long long)(ms / 1000), (long long)(ms % 1000), sessions);
}
