/*
 * load: mpecho-bench's load. One epoll loop per thread, non-blocking
 * connections, every byte received checked against what was sent.
 *
 * Each connection sends a slice of one shared pseudo-random pattern, starting
 * at its own offset, so checking a received chunk is one memcmp against the
 * pattern at the connection's receive position: nothing is stored per byte.
 */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "chargen.h"
#include "clock.h"
#include "log.h"

#define PATTERN_SIZE (1u << 20)
#define STREAM_WINDOW (256 * 1024)	/* stream mode: bytes in flight per connection at most */
#define RETRY_MS 10			/* wait before reconnecting after a failure */
#define EVENT_READS 64			/* reads for one event at most, then back to the loop */

enum conn_state { C_IDLE, C_CONNECTING, C_BANNER, C_ACTIVE, C_HELD };

#define BANNER_MAX 1024			/* --banner: the server's first line is at most this long */

struct conn {
	int fd;
	enum conn_state state;
	uint32_t events;		/* epoll interest now registered */
	uint64_t base;			/* where this connection starts in the pattern */
	uint64_t tx, rx;		/* bytes sent and received on this connection */
	uint64_t msg_end;		/* tx position where the current message ends */
	int64_t t_start;		/* ns: session (connrate) or message (pingpong) start */
	int64_t t_progress;		/* ns: last progress, for --timeout */
	int64_t retry_at;		/* ns: when an idle connection may reconnect */
	bool was_held;			/* hold mode: a held connection that closed stays closed */
	unsigned source;
	size_t banner_len;		/* --banner: bytes of the server's line so far */
};

/* 0: warm-up, 1: measuring, 2: stop. Written by the main thread, read by the workers. */
static int phase;
static uint64_t measured_ops;		/* summed over threads, for --count */
static unsigned char pattern[PATTERN_SIZE + CHUNK];
static char chargen[CHARGEN_PERIOD + CHUNK];	/* source mode: RFC 864's stream, a slice per read */

int
load_phase(void)
{
	return __atomic_load_n(&phase, __ATOMIC_RELAXED);
}

void
load_set_phase(int p)
{
	__atomic_store_n(&phase, p, __ATOMIC_RELAXED);
}

/* xorshift64*: the same pattern on every run. The tail repeats the head so any slice is contiguous. */
void
load_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < PATTERN_SIZE; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		pattern[i] = (unsigned char)((x * 2685821657736338717ull) >> 56);
	}
	memcpy(pattern + PATTERN_SIZE, pattern, CHUNK);
	chargen_fill(chargen, sizeof(chargen), 0);
}

static const unsigned char *
pattern_at(const struct conn *c, uint64_t pos)
{
	return pattern + (c->base + pos) % PATTERN_SIZE;
}

static void
set_events(struct thread *t, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	epoll_ctl(t->epfd, c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
	c->events = events;
}

static void
conn_close(struct thread *t, struct conn *c, int64_t retry_ns)
{
	(void)t;
	if (c->fd >= 0)
		close(c->fd);	/* also leaves the epoll set */
	c->fd = -1;
	c->events = 0;
	c->state = C_IDLE;
	c->retry_at = clock_ns() + retry_ns;
}

/* The connection broke: count why, and what was lost. */
static void
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

static void
conn_open(struct thread *t, struct conn *c)
{
	const struct bench *b = t->b;
	int on = 1;

	c->tx = c->rx = c->msg_end = 0;
	c->fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (b->sources > 0) {
		struct sockaddr_in src = { .sin_family = AF_INET };

		/* The port is chosen at connect(), per destination: many sources, many ports. */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on));
		src.sin_addr.s_addr = htonl(SOURCE_FIRST + c->source % (unsigned)b->sources);
		bind(c->fd, (struct sockaddr *)&src, sizeof(src));
		c->source++;
	}
	c->t_start = c->t_progress = clock_ns();
	if (connect(c->fd, (const struct sockaddr *)&b->addr, b->addrlen) < 0 && errno != EINPROGRESS) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	c->state = C_CONNECTING;
	set_events(t, c, EPOLLOUT);
}

