/*
 * model_loop_session: one connection in a worker's loop, never blocking. It
 * reads into the worker's one buffer and writes at once; what the socket does
 * not take waits in a buffer of the session's own, and while it waits the
 * session reads nothing more (back-pressure: a client that does not read
 * costs what one read made, no more). Its log lines and counts are those of
 * the other models.
 */
#include "model_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banner.h"
#include "log.h"
#include "session.h"
#include "tls_server.h"

#define STREAM_ROUNDS 4		/* chargen: writes per readiness, so that one client cannot hog the loop */

/*
 * Wait for what the session needs next: output space while it holds bytes or
 * streams, else input; unless a TLS call waits the other way (s->wait).
 */
static void
conn_interest(struct loop_worker *w, struct loop_session *s)
{
	struct epoll_event ev = { .data.ptr = s };
	uint8_t want = s->wait != 0 ? s->wait : s->held != NULL ||
	    (w->svc->streams && s->state == LOOP_RUN) ? LOOP_WANT_OUT : LOOP_WANT_IN;

	if (want == s->events)
		return;
	ev.events = want == LOOP_WANT_OUT ? EPOLLOUT : EPOLLIN;
	if (epoll_ctl(w->ep, s->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s->fd, &ev) == 0)
		s->events = want;
}

static void
conn_moved(struct loop_worker *w, struct loop_session *s, size_t in, size_t out)
{
	struct loop_board *me = w->me;

	if (in > 0) {
		s->in += in;
		__atomic_store_n(&me->bytes_in, me->bytes_in + in, __ATOMIC_RELAXED);
	}
	if (out > 0) {
		s->out += out;
		__atomic_store_n(&me->bytes_out, me->bytes_out + out, __ATOMIC_RELAXED);
	}
	if (in > 0 || out > 0)
		s->last_ms = w->now;
}

/*
 * --min-rate, judged as the other models judge it: when bytes move after an
 * idle-timeout window closed, over the whole time since it began. 0, or -1
 * with ETIME.
 */
static int
conn_paced(const struct loop_worker *w, struct loop_session *s)
{
	const struct session_params *p = w->job->session;
	int64_t ms = s->last_ms - s->window_ms;
	uint64_t need;

	if (p->min_rate == 0 || p->idle_timeout == 0 || ms < (int64_t)p->idle_timeout * 1000)
		return 0;
	need = (uint64_t)p->min_rate * (uint64_t)ms / 1000;
	if (s->in - s->window_in < need && s->out - s->window_out < need) {
		errno = ETIME;
		return -1;
	}
	s->window_ms = s->last_ms;
	s->window_in = s->in;
	s->window_out = s->out;
	return 0;
}

/* Keep what the socket did not take: after what is held already. 0, or -1 with ENOMEM. */
static int
conn_hold(struct loop_session *s, const char *buf, size_t len)
{
	size_t had = s->held != NULL ? s->held_len - s->held_off : 0;
	char *v = malloc(had + len);

	if (v == NULL)
		return -1;
	if (had > 0)
		memcpy(v, s->held + s->held_off, had);
	memcpy(v + had, buf, len);
	free(s->held);
	s->held = v;
	s->held_off = 0;
	s->held_len = (uint32_t)(had + len);
	return 0;
}

/* Send what the service made; what does not fit now is held. 0, or -1 with errno. */
static int
conn_send(struct loop_worker *w, struct loop_session *s, const char *buf, size_t len)
{
	ssize_t n = 0;

	if (s->held == NULL) {
		n = loop_io_send(s, buf, len);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		n = n < 0 ? 0 : n;
		conn_moved(w, s, 0, (size_t)n);
		if ((size_t)n == len)
			return 0;
	}
	return conn_hold(s, buf + n, len - (size_t)n);
}

