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

/* A socket's send timeout (SO_SNDTIMEO) in ns; 0 for none, or for a descriptor that is not a socket. */
static int64_t
io_send_timeout(int fd)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);
	int saved = errno;	/* the caller's error, not ENOTSOCK, is the one to report */

	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0) {
		errno = saved;
		return 0;
	}
	return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

/* A jiffy's rounding: a wait the kernel ends this much early still ran out. */
#define IO_JIFFY_NS 20000000

/*
 * Repeat step until len bytes went: short transfers continue, EINTR is retried.
 *
 * To a socket with a send timeout w, the peer counts as stalled once no byte
 * has gone for 2w (net_set_timeouts() sets w to half the idle timeout). One
 * call can wait more than w: the kernel's splice into a socket sends in
 * several steps, each with its own wait, so a partial step then a failed one
 * take 2w. Each call that ran out its wait (took w or more) extends the stall,
 * from the start of the call that last moved bytes; a call that came back
 * sooner was a signal. 0, or -1 with errno (EAGAIN for a stalled peer).
 */
static int
io_all(ssize_t (*step)(int, int, const char *, size_t), int src, int dst, const char *buf,
    size_t len, size_t *done)
{
	int64_t started, now, w = -1, stalled = -1;
	size_t off = 0;
	ssize_t n;
	int rc = 0;

	while (off < len) {
		started = clock_ns();
		n = step(src, dst, buf != NULL ? buf + off : NULL, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n >= 0 && (off += (size_t)n) == len)
			break;
		if (w < 0)
			w = io_send_timeout(dst);
		if (n < 0 && (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))) {
			rc = -1;
			break;
		}
		if (w == 0 || (now = clock_ns()) - started < w - IO_JIFFY_NS)
			continue;	/* a short transfer without a timeout: go on */
		if (n > 0 || stalled < 0)
			stalled = started;
		if (now - stalled >= 2 * w - IO_JIFFY_NS) {
			errno = EAGAIN;	/* as the timed-out call said, or would have */
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
