/* io: EINTR-safe reads, write-all loops and splices, for sockets, pipes and files. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"

/* A socket's own timeout (SO_RCVTIMEO, SO_SNDTIMEO) ends a call with EAGAIN: report it as ETIMEDOUT. */
static ssize_t
io_timed(ssize_t n)
{
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errno = ETIMEDOUT;
	return n;
}

/* The steps of the write-all loop: from buf to dst, or from the pipe src to dst (buf unused). */
static ssize_t
io_send_step(int src, int dst, const char *buf, size_t len)
{
	(void)src;
	return send(dst, buf, len, MSG_NOSIGNAL);
}

static ssize_t
io_write_step(int src, int dst, const char *buf, size_t len)
{
	(void)src;
	return write(dst, buf, len);
}

static ssize_t
io_splice_step(int src, int dst, const char *buf, size_t len)
{
	(void)buf;
	return splice(src, NULL, dst, NULL, len, SPLICE_F_MOVE);
}

/*
 * A short transfer to a blocking socket means a signal or its send timeout
 * (SO_SNDTIMEO) ran out after part went. Tell them apart by the time the call
 * took (less a jiffy's rounding): going on after a timeout would start the
 * clock again, and a peer that stopped reading would be kept twice as long.
 */
static bool
io_waited_out(int fd, int64_t started)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);
	int64_t timeout;

	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0)
		return false;	/* not a socket: a file or a pipe */
	timeout = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
	return timeout > 0 && clock_ns() - started >= timeout - 20000000;
}

/* Repeat step until len bytes went: short transfers continue, EINTR is retried. 0 or -1. */
static int
io_all(ssize_t (*step)(int, int, const char *, size_t), int src, int dst, const char *buf,
    size_t len, size_t *done)
{
	size_t off = 0;
	ssize_t n;
	int64_t started;
	int rc = 0;

	while (off < len) {
		started = clock_ns();
		n = step(src, dst, buf != NULL ? buf + off : NULL, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		off += (size_t)n;
		if (off < len && io_waited_out(dst, started)) {
			errno = EAGAIN;	/* as the timed-out call would have said */
			rc = -1;
			break;
		}
	}
	if (done != NULL)
		*done = off;
	return rc;
}

ssize_t
io_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return io_timed(n);
}

int
io_send_all(int fd, const void *buf, size_t len, size_t *done)
{
	return (int)io_timed(io_all(io_send_step, -1, fd, buf, len, done));
}

int
io_write_all(int fd, const void *buf, size_t len)
{
	return io_all(io_write_step, -1, fd, buf, len, NULL);
}

ssize_t
io_splice_in(int sock, int pipe_w, size_t len)
{
	ssize_t n;

	do
		n = splice(sock, NULL, pipe_w, NULL, len, SPLICE_F_MOVE);
	while (n < 0 && errno == EINTR);
	return io_timed(n);
}

int
io_splice_out(int pipe_r, int sock, size_t len, size_t *done)
{
	return (int)io_timed(io_all(io_splice_step, pipe_r, sock, NULL, len, done));
}
