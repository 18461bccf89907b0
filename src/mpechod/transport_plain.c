/* transport_plain: a session's bytes straight on its TCP socket. */
#include "transport.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

static int
plain_open(struct transport *t, int fd, const void *arg)
{
	(void)arg;
	t->ops = &transport_plain;
	t->fd = fd;
	t->state = NULL;
	return 0;
}

static ssize_t
plain_read(struct transport *t, void *buf, size_t len)
{
	return io_read(t->fd, buf, len);
}

static int
plain_write(struct transport *t, const void *buf, size_t len, size_t *done)
{
	return io_send_all(t->fd, buf, len, done);
}

static int
plain_shutdown(struct transport *t)
{
	return shutdown(t->fd, SHUT_WR);
}

static ssize_t
plain_splice_in(struct transport *t, int pipe_w, size_t len)
{
	return io_splice_in(t->fd, pipe_w, len);
}

static int
plain_splice_out(struct transport *t, int pipe_r, size_t len, size_t *done)
{
	return io_splice_out(pipe_r, t->fd, len, done);
}

static int
plain_at_end(struct transport *t)
{
	char c;
	ssize_t n;

	do
		n = recv(t->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;	/* nothing yet, and no end either: go on */
	return n == 0 ? 1 : n > 0 ? 0 : -1;
}

static void
plain_close(struct transport *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

const struct transport_ops transport_plain = {
	.name = "plain",
	.open = plain_open,
	.read = plain_read,
	.write = plain_write,
	.shutdown = plain_shutdown,
	.splice_in = plain_splice_in,
	.splice_out = plain_splice_out,
	.at_end = plain_at_end,
	.close = plain_close,
};
