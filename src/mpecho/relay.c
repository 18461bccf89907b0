/* relay: mpecho's one loop: standard input to the server and the server to standard output, at once. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "mpecho.h"

#define RELAY_BUF_SIZE (64 * 1024)

struct relay {
	struct wire *c;
	const struct client_mode *mode;
	char up[RELAY_BUF_SIZE];	/* read from standard input, not yet sent */
	size_t off, len;
	bool in_done;		/* nothing more to send: end of input, quit, or the server stopped reading */
	bool shut;		/* our sending side is shut down: the server has our whole input */
	bool cut;		/* the server stopped reading before the end of our input */
	bool prompted;		/* terminal: a prompt waits for the next line */
	bool line_start;	/* terminal: the last byte shown ended a line */
	uint64_t sent, received;
	uint64_t owed;		/* terminal: bytes sent and not answered yet (extra bytes owe nothing) */
};

/* Read standard input once: 0, or -1 once the error is printed. */
static int
relay_input(struct relay *r)
{
	ssize_t n = read(STDIN_FILENO, r->up, sizeof(r->up));

	if (n < 0 && errno != EINTR && errno != EAGAIN) {
		log_warn("standard input");
		return -1;
	}
	if (n == 0) {
		r->in_done = true;
		if (r->mode->terminal)
			io_write_all(STDOUT_FILENO, "\n", 1);	/* Ctrl-D left the cursor after the prompt */
	} else if (n > 0) {
		r->off = 0;
		r->len = (size_t)n;
		r->prompted = false;
		/* "quit" is sent like any line (the server may act on it); then our side ends */
		if (r->mode->terminal && terminal_is_quit(r->up, (size_t)n))
			r->in_done = true;
	}
	return 0;
}

/* Send what is held, without blocking. */
static void
relay_send(struct relay *r)
{
	ssize_t n = conn_send(r->c, r->up + r->off, r->len - r->off);

	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		/* The server stopped reading (it ended the session): stop sending, keep reading. */
		r->in_done = r->cut = true;
		r->len = 0;
	} else if (n > 0) {
		r->sent += (uint64_t)n;
		r->owed += (uint64_t)n;
		if ((r->off += (size_t)n) == r->len)
			r->len = 0;
	}
}

/* The server closed: was everything it owed us back? The exit status. */
static int
relay_closed(const struct relay *r)
{
	if (r->mode->terminal && r->shut)
		return EXIT_OK;	/* we ended it (quit, Ctrl-D): what came back was shown */
	if (r->mode->terminal) {
		log_warnx("connection closed by the server");
		return EXIT_FAIL;
	}
	if (!r->shut || r->cut) {
		log_warnx("the server closed the connection before the end of the input: "
		    "%" PRIu64 " bytes sent, %" PRIu64 " came back", r->sent, r->received);
		return EXIT_FAIL;
	}
	if (r->received < r->sent) {
		log_warnx("the server closed the connection after returning %" PRIu64 " of %" PRIu64
		    " bytes", r->received, r->sent);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* What came back goes to standard output. -1 to go on, or the exit status (the server closed). */
static int
relay_receive(struct relay *r)
{
	static char down[RELAY_BUF_SIZE];
	ssize_t n = conn_recv(r->c, down, sizeof(down));

	if (n == 0)
		return relay_closed(r);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 :
		    client_connection_error(errno);
	r->received += (uint64_t)n;
	r->owed -= r->owed < (uint64_t)n ? r->owed : (uint64_t)n;
	r->line_start = down[n - 1] == '\n';
	r->prompted = false;	/* shown after a prompt: a fresh one follows it */
	if (io_write_all(STDOUT_FILENO, down, (size_t)n) < 0) {
		log_warn("standard output");
		return EXIT_FAIL;
	}
	return -1;
}

/* Terminal: a prompt once the replies to every line sent so far are shown. */
static void
relay_prompt(struct relay *r)
{
	if (!r->mode->terminal || r->prompted || r->in_done || r->len > 0 || !r->line_start ||
	    r->owed > 0)
		return;
	terminal_prompt();
	r->prompted = true;
}

/* One round: wait, then read, send and receive what is ready. -1 to go on, or the exit status. */
static int
relay_round(struct relay *r)
{
	struct pollfd pfd[2];
	int n, rc;

	relay_prompt(r);
	pfd[0].fd = (!r->in_done && r->len == 0) ? STDIN_FILENO : -1;
	pfd[0].events = POLLIN;
	pfd[1].fd = r->c->fd;
	pfd[1].events = POLLIN | (r->len > 0 ? POLLOUT : 0);
	if ((n = poll(pfd, 2, r->mode->timeout_ms)) < 0)
		return errno == EINTR ? -1 : (log_warn("poll"), EXIT_FAIL);
	if (n == 0) {
		log_warnx("timed out: nothing came or went for %d s (-w)", r->mode->timeout_ms / 1000);
		return EXIT_FAIL;
	}
	if (pfd[0].revents && relay_input(r) < 0)
		return EXIT_FAIL;
	if ((pfd[1].revents & (POLLOUT | POLLERR)) && r->len > 0)
		relay_send(r);
	if (r->in_done && r->len == 0 && !r->shut) {
		conn_shutdown(r->c);	/* the server sees our end, sends the rest back, closes */
		r->shut = true;
	}
	if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
		do
			if ((rc = relay_receive(r)) >= 0)
				return rc;
		while (wire_pending(r->c));	/* TLS: a record read whole, not all of it shown yet */
	return -1;
}

int
relay_run(struct wire *c, const struct client_mode *mode, struct client_count *count)
{
	static struct relay r;
	int rc;

	r = (struct relay){ .c = c, .mode = mode, .line_start = true };
	/* TLS reads and writes whole records: never let one block the loop half-way */
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	while ((rc = relay_round(&r)) < 0)
		;
	*count = (struct client_count){ r.sent, r.received };
	return rc;
}
