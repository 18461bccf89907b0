/*
 * load: mpecho-bench's load. One epoll loop per thread, non-blocking
 * connections, every byte received checked against what was sent (check.c).
 */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"

#define STREAM_WINDOW (256 * 1024)	/* stream mode: bytes in flight per connection at most */
#define EVENT_READS 64			/* reads for one event at most, then back to the loop */

void
conn_set_events(struct thread *t, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	epoll_ctl(t->epfd, c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->w.fd, &ev);
	c->events = events;
}

void
conn_close(struct thread *t, struct conn *c, int64_t retry_ns)
{
	if (c->state == C_PACED)
		pace_remove(&t->pace, (int)(c - t->conns));
	conn_opened(t, c);
	wire_close(&c->w);
	c->events = 0;
	c->state = C_IDLE;
	c->retry_at = clock_ns() + retry_ns;
}

/* The connection broke: count why, and what was lost. */
void
conn_fail(struct thread *t, struct conn *c, uint64_t *counter)
{
	(*counter)++;
	if (c->state == C_HELD)
		t->held--;
	/*
	 * Lost bytes are data an echo server took and never returned: it closed
	 * after echoing some. A connection refused (nothing echoed) or reset is a
	 * connection error, counted as such, not lost data.
	 */
	if (counter == &t->err.closed && c->rx > 0 && c->tx > c->rx)
		t->err.lost += c->tx - c->rx;
	conn_close(t, c, (int64_t)RETRY_MS * 1000000);
}

/* Queue the next message: connrate and pingpong send `size` bytes, then wait for them. */
static void
next_message(struct thread *t, struct conn *c)
{
	c->msg_end = c->tx + (uint64_t)t->b->size;
	c->t_progress = clock_ns();
	c->t_start = t->b->rate > 0 ? c->due : c->t_progress;
}

void
load_count_op(struct thread *t, int64_t started, int64_t now)
{
	__atomic_store_n(&t->progress_ops, t->progress_ops + 1, __ATOMIC_RELAXED);
	if (load_phase() != PHASE_MEASURE)
		return;
	t->ops++;
	stats_add(&t->lat, now > started ? (uint64_t)(now - started) : 0);
	if (load_count_reached(t->b->count))
		load_end_measure(now);
}

void
load_publish(struct thread *t)
{
	const struct errors *e = &t->err;

	__atomic_store_n(&t->progress_errors, e->connect + e->reset + e->closed + e->timeout +
	    e->dropped, __ATOMIC_RELAXED);
	__atomic_store_n(&t->progress_bad, e->lost + e->extra + e->corrupt, __ATOMIC_RELAXED);
}

int
load_wait(struct thread *t, struct epoll_event *ev, int max, int ms)
{
	int64_t left = t->pace.n > 0 ? pace_next(&t->pace) - clock_ns() : INT64_MAX;
	struct timespec ts;

	if (left >= (int64_t)ms * 1000000)
		return epoll_wait(t->epfd, ev, max, ms);
	left = left < 0 ? 0 : left;
	ts = (struct timespec){ left / 1000000000, left % 1000000000 };
	return epoll_pwait2(t->epfd, ev, max, &ts, NULL);
}

/*
 * --rate: when the connection's next operation is due; true if that is still
 * to come: it waits (C_PACED) in the thread's heap until then. Its latency
 * counts from then, not from when it really starts.
 */
static bool
conn_paced(struct thread *t, struct conn *c, int64_t now)
{
	const struct bench *b = t->b;

	if (b->rate <= 0)
		return false;
	c->due = pace_due(load_epoch(), b->rate, b->conns, c->id, c->paced++);
	if (c->due <= now)
		return false;
	if (pace_push(&t->pace, (int)(c - t->conns), c->due) < 0)
		return false;
	c->state = C_PACED;
	if (c->w.fd >= 0)
		conn_set_events(t, c, EPOLLIN);	/* a close or stray bytes while it waits */
	return true;
}

/* Bytes that count for stream, sink and source: on the progress line, and while measuring. */
static void
count_bytes(struct thread *t, size_t n)
{
	__atomic_store_n(&t->progress_bytes, t->progress_bytes + n, __ATOMIC_RELAXED);
	if (load_phase() == PHASE_MEASURE)
		t->bytes += n;
}

/*
 * Send what the mode allows now (sink: a few chunks a turn, for ever; while
 * draining, nothing more, but a hold connection still sends its check). False
 * if the connection failed.
 */
