/* metrics: accepting scrapes, reading requests, writing answers, never blocking. */
#include "metrics.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acl.h"
#include "net.h"

void
metrics_printf(struct metrics_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p != NULL ? t->p + t->len : NULL, t->p != NULL ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0 || t->failed)
			return;
		if (t->p != NULL && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		if ((p = realloc(t->p, t->cap * 2 + (size_t)n + 1024)) == NULL) {
			t->failed = 1;
			return;
		}
		t->p = p;
		t->cap = t->cap * 2 + (size_t)n + 1024;
	}
}

int
metrics_poll_fill(const struct metrics *m, struct pollfd *pfd)
{
	int i, n = 0;

	if (m->fd < 0 && m->n == 0)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = m->n < METRICS_CLIENTS ? m->fd : -1, .events = POLLIN };
	for (i = 0; i < m->n; i++)
		pfd[n++] = (struct pollfd){ .fd = m->clients[i].fd,
		    .events = m->clients[i].out != NULL ? POLLOUT : POLLIN };
	return n;
}

static void
metrics_drop(struct metrics *m, int i)
{
	close(m->clients[i].fd);
	free(m->clients[i].out);
	m->clients[i] = m->clients[--m->n];
}

/* Send what is left of the answer; done (or failed) closes the client. */
static void
metrics_write(struct metrics *m, int i)
{
	struct metrics_client *c = &m->clients[i];
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && (c->out_off += (size_t)n) < c->out_len)
		return;
	m->answered++;
	/*
	 * A lingering close: closing with unread input would reset the connection
	 * and could destroy the answer in flight (an oversized request's 431).
	 */
	if (n < 0 || shutdown(c->fd, SHUT_WR) < 0) {
		metrics_drop(m, i);
		return;
	}
	free(c->out);
	c->out = NULL;
	c->closing = 1;
}

/* Build the answer: status line, headers, and the body unless HEAD. */
static void
metrics_answer(struct metrics *m, struct metrics_client *c, int status, const struct http_request *r)
{
	struct metrics_text body = { 0 }, all = { 0 };

	if (status == 200)
		status = m->render(m->ctx, r, &body);
	if (body.failed) {
		status = 503;
		free(body.p);
		body = (struct metrics_text){ 0 };
	}
	if (status != 200 && body.len == 0)
		metrics_printf(&body, "%d %s\n", status, http_reason(status));
	metrics_printf(&all, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%s%sConnection: close\r\n\r\n", status, http_reason(status),
	    body.type != NULL ? body.type : "text/plain; charset=utf-8", body.len,
	    body.headers != NULL ? body.headers : "", status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!r->head && body.len > 0)
		metrics_printf(&all, "%.*s", (int)body.len, body.p);
	free(body.p);
	c->out = all.p;
	c->out_len = all.failed ? 0 : all.len;
	c->out_off = 0;
}

static void
metrics_read(struct metrics *m, int i)
{
	struct metrics_client *c = &m->clients[i];
	struct http_request r;
	char sink[512];
	ssize_t n;
	int status;

	if (c->closing) {	/* answered: drain what it still sends, until it closes */
		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			metrics_drop(m, i);
		return;
	}
	n = recv(c->fd, c->req + c->have, sizeof(c->req) - c->have, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		metrics_drop(m, i);
		return;
	}
	c->have += (size_t)n;	/* a full buffer is decided: http_parse() answers 431 */
	if ((status = http_parse(c->req, c->have, &r)) == 0)
		return;
	metrics_answer(m, c, status, &r);
	metrics_write(m, i);
}

/*
 * A peer --metrics-allow refuses is closed at once, before it takes a slot, so
 * that a crowd of them cannot keep a scraper waiting: a 403 is sent if the new
 * socket's empty buffer takes it, unread input or not (best effort).
 */
static void
metrics_refuse(struct metrics *m, int fd)
{
	static const char forbidden[] = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: 14\r\nConnection: close\r\n\r\n403 Forbidden\n";

	m->refused++;
	if (send(fd, forbidden, sizeof(forbidden) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		shutdown(fd, SHUT_WR);
	close(fd);
}

/* Take what waits, refused peers closed at once, until a slot is filled or none is left. */
static void
metrics_accept(struct metrics *m, int64_t now_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct net_addr addr;
	int fd, i;

	for (i = 0; i < METRICS_ACCEPT_BATCH && m->n < METRICS_CLIENTS; i++) {
		len = sizeof(ss);
		if ((fd = accept4(m->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
			return;
		if (net_addr_of((struct sockaddr *)&ss, &addr) < 0 || !acl_permits(m->allow, &addr)) {
			metrics_refuse(m, fd);
			continue;
		}
		m->clients[m->n++] = (struct metrics_client){ .fd = fd,
		    .deadline_ms = now_ms + METRICS_DEADLINE_MS };
	}
}

void
metrics_poll_done(struct metrics *m, const struct pollfd *pfd, int n, int64_t now_ms)
{
	int i, k = m->n;

	if (n == 0)
		return;
	/* From the last client: dropping client i moves the last one, already seen, into its place. */
	for (i = k - 1; i >= 0; i--) {
		if (!(pfd[1 + i].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)))
			continue;
		if (m->clients[i].out != NULL)
			metrics_write(m, i);
		else
			metrics_read(m, i);
	}
	if (pfd[0].revents & POLLIN)
		metrics_accept(m, now_ms);
}

int64_t
metrics_expire(struct metrics *m, int64_t now_ms)
{
	int64_t next = INT64_MAX;
	int i;

	for (i = m->n - 1; i >= 0; i--) {
		if (m->clients[i].deadline_ms <= now_ms)
			metrics_drop(m, i);	/* a slow or silent scraper: closed, nothing else waits */
		else if (m->clients[i].deadline_ms < next)
			next = m->clients[i].deadline_ms;
	}
	return next;
}

static void
metrics_close_fds(const struct metrics *m)
{
	int i;

	if (m->fd >= 0)
		close(m->fd);
	for (i = 0; i < m->n; i++)
		close(m->clients[i].fd);
}

void
metrics_close_listener(struct metrics *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

void
metrics_close(struct metrics *m)
{
	int i;

	metrics_close_fds(m);
	for (i = 0; i < m->n; i++)
		free(m->clients[i].out);
	m->fd = -1;
	m->n = 0;
}
