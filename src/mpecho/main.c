/* mpecho: the client. Line mode on a terminal, a transparent byte stream on pipes. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "net.h"
#include "mpecho.h"

#define STREAM_BUF (64 * 1024)

static const char usage_text[] =
"Usage: mpecho [OPTIONS] [HOST [PORT]]\n"
"Talk to an echo server (default 127.0.0.1 port " MPECHO_DEFAULT_PORT ").\n"
"\n"
"On a terminal: type a line, see the reply; 'quit' or end-of-file ends it.\n"
"On pipes: standard input is sent as it is and what comes back is written to\n"
"standard output; at end of input the sending side is shut down, and mpecho\n"
"exits once the server has sent everything back and closed.\n"
"\n"
"  -4                 IPv4 only\n"
"  -6                 IPv6 only\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"Exit status: 0 done, 1 connection failed or broken (refused, unknown host,\n"
"reset, closed by the server in line mode), 2 usage error.\n";

static const struct option long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Connect to the first address of host that accepts; on failure the message is printed. */
static int
connect_host(const char *host, const char *port, int family)
{
	struct addrinfo *res, *ai;
	char name[NET_ADDRSTRLEN] = "?";
	int fd = -1, gai, err = 0;

	gai = net_resolve(host, port, 0, family, &res);
	if (gai != 0) {
		log_plain("cannot resolve '%s': %s", host,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = net_connect(ai->ai_addr, ai->ai_addrlen);
		if (fd < 0) {
			err = errno;
			net_format(ai->ai_addr, name, sizeof(name));
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		log_plain("cannot connect to %s: %s", name, strerror(err));
	else
		net_tune(fd);
	return fd;
}

static int
connection_error(int err)
{
	if (err == ECONNRESET || err == EPIPE)
		log_plain("connection reset by the server");
	else
		log_plain("connection failed: %s", strerror(err));
	return EXIT_FAIL;
}

/* Send what stdin holds, without blocking: returns -1 on a send error (errno set). */
static int
stream_send(int sock, const char *buf, size_t *off, size_t len)
{
	ssize_t n = send(sock, buf + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
	*off += (size_t)n;
	return 0;
}

/*
 * Pipe mode: copy stdin to the socket and the socket to stdout at the same
 * time, so a large input never deadlocks against a full receive window.
 */
static int
stream_mode(int sock)
{
	static char up[STREAM_BUF], down[STREAM_BUF];
	size_t up_off = 0, up_len = 0;
	bool in_eof = false;
	struct pollfd pfd[2];
	ssize_t n;

	for (;;) {
		pfd[0].fd = (!in_eof && up_len == 0) ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = sock;
		pfd[1].events = POLLIN | (up_len > 0 ? POLLOUT : 0);
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_plain("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		if (pfd[0].revents) {
			n = read(STDIN_FILENO, up, sizeof(up));
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				log_plain("standard input: %s", strerror(errno));
				return EXIT_FAIL;
			}
			if (n == 0) {
				in_eof = true;
				shutdown(sock, SHUT_WR);
			} else if (n > 0) {
				up_off = 0;
				up_len = (size_t)n;
			}
		}
		if ((pfd[1].revents & (POLLOUT | POLLERR)) && up_len > 0) {
			if (stream_send(sock, up, &up_off, up_len) < 0) {
				/* The server stopped reading (it ended the session): stop sending, keep reading. */
				in_eof = true;
				up_len = 0;
			} else if (up_off == up_len) {
				up_len = 0;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(sock, down, sizeof(down), MSG_DONTWAIT);
			if (n == 0)
				return EXIT_OK;
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return connection_error(errno);
			if (n > 0 && io_write_all(STDOUT_FILENO, down, (size_t)n) < 0) {
				log_plain("standard output: %s", strerror(errno));
				return EXIT_FAIL;
			}
		}
	}
}

/* Read the reply to one line: up to and including its newline. 0, or an exit status. */
static int
read_reply(int sock)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = io_read(sock, buf, sizeof(buf));
		if (n == 0) {
			log_plain("connection closed by the server");
			return EXIT_FAIL;
		}
		if (n < 0)
			return connection_error(errno);
		if (io_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			return EXIT_FAIL;
		if (memchr(buf, '\n', (size_t)n) != NULL)
			return 0;
	}
}

static bool
is_quit(const char *line)
{
	return strcmp(line, "quit\n") == 0 || strcmp(line, "quit\r\n") == 0 ||
	    strcmp(line, "quit") == 0;
}

/* Terminal mode: a prompt, one line sent, its reply printed; "quit" or end-of-file ends it. */
static int
line_mode(int sock, const char *peer)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = EXIT_OK;

	printf("Connected to %s. Type lines; 'quit' or Ctrl-D ends.\n", peer);
	for (;;) {
		fputs("mpecho> ", stdout);
		fflush(stdout);
		len = getline(&line, &cap, stdin);
		if (len < 0) {
			putchar('\n');
			break;
		}
		if (is_quit(line))
			break;
		if (io_send_all(sock, line, (size_t)len, NULL) < 0) {
			rc = connection_error(errno);
			break;
		}
		if (line[len - 1] != '\n')
			continue;	/* no newline: the reply comes with what follows */
		if ((rc = read_reply(sock)) != 0)
			break;
	}
	free(line);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = MPECHO_DEFAULT_PORT;
	int c, family = AF_UNSPEC, sock, rc;
	char peer[NET_ADDRSTRLEN + 32];

	log_init("mpecho", LOG_LVL_INFO);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "46hV", long_options, NULL)) != -1) {
		switch (c) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			printf("mpecho %s\n", MPECHO_VERSION);
			return EXIT_OK;
		default:
			if (optopt != 0)
				log_die(EXIT_USAGE, "unknown option '-%c' (see mpecho --help)", optopt);
			log_die(EXIT_USAGE, "unknown option '%s' (see mpecho --help)", argv[optind - 1]);
		}
	}
	if (argc - optind > 2)
		log_die(EXIT_USAGE, "unexpected argument '%s' (see mpecho --help)", argv[optind + 2]);
	if (argc - optind >= 1)
		host = argv[optind];
	if (argc - optind == 2)
		port = argv[optind + 1];
	if (net_check_port(port) < 0)
		log_die(EXIT_USAGE, "invalid port '%s': expected a number from 1 to 65535", port);

	signal(SIGPIPE, SIG_IGN);
	if ((sock = connect_host(host, port, family)) < 0)
		return EXIT_FAIL;
	snprintf(peer, sizeof(peer), "%s port %s", host, port);
	rc = isatty(STDIN_FILENO) ? line_mode(sock, peer) : stream_mode(sock);
	close(sock);
	return rc;
}