/* The end: counted, logged as the other models log it, the socket closed, the session freed. */
static void
conn_close(struct loop_worker *w, struct loop_session *s, int wstatus)
{
	struct loop_board *me = w->me;
	int reason = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : END_KILLED;
	int64_t ms = w->now - s->start_ms;
	enum session_kind kind = s->peer.check ? SESSION_CHECK_QUIET :
	    WIFEXITED(wstatus) && session_was_check(reason, s->in, s->out, s->banner) ? SESSION_CHECK :
	    SESSION_SERVED;
	char who[PEER_TEXT_MAX], how[64];
	int live;

	loop_heap_remove(&w->timers, s);
	loop_release(w, &s->peer, s->spot);
	loop_io_free(s);
	close(s->fd);
	free(s->held);
	live = __atomic_sub_fetch(&w->job->totals->live, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&me->live, me->live - 1, __ATOMIC_RELAXED);
	if (kind == SESSION_CHECK) {
		__atomic_store_n(&me->checks, me->checks + 1, __ATOMIC_RELAXED);
	} else if (kind == SESSION_SERVED) {
		__atomic_store_n(&me->ended[reason], me->ended[reason] + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&me->duration[end_bucket(ms)], me->duration[end_bucket(ms)] + 1,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&me->duration_ms, me->duration_ms + (uint64_t)ms, __ATOMIC_RELAXED);
		__atomic_store_n(&me->served, me->served + 1, __ATOMIC_RELAXED);
	}
	if (log_enabled(kind == SESSION_CHECK_QUIET ? LOG_LVL_DEBUG : LOG_LVL_INFO))
		session_log_end(peer_text(&s->peer, who, sizeof(who)), kind, (long)getpid(),
		    end_describe(wstatus, how, sizeof(how)), s->in, s->out, ms, live);
	free(s);
}

/* Our direction ends (TLS: its close-notify first); then a quit lingers, any other end closes. */
static void
conn_closing(struct loop_worker *w, struct loop_session *s)
{
	enum end end = (enum end)s->end_after;

	if (loop_io_shutdown(s) < 0) {
		if (errno == EAGAIN) {	/* TLS: the socket is full; s->wait says when to try again */
			conn_interest(w, s);
			return;
		}
	} else if (end == END_QUIT) {
		s->state = LOOP_LINGER;
		s->linger_ms = w->now + SESSION_LINGER_MS;
		if (loop_heap_set(&w->timers, s, s->linger_ms) == 0) {
			conn_interest(w, s);
			return;
		}
	}
	conn_close(w, s, W_EXITCODE(end, 0));
}

/*
 * The session's end is known. A client that ended its side, or a quit, still
 * gets what is held; a quit then lingers, and TLS says close-notify (as
 * session_run() does); anything else ends it now.
 */
static void
conn_finish(struct loop_worker *w, struct loop_session *s, enum end end)
{
	if (end == END_ERROR)
		log_msg(LOG_LVL_WARN, "event=session-error pid=%ld error=%s", (long)getpid(),
		    log_qerr());
	if (s->held != NULL && (end == END_EOF || end == END_QUIT)) {
		s->end_after = (uint8_t)end;
		conn_interest(w, s);
		return;
	}
	if (s->state == LOOP_RUN && (end == END_QUIT || (end == END_EOF && s->ssl != NULL))) {
		s->state = LOOP_CLOSING;
		s->end_after = (uint8_t)end;
		conn_closing(w, s);
		return;
	}
	conn_close(w, s, W_EXITCODE(end, 0));
}

/*
 * Lingering: input read and dropped until the client closes (or the deadline:
 * loop_session_due), TLS records too: nothing in them is wanted now.
 */
static void
conn_linger(struct loop_worker *w, struct loop_session *s)
{
	ssize_t n = recv(s->fd, w->buf, LOOP_BUF, 0);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
		return;
	conn_close(w, s, W_EXITCODE(END_QUIT, 0));
}

/* The client's end of input: what the service still has, then the end. */
static void
conn_input_over(struct loop_worker *w, struct loop_session *s)
{
	char *out = w->buf + LOOP_BUF;
	size_t m = w->svc->end != NULL ? w->svc->end(s, out) : 0;

	if (m > 0 && conn_send(w, s, out, m) < 0) {
		conn_finish(w, s, end_of_errno(errno));
		return;
	}
	conn_finish(w, s, END_EOF);
}

/* One read, through the service, and its answer sent (or held). Whether the session reads on. */
static bool
conn_read_once(struct loop_worker *w, struct loop_session *s)
{
	char *out = w->buf + LOOP_BUF;
	const char *reply;
	bool quit = false;
	size_t m;
	ssize_t n;

	if ((n = loop_io_recv(s, w->buf, LOOP_BUF)) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_finish(w, s, end_of_errno(errno));
		else
			conn_interest(w, s);	/* TLS: a read may wait for room to write */
		return false;
	}
	if (n == 0) {
		conn_input_over(w, s);
		return false;
	}
	conn_moved(w, s, (size_t)n, 0);
	reply = w->svc->feed(s, w->buf, (size_t)n, out, &m, &quit);
	if ((m > 0 && conn_send(w, s, reply, m) < 0) || conn_paced(w, s) < 0) {
		conn_finish(w, s, end_of_errno(errno));
		return false;
	}
	if (quit) {
		conn_finish(w, s, END_QUIT);
		return false;
	}
	conn_interest(w, s);
	return true;
}

