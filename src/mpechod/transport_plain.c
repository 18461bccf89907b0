/* transport_plain: a session's bytes straight on its TCP socket. */
#include "transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

static int
plain_open(struct transport *t, int fd, const void *arg)
{
	(void)arg;
	t->ops = &transport_plain;
	t->fd = fd;
	t->raw = true;
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
	.close = plain_close,
};
