/*
 * datagram: mpecho -u, echo over UDP. Each read of standard input (a line on
 * a terminal) goes out as one datagram; what comes back is written out as it
 * comes. Input waits while 32 KiB are out and not echoed: a socket's receive
 * buffer counts each datagram's kernel overhead too, and the default one
 * (208 KiB) dropped datagrams with 128 KiB of 12 KiB ones out on a busy
 * machine. Missing echoes are awaited -w seconds at most (2 by default), at
 * the end of input or with the window full; it succeeds if every byte sent
 * came back.
 */
#include "client.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "io.h"
#include "log.h"
#include "mpecho.h"
#include "net.h"

#define DATAGRAM_MAX 65507		/* the most an IPv4 UDP datagram carries */
#define DATAGRAM_WAIT_MS 2000		/* how long missing echoes are awaited without -w */
#define DATAGRAM_WINDOW (32 * 1024)	/* bytes sent and not echoed yet, at most: no flood */

int
datagram_connect(const struct client_args *a)
{
	struct addrinfo *res, *ai;
	int fd = -1, gai, err = 0;
	bool prep_failed = false;	/* -O or -s, before connect() */
	char why[160] = "";

	if ((gai = net_resolve(a->host, a->port, 0, a->family, &res)) != 0) {
		log_warnx("cannot resolve '%s': %s", a->host,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0 && !prep_failed; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
			err = errno;
		} else if ((prep_failed = sockopt_apply(fd, &a->so, SOCKOPT_AT_CLIENT_UDP, why,
		    sizeof(why)) < 0 || client_bind_source(fd, a) < 0) ||
		    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (prep_failed && why[0] != '\0')
		log_warnx("cannot reach %s port %s over UDP (-O %s)", a->host, a->port, why);
	else if (prep_failed)
		client_source_error(a, err);
	else if (fd < 0)
		log_warnx("cannot reach %s port %s over UDP: %s", a->host, a->port, strerror(err));
	return fd;
}

struct datagram {
	int sock;
	uint64_t sent, received, datagrams, replies;
	bool in_done;
};

/* One read of standard input, sent as one datagram. 0, or an exit status. */
static int
datagram_send(struct datagram *d)
{
	static char buf[DATAGRAM_MAX];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR ? 0 : (log_warn("standard input"), EXIT_FAIL);
	if (n == 0) {
		d->in_done = true;
		return 0;
	}
	if (send(d->sock, buf, (size_t)n, 0) < 0)
		return client_connection_error(errno);
	d->sent += (uint64_t)n;
	d->datagrams++;
	return 0;
}

/* One datagram back, to standard output. 0, or an exit status. */
static int
datagram_receive(struct datagram *d)
{
	static char buf[65536];
	ssize_t n = recv(d->sock, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : client_connection_error(errno);
	d->received += (uint64_t)n;
	d->replies++;
	if (io_write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
		log_warn("standard output");
		return EXIT_FAIL;
	}
	return 0;
}

/* The end: everything back, or what is missing. */
static int
datagram_verdict(const struct datagram *d)
{
	if (d->received >= d->sent)
		return EXIT_OK;
	log_warnx("%" PRIu64 " of %" PRIu64 " datagrams came back (%" PRIu64 " of %" PRIu64
	    " bytes): UDP lost them, or the server dropped them", d->replies, d->datagrams,
	    d->received, d->sent);
	return EXIT_FAIL;
}

/* The loop: until every echo is back, or the wait for them is over. The exit status. */
static int
datagram_loop(struct datagram *d, const struct client_mode *mode)
{
	int wait_ms = mode->timeout_ms > 0 ? mode->timeout_ms : DATAGRAM_WAIT_MS, rc, n;
	int64_t until = -1;
	struct pollfd pfd[2];
	bool waiting;

	for (;;) {
		waiting = d->in_done || d->sent - d->received >= DATAGRAM_WINDOW;
		if (!waiting)
			until = -1;
		else if (until < 0)
			until = clock_ms() + wait_ms;
		if (waiting && ((d->in_done && d->received >= d->sent) || clock_ms() >= until))
			return datagram_verdict(d);
		pfd[0] = (struct pollfd){ .fd = waiting ? -1 : STDIN_FILENO, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = d->sock, .events = POLLIN };
		n = poll(pfd, 2, waiting ? (int)(until - clock_ms()) : mode->timeout_ms);
		if (n < 0 && errno != EINTR)
			return log_warn("poll"), EXIT_FAIL;
		if (n == 0 && !waiting) {
			log_warnx("timed out: nothing came or went for %d s (-w)", mode->timeout_ms / 1000);
			return EXIT_FAIL;
		}
		if (n > 0 && (pfd[1].revents & (POLLIN | POLLERR)) && (rc = datagram_receive(d)) != 0)
			return rc;
		if (n > 0 && (pfd[0].revents & (POLLIN | POLLHUP)) && (rc = datagram_send(d)) != 0)
			return rc;
	}
}

int
datagram_run(int sock, const struct client_mode *mode, struct client_count *count)
{
	struct datagram d = { .sock = sock };
	int rc = datagram_loop(&d, mode);

	*count = (struct client_count){ d.sent, d.received };
	return rc;
}