/*
 * Reads: the first may take all OpenSSL's buffer holds (TLS reads records
 * ahead); then, while TLS holds input read already (no readiness would come
 * for it), reads that take from the socket only what completes the record
 * begun: a bounded amount, and nothing left that no readiness would announce.
 */
static void
conn_read(struct loop_worker *w, struct loop_session *s)
{
	if (w->svc->feed == NULL) {	/* chargen: input TLS read ahead is not for it */
		conn_interest(w, s);
		return;
	}
	loop_io_read_ahead(s, true);
	while (conn_read_once(w, s) && s->held == NULL && loop_io_buffered(s))
		loop_io_read_ahead(s, false);
}

/* Room to write: what is held first, then chargen's stream; then a decided end. */
static void
conn_write(struct loop_worker *w, struct loop_session *s)
{
	ssize_t n = 0;

	if (s->held != NULL) {
		n = loop_io_send(s, s->held + s->held_off, s->held_len - s->held_off);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_finish(w, s, end_of_errno(errno));
			return;
		}
		n = n < 0 ? 0 : n;
		conn_moved(w, s, 0, (size_t)n);
		if ((s->held_off += (uint32_t)n) == s->held_len) {
			free(s->held);
			s->held = NULL;
		}
	} else if (w->svc->streams && s->end_after == END_COUNT) {
		if ((n = loop_service_stream(w, s, STREAM_ROUNDS)) < 0) {	/* RFC 864: it ends when the client goes */
			conn_finish(w, s, errno == EPIPE || errno == ECONNRESET ? END_EOF : end_of_errno(errno));
			return;
		}
		conn_moved(w, s, 0, (size_t)n);
	}
	if (n > 0 && conn_paced(w, s) < 0)
		conn_finish(w, s, END_SLOW);
	else if (s->held == NULL && s->end_after != END_COUNT)
		conn_finish(w, s, (enum end)s->end_after);
	else if (s->held == NULL && loop_io_buffered(s))
		conn_read(w, s);
	else
		conn_interest(w, s);
}

/* The first bytes: the banner, daytime's line (all it sends); early: the client's are in. */
static void
conn_greet(struct loop_worker *w, struct loop_session *s, bool early)
{
	const struct session_params *p = w->job->session;
	char *out = w->buf + LOOP_BUF;
	size_t n;

	if (p->banner != NULL) {
		n = session_banner_text(s->fd, p, out, BANNER_MAX);
		if (conn_send(w, s, out, n) < 0) {
			s->banner = s->out;	/* what went out of it, as session_banner() counts: a check's reset */
			conn_finish(w, s, end_of_errno(errno));
			return;
		}
		s->banner = n;
	}
	if (w->svc->first != NULL) {
		if ((n = w->svc->first(out)) == 0 || conn_send(w, s, out, n) < 0) {
			conn_finish(w, s, n == 0 ? END_ERROR : end_of_errno(errno));
			return;
		}
		conn_finish(w, s, END_EOF);
		return;
	}
	/* TLS: records that came with the handshake's last; ,deferred: the bytes the accept waited for */
	if (s->held == NULL && (loop_io_buffered(s) || early))
		conn_read(w, s);
	else
		conn_interest(w, s);
}

/* A step of the TLS handshake; once done, the session begins as a plain one would. */
static void
conn_handshake(struct loop_worker *w, struct loop_session *s)
{
	int rc = loop_tls_handshake(w, s);

	if (rc == 0) {
		conn_interest(w, s);
		return;
	}
	if (rc < 0) {	/* ENODATA: a health check's connect-and-close; else logged */
		conn_close(w, s, W_EXITCODE(errno == ENODATA ? END_EOF : END_TLS, 0));
		return;
	}
	s->state = LOOP_RUN;
	s->last_ms = s->window_ms = w->now;
	loop_heap_set(&w->timers, s, loop_session_deadline(w, s));
	conn_greet(w, s, false);
}

