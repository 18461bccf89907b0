/* main: mpecho, the client: options, the connection, then the terminal or the pipe mode. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "io.h"
#include "log.h"
#include "net.h"
#include "mpecho.h"

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
"      --banner       the server sends a line first (mpechod --banner): print it\n"
"                     on standard error, apart from the echo\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"Exit status: 0 done, 1 connection failed or broken (refused, unknown host,\n"
"reset, closed by the server in line mode), 2 usage error.\n";

static const struct option long_options[] = {
	{ "banner", no_argument, NULL, 'b' },
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

int
client_connection_error(int err)
{
	if (err == ECONNRESET || err == EPIPE)
		log_plain("connection reset by the server");
	else
		log_plain("connection failed: %s", strerror(err));
	return EXIT_FAIL;
}

/*
 * --banner: the server's first line, read a byte at a time so that nothing of
 * the echo after it is taken, and shown on stderr. 0, or an exit status.
 */
static int
client_banner(int sock)
{
	char line[1024];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(line)) {
		if ((r = io_read(sock, line + n, 1)) <= 0)
			return r == 0 ? (log_plain("connection closed before the banner"), EXIT_FAIL) :
			    client_connection_error(errno);
		if (line[n++] == '\n')
			return io_write_all(STDERR_FILENO, line, n) < 0 ? EXIT_FAIL : EXIT_OK;
	}
	log_plain("no banner line in the first %zu bytes", sizeof(line));
	return EXIT_FAIL;
}

/* What the command line asks for; --help, --version and usage errors end the program here. */
struct client_args {
	const char *host, *port;
	int family;
	bool banner;
};

static void
client_options(struct client_args *a, int argc, char **argv)
{
	char msg[128];
	int c;

	*a = (struct client_args){ "127.0.0.1", MPECHO_DEFAULT_PORT, AF_UNSPEC, false };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":46hV", long_options, NULL)) != -1) {
		if (c == '4' || c == '6')
			a->family = c == '4' ? AF_INET : AF_INET6;
		else if (c == 'b')
			a->banner = true;
		else if (c == 'h' || c == 'V')
			exit(c == 'h' ? (fputs(usage_text, stdout), EXIT_OK) :
			    (printf("mpecho %s\n", MPECHO_VERSION), EXIT_OK));
		else
			log_die(EXIT_USAGE, "%s (see mpecho --help)",
			    cli_complaint(c, argv, long_options, msg, sizeof(msg)));
	}
	if (argc - optind > 2)
		log_die(EXIT_USAGE, "unexpected argument '%s' (see mpecho --help)", argv[optind + 2]);
	if (argc - optind >= 1)
		a->host = argv[optind];
	if (argc - optind == 2)
		a->port = argv[optind + 1];
	if (net_check_port(a->port) < 0)
		log_die(EXIT_USAGE, "invalid port '%s': expected a number from 1 to 65535", a->port);
}

int
main(int argc, char **argv)
{
	struct client_args a;
	char peer[NET_ADDRSTRLEN + 32];
	int sock, rc;

	/* 1. The command line. */
	log_init("mpecho", LOG_LVL_INFO);
	client_options(&a, argc, argv);

	/* 2. The connection: a server going away is an error on it, never a kill. */
	signal(SIGPIPE, SIG_IGN);
	if ((sock = connect_host(a.host, a.port, a.family)) < 0)
		return EXIT_FAIL;
	snprintf(peer, sizeof(peer), "%s port %s", a.host, a.port);

	/* 3. The banner if one is expected, then the terminal or the pipe mode. */
	if (a.banner && (rc = client_banner(sock)) != EXIT_OK) {
		close(sock);
		return rc;
	}
	rc = isatty(STDIN_FILENO) ? terminal_run(sock, peer) : pipe_run(sock);
	close(sock);
	return rc;
}
