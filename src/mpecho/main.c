/* main: mpecho, the client: options, the connection, then the terminal or the pipe mode. */
#include <errno.h>
#include <fcntl.h>
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
#include "lookup.h"
#include "net.h"
#include "number.h"
#include "tls.h"
#include "mpecho.h"

static const char usage_text[] =
"Usage: mpecho [OPTIONS] [HOST [PORT]]\n"
"       mpecho [OPTIONS] HOST:PORT | [IPv6]:PORT | unix:PATH\n"
"Talk to an echo server (default 127.0.0.1 port " MPECHO_DEFAULT_PORT ").\n"
"\n"
"On a terminal: type a line, see the reply; 'quit' (sent to the server) or\n"
"Ctrl-D ends it, once the server has sent the rest back and closed.\n"
"On pipes: standard input is sent as it is and what comes back is written to\n"
"standard output; at end of input the sending side is shut down, and mpecho\n"
"exits once the server has sent everything back and closed.\n"
"\n"
"  -4                 IPv4 only\n"
"  -6                 IPv6 only\n"
"  -w SECS            give up when connecting takes longer, or when nothing is\n"
"                     read or sent for SECS (1-86400; default: wait for ever)\n"
"      --banner       the server sends a line first (mpechod --banner): print it\n"
"                     on standard error, apart from the echo\n"
"      --tls          speak TLS (1.2 or 1.3): the server's certificate must be valid\n"
"                     for HOST and signed by a trusted CA (the system's, or --ca)\n"
"      --ca FILE      trust the CA certificates in FILE (PEM) instead\n"
"      --insecure     check no certificate (testing only)\n"
"  -u, --udp          echo over UDP: each read of the input (a line on a terminal)\n"
"                     is one datagram; at the end, missing echoes are awaited for\n"
"                     -w SECS (default 2)\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"Exit status: 0 done (on pipes: every byte sent came back), 1 connection failed\n"
"or broken (refused, unknown host, reset, timed out, closed by the server before\n"
"the end of the input or with bytes missing, a TLS handshake or record that\n"
"failed, a standard descriptor closed),\n"
"2 usage error.\n";

