/* open: a load connection's way in: connect (at most --ramp at once), the TLS handshake, the banner. */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "clock.h"

#define BANNER_MAX 1024			/* --banner: the server's first line is at most this long */

static void conn_greeted(struct thread *t, struct conn *c);
static void ramp_open(struct thread *t);

/*
 * --ramp: a connection is opening from its connect() until its first message
 * has come back (for stream, sink and source: until it is connected); only
 * so many are at once, the rest wait their turn here instead of in the
 * server's listen queue.
 */
void
conn_opened(struct thread *t, struct conn *c)
{
	if (!c->opening)
		return;
	c->opening = false;
	t->opening--;
	if (t->ramp > 0)
		ramp_open(t);	/* its place goes to the next waiting one */
}

void
conn_open(struct thread *t, struct conn *c)
{
	const struct bench *b = t->b;
	char why[160];
	int on = 1;

	if (load_phase() == PHASE_DRAIN || (t->ramp > 0 && t->opening >= t->ramp))
		return;			/* stays idle: ramp_open() or the sweep opens it later */
	c->tx = c->rx = c->msg_end = 0;
	c->w.fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->w.fd < 0) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	setsockopt(c->w.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (b->so.set != 0 && sockopt_apply(c->w.fd, &b->so, SOCKOPT_AT_CLIENT, why, sizeof(why)) < 0) {
		t->err.connect++;	/* the probe's took them: this is no usual case */
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	if (b->sources > 0) {
		struct sockaddr_in src = { .sin_family = AF_INET };

		/* The port is chosen at connect(), per destination: many sources, many ports. */
		setsockopt(c->w.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on));
		src.sin_addr.s_addr = htonl(SOURCE_ADDR(b, c->source));
		bind(c->w.fd, (struct sockaddr *)&src, sizeof(src));
		c->source++;
	}
	c->t_start = c->t_progress = clock_ns();
	if (b->rate > 0)
		c->t_start = c->due;	/* connrate --rate: the latency counts from when it was due */
	if (connect(c->w.fd, (const struct sockaddr *)&b->addr, b->addrlen) < 0 && errno != EINPROGRESS) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	c->state = C_CONNECTING;
	c->opening = true;
	t->opening++;
	conn_set_events(t, c, EPOLLOUT);
}


/*
 * --banner: read the server's first line. Anything after its newline came
 * before any byte was sent, so it cannot be echo: it counts as extra.
 */
void
conn_banner(struct thread *t, struct conn *c, unsigned char *buf)
{
	ssize_t n = wire_recv(&c->w, buf, BANNER_MAX, NULL, 0);
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

void
conn_connected(struct thread *t, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(c->w.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	c->t_progress = clock_ns();
	__atomic_store_n(&t->progress_conns, t->progress_conns + 1, __ATOMIC_RELAXED);
	if (t->b->tls) {
		c->state = C_HANDSHAKE;
		conn_handshake(t, c);
		return;
	}
	conn_greeted(t, c);
}

/* Connected (and through the handshake): the banner first if one comes, then the echo. */
static void
conn_greeted(struct thread *t, struct conn *c)
{
	if (t->b->banner) {
		c->state = C_BANNER;	/* the echo starts once the server's line is in */
		c->banner_len = 0;
		conn_set_events(t, c, EPOLLIN);
		return;
	}
	conn_start(t, c);
}

/* --tls: one step of the handshake; a failed one is a connection error (counted, retried). */
void
conn_handshake(struct thread *t, struct conn *c)
{
	int rc = wire_handshake(&c->w, t->b->tls_ctx, t->b->host);

	if (rc < 0) {
		conn_fail(t, c, errno == EPROTO ? &t->err.connect : &t->err.reset);
		return;
	}
	c->t_progress = clock_ns();
	if (rc == 0)
		conn_set_events(t, c, c->w.want == POLLIN ? EPOLLIN : EPOLLOUT);
	else
		conn_greeted(t, c);
}

/* --ramp: open idle connections while there is room, from where the last search stopped. */
static void
ramp_open(struct thread *t)
{
	int64_t now = clock_ns();
	int tried;

	for (tried = 0; tried < t->nconns && t->opening < t->ramp; tried++) {
		struct conn *c = &t->conns[t->next_idle];

		t->next_idle = (t->next_idle + 1) % t->nconns;
		if (c->state == C_IDLE && now >= c->retry_at && !c->was_held)
			conn_open(t, c);
	}
}