struct loop_session *
loop_session_new(struct loop_worker *w, int fd, const struct peer *p, struct proxy_wait *pw)
{
	struct loop_session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		close(fd);
		return NULL;
	}
	s->fd = fd;
	s->spot = -1;
	s->heap_at = -1;
	s->end_after = END_COUNT;
	s->peer = *p;
	s->pw = pw;
	s->start_ms = s->last_ms = s->window_ms = w->now;
	upper_init(&s->upper);
	if (loop_heap_set(&w->timers, s, pw != NULL ? s->start_ms + w->job->proxy_timeout_ms :
	    loop_session_deadline(w, s)) < 0) {
		close(fd);
		free(s);
		return NULL;
	}
	return s;
}

void
loop_session_drop(struct loop_worker *w, struct loop_session *s)
{
	loop_heap_remove(&w->timers, s);
	close(s->fd);
	free(s->pw);
	free(s);
	w->pending--;
}

void
loop_session_begin(struct loop_worker *w, struct loop_session *s, bool early)
{
	const struct peer *p = &s->peer;
	char who[PEER_TEXT_MAX];
	int live;

	if (p->check)	/* its PROXY header said so: a check, counted now */
		__atomic_store_n(&w->me->checks, w->me->checks + 1, __ATOMIC_RELAXED);
	live = __atomic_add_fetch(&w->job->totals->live, 1, __ATOMIC_RELAXED);
	if (live >= w->job->max_conns)	/* -c reached: the supervisor's limit line counts it */
		__atomic_add_fetch(&w->job->totals->at_limit, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&w->me->live, w->me->live + 1, __ATOMIC_RELAXED);
	if (log_enabled(p->check ? LOG_LVL_DEBUG : LOG_LVL_INFO))
		session_log_connect(peer_text(p, who, sizeof(who)), p->check, (long)getpid(), live);
	if (!p->tls) {
		conn_greet(w, s, early);
		return;
	}
	if (loop_tls_open(w, s) < 0) {
		conn_finish(w, s, END_ERROR);
		return;
	}
	s->state = LOOP_HANDSHAKE;
	loop_heap_set(&w->timers, s, loop_session_deadline(w, s));
	conn_interest(w, s);
}

int
loop_session_start(struct loop_worker *w, int fd, const struct peer *p, int spot, bool early)
{
	struct loop_session *s = loop_session_new(w, fd, p, NULL);

	if (s == NULL)
		return -1;
	s->spot = spot;
	loop_session_begin(w, s, early);
	return 0;
}

void
loop_session_due(struct loop_worker *w, struct loop_session *s, int64_t now)
{
	const struct session_params *p = w->job->session;
	int64_t due = loop_session_deadline(w, s);

	if (s->pw != NULL) {	/* its PROXY header is late */
		admission_proxy_failed(&w->adm, &s->peer, "timeout", now);
		loop_session_drop(w, s);
		return;
	}
	if (due > now) {	/* it moved bytes since: later */
		loop_heap_set(&w->timers, s, due);
		return;
	}
	if (s->state == LOOP_LINGER)
		conn_close(w, s, W_EXITCODE(END_QUIT, 0));
	else if (p->max_time > 0 && now - s->start_ms >= (int64_t)p->max_time * 1000)
		conn_close(w, s, W_EXITCODE(END_MAX_TIME, 0));
	else if (s->state == LOOP_HANDSHAKE && loop_tls_timed_out(w, s) < 0)
		conn_close(w, s, W_EXITCODE(END_TLS, 0));
	else
		conn_close(w, s, W_EXITCODE(END_IDLE, 0));
}

void
loop_session_kill(struct loop_worker *w, struct loop_session *s, int sig)
{
	if (s->pw != NULL)
		loop_session_drop(w, s);
	else
		conn_close(w, s, sig);
}

void
loop_session_ready(struct loop_worker *w, struct loop_session *s, uint32_t ev)
{
	(void)ev;
	if (s->pw != NULL)
		loop_proxy_step(w, s);
	else if (s->state == LOOP_HANDSHAKE)
		conn_handshake(w, s);
	else if (s->state == LOOP_CLOSING)
		conn_closing(w, s);
	else if (s->state == LOOP_LINGER)
		conn_linger(w, s);
	else if (s->held != NULL || w->svc->streams)
		conn_write(w, s);
	else
		conn_read(w, s);
}
