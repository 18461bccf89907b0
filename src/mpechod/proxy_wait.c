/* proxy_wait: taking a PROXY header off a socket, exactly and without spinning. */
#include "proxy_wait.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "peer.h"
#include "net.h"

void
proxy_wait_init(struct proxy_wait *w)
{
	memset(w, 0, sizeof(*w));
}

/*
 * Take up to n bytes known to be header off the socket (peeked into w->buf
 * already, or TLVs past what was peeked). 0 (also when fewer were in), or -1
 * with w->why once the connection is closed or broken.
 */
static int
proxy_wait_take(struct proxy_wait *w, int fd, size_t n)
{
	unsigned char sink[PROXY_DECIDE];
	ssize_t r;

	while (n > 0) {
		r = recv(fd, sink, n < sizeof(sink) ? n : sizeof(sink), MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r <= 0) {
			w->why = r == 0 ? "connection closed in the header" : strerror(errno);
			return -1;
		}
		n -= (size_t)r;
		w->have += (size_t)r;
	}
	return 0;
}

/* Skip the rest of a long header (v2 TLVs beyond what was peeked). */
static enum proxy_wait_result
proxy_wait_skip(struct proxy_wait *w, int fd)
{
	if (proxy_wait_take(w, fd, (size_t)w->total - w->have) < 0)
		return PROXY_WAIT_FAILED;
	return w->have == (size_t)w->total ? PROXY_WAIT_DONE : PROXY_WAIT_AGAIN;
}

/* After a LOCAL header: if the balancer closes at once, that was a health check. */
static enum proxy_wait_result
proxy_wait_done(struct proxy_wait *w, int fd)
{
	char c;

	if (w->h.local && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		return PROXY_WAIT_CHECK;
	return PROXY_WAIT_DONE;
}

enum proxy_wait_result
proxy_wait_step(struct proxy_wait *w, int fd)
{
	enum proxy_wait_result s;
	ssize_t n;
	long r;

	if (w->total > 0)	/* a failed skip ends the connection now: its socket stays readable */
		return (s = proxy_wait_skip(w, fd)) == PROXY_WAIT_DONE ? proxy_wait_done(w, fd) : s;
	n = recv(fd, w->buf + w->have, sizeof(w->buf) - w->have, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return PROXY_WAIT_AGAIN;
	if (n <= 0) {
		w->why = n == 0 ? "connection closed in the header" : strerror(errno);
		return n == 0 && w->have == 0 ? PROXY_WAIT_CHECK : PROXY_WAIT_FAILED;
	}
	if ((r = proxy_parse(w->buf, w->have + (size_t)n, &w->h, &w->why)) < 0)
		return PROXY_WAIT_FAILED;
	if (r == 0)	/* every byte so far is header: take them, and poll for more */
		return proxy_wait_take(w, fd, (size_t)n) < 0 ? PROXY_WAIT_FAILED : PROXY_WAIT_AGAIN;
	w->total = r;
	if (proxy_wait_take(w, fd, (size_t)r - w->have < (size_t)n ? (size_t)r - w->have : (size_t)n) < 0)
		return PROXY_WAIT_FAILED;
	return w->have == (size_t)r ? proxy_wait_done(w, fd) : PROXY_WAIT_AGAIN;
}

enum proxy_wait_result
proxy_wait_blocking(struct proxy_wait *w, int fd, int timeout_ms)
{
	int64_t deadline = clock_ms() + timeout_ms, left;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	enum proxy_wait_result r;

	while ((r = proxy_wait_step(w, fd)) == PROXY_WAIT_AGAIN) {
		if ((left = deadline - clock_ms()) <= 0 || (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)) {
			w->why = "timeout";
			return PROXY_WAIT_FAILED;
		}
	}
	return r;
}

int
proxy_wait_peer(const struct proxy_wait *w, const struct peer *balancer, struct peer *client)
{
	if (w->h.local) {
		*client = *balancer;
		client->check = w->h.command_local;
		return 0;
	}
	memset(client, 0, sizeof(*client));
	client->tls = balancer->tls;
	if (net_addr_of((const struct sockaddr *)&w->h.src, &client->addr) < 0)
		return -1;
	net_format((const struct sockaddr *)&w->h.src, client->name, sizeof(client->name));
	memcpy(client->via, balancer->name, sizeof(client->via));
	client->check = strcmp(client->name, balancer->name) == 0;
	return 0;
}
