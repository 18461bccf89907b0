/* io: EINTR-safe reading and write-all on sockets. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t
io_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errno = ETIMEDOUT;
	return n;
}

int
io_send_all(int fd, const void *buf, size_t len, size_t *done)
{
	const char *p = buf;
	size_t off = 0;
	ssize_t n;
	int rc = 0;

	while (off < len) {
		n = send(fd, p + off, len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	if (done != NULL)
		*done = off;
	return rc;
}

int
io_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t
io_splice_in(int sock, int pipe_w, size_t len)
{
	ssize_t n;

	do
		n = splice(sock, NULL, pipe_w, NULL, len, SPLICE_F_MOVE);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		errno = ETIMEDOUT;
	return n;
}

int
io_splice_out(int pipe_r, int sock, size_t len, size_t *done)
{
	size_t off = 0;
	ssize_t n;
	int rc = 0;

	while (off < len) {
		n = splice(pipe_r, NULL, sock, NULL, len - off, SPLICE_F_MOVE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	*done = off;
	return rc;
}
