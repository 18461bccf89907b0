/* relay: mpecho on pipes, a transparent two-way byte stream that never deadlocks. */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "mpecho.h"

#define PIPE_BUF_SIZE (64 * 1024)

/* Bytes read from standard input and not yet sent. */
struct pipe_up {
	char buf[PIPE_BUF_SIZE];
	size_t off, len;
	bool eof;		/* nothing more to send: end of input, or the server stopped reading */
};

/* Read standard input once: 0, or -1 once the error is printed. At its end, shut our side down. */
static int
pipe_read_input(struct pipe_up *up, int sock)
{
	ssize_t n = read(STDIN_FILENO, up->buf, sizeof(up->buf));

	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		log_plain("standard input: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		up->eof = true;
		shutdown(sock, SHUT_WR);
	} else if (n > 0) {
		up->off = 0;
		up->len = (size_t)n;
	}
	return 0;
}

/* Send what is held, without blocking. */
static void
pipe_send(struct pipe_up *up, int sock)
{
	ssize_t n = send(sock, up->buf + up->off, up->len - up->off, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		/* The server stopped reading (it ended the session): stop sending, keep reading. */
		up->eof = true;
		up->len = 0;
	} else if (n > 0 && (up->off += (size_t)n) == up->len) {
		up->len = 0;
	}
}

/* What came back goes to standard output. -1 to go on, or the exit status (0: the server closed). */
static int
pipe_receive(int sock)
{
	static char down[PIPE_BUF_SIZE];
	ssize_t n = recv(sock, down, sizeof(down), MSG_DONTWAIT);

	if (n == 0)
		return EXIT_OK;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 :
		    client_connection_error(errno);
	if (io_write_all(STDOUT_FILENO, down, (size_t)n) < 0) {
		log_plain("standard output: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return -1;
}

int
pipe_run(int sock)
{
	static struct pipe_up up;
	struct pollfd pfd[2];
	int rc;

	for (;;) {
		pfd[0].fd = (!up.eof && up.len == 0) ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = sock;
		pfd[1].events = POLLIN | (up.len > 0 ? POLLOUT : 0);
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_plain("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		if (pfd[0].revents && pipe_read_input(&up, sock) < 0)
			return EXIT_FAIL;
		if ((pfd[1].revents & (POLLOUT | POLLERR)) && up.len > 0)
			pipe_send(&up, sock);
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && (rc = pipe_receive(sock)) >= 0)
			return rc;
	}
}