/* Queue the next message: connrate and pingpong send `size` bytes, then wait for them. */
static void
next_message(struct thread *t, struct conn *c)
{
	c->msg_end = c->tx + (uint64_t)t->b->size;
	c->t_start = clock_ns();
}

static void
count_op(struct thread *t, int64_t started, int64_t now)
{
	__atomic_store_n(&t->progress_ops, t->progress_ops + 1, __ATOMIC_RELAXED);
	if (load_phase() != 1)
		return;
	t->ops++;
	stats_add(&t->lat, (uint64_t)(now - started));
	if (t->b->count > 0 &&
	    __atomic_add_fetch(&measured_ops, 1, __ATOMIC_RELAXED) >= t->b->count)
		load_set_phase(2);
}

/* Bytes that count for stream, sink and source: on the progress line, and while measuring. */
static void
count_bytes(struct thread *t, size_t n)
{
	__atomic_store_n(&t->progress_bytes, t->progress_bytes + n, __ATOMIC_RELAXED);
	if (load_phase() == 1)
		t->bytes += n;
}

/* Send what the mode allows now (sink: a few chunks a turn, for ever). False if the connection failed. */
static bool
conn_send(struct thread *t, struct conn *c)
{
	enum mode m = t->b->mode;
	uint64_t limit = m == MODE_STREAM ? c->rx + STREAM_WINDOW : m == MODE_SINK ?
	    c->tx + 4 * CHUNK : c->msg_end;
	ssize_t n;

	while (c->tx < limit) {
		size_t len = limit - c->tx > CHUNK ? CHUNK : (size_t)(limit - c->tx);

		n = send(c->fd, pattern_at(c, c->tx), len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_events(t, c, EPOLLIN | EPOLLOUT);
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
	set_events(t, c, m == MODE_SINK ? EPOLLIN | EPOLLOUT : EPOLLIN);
	return true;
}

/* One-way: a sink must send nothing back, a source RFC 864's stream from its first byte. False: done. */
static bool
conn_one_way(struct thread *t, struct conn *c, const unsigned char *buf, size_t n)
{
	size_t i;

	if (t->b->mode == MODE_SINK) {
		t->err.extra += n;
		conn_fail(t, c, &t->err.closed);
		return false;
	}
	if (memcmp(buf, chargen + c->rx % CHARGEN_PERIOD, n) != 0)
		for (i = 0; i < n; i++)
			t->err.corrupt += buf[i] != (unsigned char)chargen[(c->rx + i) % CHARGEN_PERIOD];
	c->rx += n;
	count_bytes(t, n);
	return true;
}

/* Compare a received chunk with what was sent at that position; count differing bytes. */
static void
verify(struct thread *t, const struct conn *c, const unsigned char *buf, size_t n)
{
	const unsigned char *want = pattern_at(c, c->rx);
	size_t i;

	if (memcmp(buf, want, n) == 0)
		return;
	for (i = 0; i < n; i++)
		if (buf[i] != want[i])
			t->err.corrupt++;
}

/* A whole message (or session) came back: account for it and go on. */
static void
message_done(struct thread *t, struct conn *c, int64_t now)
{
	switch (t->b->mode) {
	case MODE_CONNRATE:
		count_op(t, c->t_start, now);
		conn_close(t, c, 0);
		conn_open(t, c);
		break;
	case MODE_PINGPONG:
		count_op(t, c->t_start, now);
		next_message(t, c);
		conn_send(t, c);
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
		n = recv(c->fd, buf, CHUNK, 0);
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
			verify(t, c, buf, (size_t)n);
			c->rx = c->tx;
			conn_fail(t, c, &t->err.closed);
			return;
		}
		verify(t, c, buf, (size_t)n);
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

static void conn_start(struct thread *t, struct conn *c);

/*
 * --banner: read the server's first line. Anything after its newline came
 * before any byte was sent, so it cannot be echo: it counts as extra.
 */
static void
conn_banner(struct thread *t, struct conn *c, unsigned char *buf)
{
	ssize_t n = recv(c->fd, buf, BANNER_MAX, 0);
	unsigned char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_fail(t, c, n == 0 ? &t->err.closed : &t->err.reset);
		return;
	}
	c->t_progress = clock_ns();
	if ((nl = memchr(buf, '\n', (size_t)n)) == NULL) {
		if ((c->banner_len += (size_t)n) > BANNER_MAX)
			conn_fail(t, c, &t->err.closed);
		return;
	}
	if (nl + 1 < buf + n) {
		t->err.extra += (uint64_t)(buf + n - (nl + 1));
		conn_fail(t, c, &t->err.closed);
		return;
	}
	conn_start(t, c);
}

static void
conn_connected(struct thread *t, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	c->t_progress = clock_ns();
	if (t->b->banner) {
		c->state = C_BANNER;	/* the echo starts once the server's line is in */
		c->banner_len = 0;
		set_events(t, c, EPOLLIN);
		return;
	}
	conn_start(t, c);
}

/* The echo begins: the first message (or the stream) goes out. */
static void
conn_start(struct thread *t, struct conn *c)
{
	c->state = C_ACTIVE;
	if (t->b->mode == MODE_SOURCE) {
		set_events(t, c, EPOLLIN);	/* nothing to send: the server talks */
		return;
	}
	if (t->b->mode != MODE_STREAM)
		c->msg_end = (uint64_t)t->b->size;	/* connrate: t_start stays the connect time */
	if (t->b->mode == MODE_PINGPONG)
		c->t_start = c->t_progress;
	conn_send(t, c);
}

/* Reconnect idle connections, and fail those that waited too long without progress. */
static void
sweep(struct thread *t, int64_t now)
{
	int64_t limit = (int64_t)t->b->timeout_ms * 1000000;
	int i;

	for (i = 0; i < t->nconns; i++) {
		struct conn *c = &t->conns[i];

		if (c->state == C_IDLE && now >= c->retry_at && !c->was_held)
			conn_open(t, c);
		else if ((c->state == C_CONNECTING || c->state == C_BANNER || c->state == C_ACTIVE) &&
		    now - c->t_progress > limit)
			conn_fail(t, c, &t->err.timeout);
	}
}

void *
load_thread_run(void *arg)
{
	struct thread *t = arg;
	struct epoll_event ev[256];
	unsigned char *buf = malloc(CHUNK);
	int64_t last_sweep = 0, now;
	int i, n;

	if (buf == NULL)
		return NULL;
	for (i = 0; i < t->nconns; i++)
		conn_open(t, &t->conns[i]);
	while (load_phase() != 2) {
		n = epoll_wait(t->epfd, ev, 256, 50);
		for (i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (c->fd < 0)
				continue;
			if (c->state == C_BANNER) {
				conn_banner(t, c, buf);
				continue;
			}
			if (c->state == C_CONNECTING) {
				conn_connected(t, c);
				continue;
			}
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_receive(t, c, buf);
			if (c->fd >= 0 && c->state == C_ACTIVE && (ev[i].events & EPOLLOUT))
				conn_send(t, c);
		}
		now = clock_ns();
		if (now - last_sweep > 20000000) {
			sweep(t, now);
			last_sweep = now;
		}
	}
	for (i = 0; i < t->nconns; i++)
		if (t->conns[i].fd >= 0)
			close(t->conns[i].fd);
	free(buf);
	return NULL;
}


int
load_thread_init(struct thread *t, const struct bench *b, unsigned first_id, int nconns)
{
	int j;

	t->b = b;
	t->nconns = nconns;
	t->first_id = first_id;
	stats_init(&t->lat);
	if ((t->conns = calloc((size_t)nconns, sizeof(*t->conns))) == NULL ||
	    (t->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	for (j = 0; j < nconns; j++) {
		unsigned id = first_id + (unsigned)j;

		t->conns[j].fd = -1;
		t->conns[j].base = (uint64_t)id * 7919u * 64u;
		t->conns[j].source = id;
	}
	return 0;
}

void
load_thread_free(struct thread *t)
{
	close(t->epfd);
	free(t->conns);
}