static bool
conn_send(struct thread *t, struct conn *c)
{
	enum mode m = t->b->mode;
	uint64_t limit = load_phase() == PHASE_DRAIN && m != MODE_HOLD ? c->tx : m == MODE_STREAM ?
	    c->rx + STREAM_WINDOW : m == MODE_SINK ? c->tx + 4 * CHUNK : c->msg_end;
	ssize_t n;

	while (c->tx < limit) {
		size_t len = limit - c->tx > CHUNK ? CHUNK : (size_t)(limit - c->tx);

		n = wire_send(&c->w, check_pattern(c->base + c->tx), len, NULL, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_set_events(t, c, EPOLLIN | EPOLLOUT);	/* TLS may want either */
				return true;
			}
			if (errno == EINTR)
				continue;
			conn_fail(t, c, errno == ECONNRESET || errno == EPIPE ? &t->err.reset : &t->err.closed);
			return false;
		}
		c->tx += (uint64_t)n;
		c->t_progress = clock_ns();
		if (m == MODE_SINK)
			count_bytes(t, (size_t)n);
	}
	conn_set_events(t, c, m == MODE_SINK ? EPOLLIN | EPOLLOUT : EPOLLIN);
	return true;
}

/* The next session (connrate) or message (pingpong), now or when --rate says. */
static void
conn_next(struct thread *t, struct conn *c)
{
	if (conn_paced(t, c, clock_ns()))
		return;
	if (t->b->mode == MODE_CONNRATE) {
		conn_open(t, c);
		return;
	}
	next_message(t, c);
	conn_send(t, c);
}

/* --rate: a connection's time has come. */
static void
conn_resume(struct thread *t, struct conn *c)
{
	if (t->b->mode == MODE_CONNRATE) {
		c->state = C_IDLE;
		conn_open(t, c);
		return;
	}
	c->state = C_ACTIVE;
	next_message(t, c);
	conn_send(t, c);
}

/* One-way: a sink must send nothing back, a source RFC 864's stream from its first byte. False: done. */
static bool
conn_one_way(struct thread *t, struct conn *c, const unsigned char *buf, size_t n)
{
	if (t->b->mode == MODE_SINK) {
		t->err.extra += n;
		conn_fail(t, c, &t->err.closed);
		return false;
	}
	t->err.corrupt += check_chargen(buf, c->rx, n);
	c->rx += n;
	count_bytes(t, n);
	return true;
}

/* A whole message (or session) came back: account for it and go on. */
static void
message_done(struct thread *t, struct conn *c, int64_t now)
{
	conn_opened(t, c);
	switch (t->b->mode) {
	case MODE_CONNRATE:
		load_count_op(t, c->t_start, now);
		conn_close(t, c, 0);
		conn_next(t, c);
		break;
	case MODE_PINGPONG:
		load_count_op(t, c->t_start, now);
		conn_next(t, c);
		break;
	case MODE_HOLD:
		c->state = C_HELD;
		c->was_held = true;
		t->held++;
		__atomic_store_n(&t->progress_ops, t->held, __ATOMIC_RELAXED);
		break;
	default:	/* stream, sink, source: no messages */
		break;
	}
}

static void
conn_receive(struct thread *t, struct conn *c, unsigned char *buf)
{
	ssize_t n;
	int64_t now;
	int reads;

	/* Bounded: a server that always has the next reply ready cannot keep this loop from the stop flag. */
	for (reads = 0; reads < EVENT_READS; reads++) {
		n = wire_recv(&c->w, buf, CHUNK, NULL, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			conn_fail(t, c, &t->err.reset);
			return;
		}
		if (n == 0) {
			/* The server closed: an error unless a held connection is what it closed. */
			conn_fail(t, c, &t->err.closed);
			return;
		}
		now = clock_ns();
		c->t_progress = now;
		if (t->b->mode == MODE_SINK || t->b->mode == MODE_SOURCE) {
			if (!conn_one_way(t, c, buf, (size_t)n))
				return;
			continue;
		}
		if (c->rx + (uint64_t)n > c->tx) {
			t->err.extra += c->rx + (uint64_t)n - c->tx;
			n = (ssize_t)(c->tx - c->rx);
			t->err.corrupt += check_echo(buf, c->base + c->rx, (size_t)n);
			c->rx = c->tx;
			conn_fail(t, c, &t->err.closed);
			return;
		}
		t->err.corrupt += check_echo(buf, c->base + c->rx, (size_t)n);
		c->rx += (uint64_t)n;
		if (t->b->mode == MODE_STREAM) {
			count_bytes(t, (size_t)n);
			if (!conn_send(t, c))
				return;
		} else if (c->rx == c->msg_end) {
			message_done(t, c, now);
			if (c->state != C_ACTIVE)
				return;
		}
	}
}

/* The echo begins: the first message (or the stream) goes out. */
void
conn_start(struct thread *t, struct conn *c)
{
	enum mode m = t->b->mode;

	c->state = C_ACTIVE;
	if (m == MODE_STREAM || m == MODE_SINK || m == MODE_SOURCE)
		conn_opened(t, c);	/* no messages: connected is through */
	if (m == MODE_SOURCE) {
		conn_set_events(t, c, EPOLLIN);	/* nothing to send: the server talks */
		return;
	}
	if (m == MODE_PINGPONG) {
		conn_next(t, c);	/* the first message: now, or when --rate says */
		return;
	}
	if (m != MODE_STREAM)
		c->msg_end = (uint64_t)t->b->size;	/* connrate: t_start stays the connect time */
	conn_send(t, c);
}