static const struct option long_options[] = {
	{ "banner", no_argument, NULL, 'b' },
	{ "tls", no_argument, NULL, 't' },
	{ "ca", required_argument, NULL, 'C' },
	{ "insecure", no_argument, NULL, 'k' },
	{ "udp", no_argument, NULL, 'u' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* "unix:PATH": connect to that socket; on failure the message is printed. */
static int
connect_unix(const char *target, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (net_unix_addr(target, &ss, &len) < 0) {
		log_plain("invalid socket '%s': %s", target, strerror(errno));
		return -1;
	}
	if ((fd = net_connect((struct sockaddr *)&ss, len, timeout_ms)) < 0)
		log_plain("cannot connect to %s: %s", target, strerror(errno));
	return fd;
}

/* Connect to the first address of host that accepts; on failure the message is printed. */
static int
connect_host(const char *host, const char *port, int family, int timeout_ms)
{
	struct addrinfo *res, *ai;
	char name[NET_ADDRSTRLEN] = "?";
	int fd = -1, gai, err = 0;

	if (strncmp(host, "unix:", 5) == 0)
		return connect_unix(host, timeout_ms);
	gai = net_resolve(host, port, 0, family, &res);
	if (gai != 0) {
		log_plain("cannot resolve '%s': %s", host,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = net_connect(ai->ai_addr, ai->ai_addrlen, timeout_ms);
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
	else if (err == ETIMEDOUT || err == EAGAIN)
		log_plain("timed out waiting for the server (-w)");
	else if (err == EPROTO)
		;	/* TLS: the reason is printed already */
	else
		log_plain("connection failed: %s", strerror(err));
	return EXIT_FAIL;
}

/*
 * --banner: the server's first line, read a byte at a time so that nothing of
 * the echo after it is taken, and shown on stderr. 0, or an exit status.
 */
static int
client_banner(struct conn *c)
{
	char line[1024];
	size_t n = 0;
	int r;

	while (n < sizeof(line)) {
		if ((r = conn_read_byte(c, line + n)) <= 0)
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
	char *host, *port;	/* malloc'd */
	int family;
	int timeout_ms;		/* -w; -1: none */
	bool banner;
	bool tls, insecure;	/* --tls, --insecure */
	bool udp;		/* -u */
	const char *ca;		/* --ca FILE, or NULL */
};

/* The server: HOST [PORT], or HOST:PORT and [IPv6]:PORT in one argument. */
static void
client_target(struct client_args *a, int n, char **args)
{
	if (n > 2)
		log_die(EXIT_USAGE, "unexpected argument '%s' (see mpecho --help)", args[2]);
	if (n >= 1 && strncmp(args[0], "unix:", 5) == 0) {	/* a Unix-domain socket: no port */
		if (n == 2)
			log_die(EXIT_USAGE, "unexpected argument '%s': a unix: socket has no port", args[1]);
		if ((a->host = strdup(args[0])) == NULL)
			log_die(EXIT_FAIL, "out of memory");
		return;
	}
	if (n >= 1 && net_parse_target(args[0], &a->host, &a->port) < 0)
		log_die(errno == EINVAL ? EXIT_USAGE : EXIT_FAIL, "invalid server '%s': %s", args[0],
		    errno == EINVAL ? "expected HOST, HOST:PORT or [IPv6]:PORT" : strerror(errno));
	if (n == 2 && a->port != NULL)
		log_die(EXIT_USAGE, "two ports: '%s' has one, and '%s' follows", args[0], args[1]);
	if (n == 2)
		a->port = strdup(args[1]);
	if (a->host == NULL)
		a->host = strdup("127.0.0.1");
	if (a->port == NULL)
		a->port = strdup(MPECHO_DEFAULT_PORT);
	if (a->host == NULL || a->port == NULL)
		log_die(EXIT_FAIL, "out of memory");
	/* a client cannot reach port 0: the number must be 1-65535 */
	if (net_check_port(a->port) < 0 || strspn(a->port, "0") == strlen(a->port))
		log_die(EXIT_USAGE, "invalid port '%s': expected a number from 1 to 65535 or a service name",
		    a->port);
}

static void
client_options(struct client_args *a, int argc, char **argv)
{
	char msg[128];
	long secs;
	int c;

	*a = (struct client_args){ .family = AF_UNSPEC, .timeout_ms = -1 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":46uw:hV", long_options, NULL)) != -1) {
		if (c == '4' || c == '6')
			a->family = c == '4' ? AF_INET : AF_INET6;
		else if (c == 'b' || c == 't' || c == 'k' || c == 'u')
			*(c == 'b' ? &a->banner : c == 't' ? &a->tls : c == 'k' ? &a->insecure :
			    &a->udp) = true;
		else if (c == 'C')
			a->ca = optarg;
		else if (c == 'w' && number_parse(optarg, 1, 86400, &secs) == 0)
			a->timeout_ms = (int)secs * 1000;
		else if (c == 'w')
			log_die(EXIT_USAGE, "invalid value '%s' for -w: expected seconds from 1 to 86400",
			    optarg);
		else if (c == 'h' || c == 'V')
			exit(c == 'h' ? (fputs(usage_text, stdout), EXIT_OK) :
			    (printf("mpecho %s\n", MPECHO_VERSION), EXIT_OK));
		else
			log_die(EXIT_USAGE, "%s (see mpecho --help)",
			    cli_complaint(c, argv, long_options, msg, sizeof(msg)));
	}
	client_target(a, argc - optind, argv + optind);
	if ((a->ca != NULL || a->insecure) && !a->tls)
		log_die(EXIT_USAGE, "%s is for TLS: add --tls", a->ca != NULL ? "--ca" : "--insecure");
	if (a->ca != NULL && a->insecure)
		log_die(EXIT_USAGE, "--ca and --insecure exclude each other");
	if (a->tls && a->port == NULL)
		log_die(EXIT_USAGE, "--tls is for TCP servers, not unix: sockets");
	if (a->udp && (a->port == NULL || a->tls || a->banner))
		log_die(EXIT_USAGE, "-u cannot go with %s", a->port == NULL ? "a unix: socket" :
		    a->tls ? "--tls" : "--banner");
}

/* --tls: the CA certificates, loaded before connecting; a usage or file error ends it here. */
static SSL_CTX *
client_tls_context(const struct client_args *a)
{
	char err[512];
	SSL_CTX *ctx;

	if (!a->tls)
		return NULL;
	if ((ctx = tls_client_context(a->ca, a->insecure, err, sizeof(err))) == NULL)
		log_die(EXIT_FAIL, "%s", err);
	return ctx;
}

/* --tls: the handshake on the connected socket; on failure the message is printed. */
static int
client_tls(struct conn *c, SSL_CTX *ctx, const struct client_args *a)
{
	char why[256];

	c->ssl = tls_client_connect(ctx, c->fd, a->host, a->timeout_ms, why, sizeof(why));
	SSL_CTX_free(ctx);	/* the connection holds its own reference */
	if (c->ssl == NULL) {
		log_plain("TLS handshake with %s failed: %s", a->host, why);
		return -1;
	}
	return 0;
}

/*
 * Descriptors 0, 1 and 2 must be open before the socket is made, or it would
 * take one of their numbers and the echo would be fed back to the server (or
 * the input read from it). A closed standard error is quietly filled with
 * /dev/null; a closed input or output is an error.
 */
static void
client_guard_stdio(void)
{
	static const char *const names[] = { "input", "output" };
	bool closed[3];
	int fd;

	for (fd = 0; fd < 3; fd++)
		if ((closed[fd] = fcntl(fd, F_GETFD) < 0 && errno == EBADF) &&
		    open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			exit(EXIT_FAIL);
	for (fd = 0; fd < 2; fd++)
		if (closed[fd])
			log_die(EXIT_FAIL, "standard %s is closed", names[fd]);
}

/* -u: the datagram loop instead of the stream relay. The exit status. */
static int
client_udp(struct client_args *a)
{
	struct client_mode mode = { .terminal = isatty(STDIN_FILENO), .timeout_ms = a->timeout_ms };
	int sock, rc;

	signal(SIGPIPE, SIG_IGN);
	sock = datagram_connect(a->host, a->port, a->family);
	free(a->host);
	free(a->port);
	if (sock < 0)
		return EXIT_FAIL;
	rc = datagram_run(sock, &mode);
	close(sock);
	return rc;
}

/* The end: the connection released; returns rc. */
static int
client_close(struct conn *c, int rc)
{
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct client_args a;
	struct client_mode mode;
	char peer[NET_ADDRSTRLEN + 32];
	struct conn c = { -1, NULL };
	SSL_CTX *ctx;
	int rc;

	/* 1. The standard descriptors, then the command line. */
	client_guard_stdio();
	lookup_init();
	log_init("mpecho", LOG_LVL_INFO);
	client_options(&a, argc, argv);
	if (a.udp)
		return client_udp(&a);
	ctx = client_tls_context(&a);

	/* 2. The connection: a server going away is an error on it, never a kill. */
	signal(SIGPIPE, SIG_IGN);
	c.fd = connect_host(a.host, a.port, a.family, a.timeout_ms);
	snprintf(peer, sizeof(peer), "%s%s%s%s", a.host, a.port != NULL ? " port " : "",
	    a.port != NULL ? a.port : "", a.tls ? " (TLS)" : "");
	rc = c.fd >= 0 && ctx != NULL ? client_tls(&c, ctx, &a) : (SSL_CTX_free(ctx), 0);
	free(a.host);
	free(a.port);
	if (c.fd < 0 || rc < 0)
		return client_close(&c, EXIT_FAIL);

	/* 3. The banner if one is expected, then the relay, on a terminal or on pipes. */
	mode = (struct client_mode){ .terminal = isatty(STDIN_FILENO), .timeout_ms = a.timeout_ms };
	if (a.banner && a.timeout_ms > 0)
		net_set_timeouts(c.fd, a.timeout_ms / 1000);	/* the banner's blocking read */
	if (a.banner && (rc = client_banner(&c)) != EXIT_OK)
		return client_close(&c, rc);
	if (mode.terminal)
		terminal_greet(peer);
	return client_close(&c, relay_run(&c, &mode));
}