/* Reconnect idle connections (not while draining), and fail those that waited too long without progress. */
static void
sweep(struct thread *t, int64_t now)
{
	int64_t limit = (int64_t)t->b->timeout_ms * 1000000;
	int i;

	for (i = 0; i < t->nconns; i++) {
		struct conn *c = &t->conns[i];

		if (c->state == C_IDLE && now >= c->retry_at && !c->was_held)
			conn_open(t, c);
		else if (c->state != C_IDLE && c->state != C_HELD && c->state != C_PACED &&
		    now - c->t_progress > limit)
			conn_fail(t, c, &t->err.timeout);
	}
	load_publish(t);
}

/*
 * Draining: whether a connection still waits on the server: to get through
 * its opening, for echoes it is owed, or (source) for its first bytes.
 */
static bool
conn_owed(const struct thread *t, const struct conn *c)
{
	enum mode m = t->b->mode;

	if (c->state == C_CONNECTING || c->state == C_HANDSHAKE || c->state == C_BANNER)
		return true;
	if (c->state != C_ACTIVE || m == MODE_SINK)
		return false;
	return m == MODE_SOURCE ? c->rx == 0 : c->rx < c->tx;
}

/* Draining: the connections owed nothing are closed; the number still owed. */
static int
drain(struct thread *t)
{
	int i, owed = 0;

	for (i = 0; i < t->nconns; i++) {
		struct conn *c = &t->conns[i];

		if (conn_owed(t, c))
			owed++;
		else if (c->state == C_ACTIVE)
			conn_close(t, c, 0);
	}
	return owed;
}

/* One epoll event on a connection, handed to what its state waits for. */
static void
conn_event(struct thread *t, struct conn *c, uint32_t events, unsigned char *buf)
{
	if (c->w.fd < 0)
		return;
	if (c->state == C_BANNER)
		conn_banner(t, c, buf);
	else if (c->state == C_CONNECTING)
		conn_connected(t, c);
	else if (c->state == C_HANDSHAKE)
		conn_handshake(t, c);
	else {	/* active, or waiting for its --rate time (what comes then is extra) */
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_receive(t, c, buf);
		if (c->w.fd >= 0 && c->state == C_ACTIVE && (events & EPOLLOUT))
			conn_send(t, c);
	}
}

/*
 * The stream modes' loop: connections driven by their epoll events, swept
 * for timeouts, until the drain finds none still owed an echo.
 */
static void *
load_streams(struct thread *t)
{
	struct epoll_event ev[256];
	unsigned char *buf = malloc(CHUNK);
	int64_t last_sweep = 0, now;
	int i, n;

	if (buf == NULL)
		return NULL;
	for (i = 0; i < t->nconns; i++)
		if (t->b->mode != MODE_CONNRATE || !conn_paced(t, &t->conns[i], clock_ns()))
			conn_open(t, &t->conns[i]);
	while (load_phase() != PHASE_DRAIN || drain(t) > 0) {
		n = load_wait(t, ev, 256, load_phase() == PHASE_DRAIN ? 10 : 50);
		for (i = 0; i < n; i++)
			conn_event(t, ev[i].data.ptr, ev[i].events, buf);
		now = clock_ns();
		while (load_phase() != PHASE_DRAIN && (i = pace_pop(&t->pace, now)) >= 0)
			conn_resume(t, &t->conns[i]);
		if (now - last_sweep > 20000000) {
			sweep(t, now);
			last_sweep = now;
		}
	}
	load_publish(t);	/* the drain's errors, for --html's last interval */
	free(buf);		/* the connections stay open to load_thread_free(): hold's memory is measured */
	return NULL;
}

void *
load_thread_run(void *arg)
{
	struct thread *t = arg;

	return t->b->mode == MODE_UDP ? udp_thread_run(t) : load_streams(t);
}


int
load_thread_init(struct thread *t, const struct bench *b, unsigned first_id, int nconns)
{
	int j;

	t->b = b;
	t->nconns = nconns;
	t->first_id = first_id;
	/* this thread's share of --ramp, as of its connections, rounded up (0: no bound) */
	t->ramp = (int)(((long)b->ramp * nconns + b->conns - 1) / b->conns);
	stats_init(&t->lat);
	if ((t->conns = calloc((size_t)nconns, sizeof(*t->conns))) == NULL ||
	    (t->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    pace_init(&t->pace, b->rate > 0 ? nconns : 0) < 0)
		return -1;
	for (j = 0; j < nconns; j++) {
		unsigned id = first_id + (unsigned)j;

		t->conns[j].w.fd = -1;
		t->conns[j].w.ssl = NULL;
		t->conns[j].base = (uint64_t)id * 7919u * 64u;
		t->conns[j].source = id;
		t->conns[j].id = id;
	}
	return 0;
}

void
load_thread_free(struct thread *t)
{
	int i;

	for (i = 0; i < t->nconns; i++)
		wire_close(&t->conns[i].w);
	close(t->epfd);
	free(t->conns);
	pace_free(&t->pace);
}
