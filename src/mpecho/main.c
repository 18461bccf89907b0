/* main: mpecho, the client: options, the connection, then the terminal or the pipe mode. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "io.h"
#include "log.h"
#include "lookup.h"
#include "net.h"
#include "tls.h"
#include "mpecho.h"

/* "unix:PATH": connect to that socket; on failure the message is printed. */
static int
connect_unix(const char *target, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (net_unix_addr(target, &ss, &len) < 0) {
		log_warn("invalid socket '%s'", target);
		return -1;
	}
	if ((fd = net_connect((struct sockaddr *)&ss, len, timeout_ms, NULL, NULL)) < 0)
		log_warn("cannot connect to %s", target);
	return fd;
}

int
client_bind_source(int fd, const struct client_args *a)
{
	return a->source_len == 0 ? 0 : bind(fd, (const struct sockaddr *)&a->source, a->source_len);
}

void
client_source_error(const struct client_args *a, int err)
{
	log_warnx("cannot connect from %s (-s): %s", a->source_name, strerror(err));
}

/* What a new socket gets before it connects; a failure is kept apart from connect's. */
struct dial {
	const struct client_args *a;
	int failed;		/* errno of the failed step, 0 if none */
	char why[160];		/* "": -s failed; else the socket option refused, and why */
};

/* -O's socket options, then -s. */
static int
dial_prepare(int fd, void *arg)
{
	struct dial *d = arg;

	if (sockopt_apply(fd, &d->a->so, SOCKOPT_AT_CLIENT, d->why, sizeof(d->why)) < 0 ||
	    client_bind_source(fd, d->a) < 0) {
		d->failed = errno;
		return -1;
	}
	return 0;
}

/* Connect to the first address of the server that accepts; on failure the message is printed. */
static int
connect_host(const struct client_args *a)
{
	struct dial d = { .a = a, .why = "" };
	struct addrinfo *res, *ai;
	char name[NET_ADDRSTRLEN] = "?";
	int fd = -1, gai, err = 0;

	if (strncmp(a->host, "unix:", 5) == 0)
		return connect_unix(a->host, a->timeout_ms);
	gai = net_resolve(a->host, a->port, 0, a->family, &res);
	if (gai != 0) {
		log_warnx("cannot resolve '%s': %s", a->host,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0 && d.failed == 0; ai = ai->ai_next) {
		fd = net_connect(ai->ai_addr, ai->ai_addrlen, a->timeout_ms, dial_prepare, &d);
		if (fd < 0) {
			err = errno;
			net_format(ai->ai_addr, name, sizeof(name));
		}
	}
	freeaddrinfo(res);
	if (fd < 0 && d.why[0] != '\0')
		log_warnx("cannot connect to %s (-O %s)", a->host, d.why);
	else if (fd < 0 && d.failed != 0)
		client_source_error(a, d.failed);
	else if (fd < 0)
		log_warnx("cannot connect to %s: %s", name, strerror(err));
	else
		net_tune(fd);
	return fd;
}

void
client_say_connected(const struct client_args *a, int fd, const char *how)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[NET_ADDRSTRLEN] = "?", local[NET_ADDRSTRLEN] = "?";

	if (!a->verbose)
		return;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		net_format((struct sockaddr *)&ss, peer, sizeof(peer));
	len = sizeof(ss);
	if (a->port == NULL)
		log_warnx("connected to %s%s", a->host, how);	/* a client's Unix socket has no name */
	else if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		log_warnx("connected to %s from %s%s", peer, net_format((struct sockaddr *)&ss, local,
		    sizeof(local)), how);
}

void
client_say_closed(const struct client_args *a, const struct client_count *count, int rc)
{
	if (a->verbose)
		log_warnx("closed: %" PRIu64 " bytes sent, %" PRIu64 " received, exit status %d",
		    count->sent, count->received, rc);
}

int
client_connection_error(int err)
{
	if (err == ECONNRESET || err == EPIPE)
		log_warnx("connection reset by the server");
	else if (err == ETIMEDOUT || err == EAGAIN)
		log_warnx("timed out waiting for the server (-w)");
	else if (err == EPROTO)
		;	/* TLS: the reason is printed already */
	else
		log_warnx("connection failed: %s", strerror(err));
	return EXIT_FAIL;
}

/*
 * --banner: the server's first line, read a byte at a time so that nothing of
 * the echo after it is taken, and shown on stderr. 0, or an exit status.
 */
static int
client_banner(struct wire *c)
{
	char line[1024];
	size_t n = 0;
	int r;

	while (n < sizeof(line)) {
		if ((r = conn_read_byte(c, line + n)) <= 0)
			return r == 0 ? (log_warnx("connection closed before the banner"), EXIT_FAIL) :
			    client_connection_error(errno);
		if (line[n++] == '\n')
			return io_write_all(STDERR_FILENO, line, n) < 0 ? EXIT_FAIL : EXIT_OK;
	}
	log_warnx("no banner line in the first %zu bytes", sizeof(line));
	return EXIT_FAIL;
}

/* The command line; --help, --version and usage errors end the program here. */
static void
client_options(struct client_args *a, int argc, char **argv)
{
	enum args_result r;
	char err[512];

	if ((r = args_parse(a, argc, argv, err, sizeof(err))) == ARGS_RUN)
		return;
	args_free(a);
	if (r == ARGS_USAGE || r == ARGS_FAIL)
		fatalx(r == ARGS_FAIL ? EXIT_FAIL : EXIT_USAGE, "%s", err);
	if (r == ARGS_HELP)
		fputs(args_usage(), stdout);
	else
		printf("mpecho %s\n", MPECHO_VERSION);
	exit(EXIT_OK);
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
		fatalx(EXIT_FAIL, "%s", err);
	return ctx;
}

/* --tls: the handshake on the connected socket; on failure the message is printed. */
static int
client_tls(struct wire *c, SSL_CTX *ctx, const struct client_args *a)
{
	char why[256];

	c->ssl = tls_client_connect(ctx, c->fd, a->host, a->timeout_ms, why, sizeof(why));
	SSL_CTX_free(ctx);	/* the connection holds its own reference */
	if (c->ssl == NULL) {
		log_warnx("TLS handshake with %s failed: %s", a->host, why);
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
			fatalx(EXIT_FAIL, "standard %s is closed", names[fd]);
}

/* -u: the datagram loop instead of the stream relay. The exit status. */
static int
client_udp(struct client_args *a)
{
	struct client_mode mode = { .terminal = isatty(STDIN_FILENO), .timeout_ms = a->timeout_ms };
	struct client_count count = { 0, 0 };
	int sock, rc;

	signal(SIGPIPE, SIG_IGN);
	sock = datagram_connect(a);
	if (sock >= 0)
		client_say_connected(a, sock, " (UDP)");
	args_free(a);
	if (sock < 0)
		return EXIT_FAIL;
	rc = datagram_run(sock, &mode, &count);
	close(sock);
	client_say_closed(a, &count, rc);
	return rc;
}

/* The end: the connection released, -v's closing line when it was open; returns rc. */
static int
client_close(struct wire *c, const struct client_args *a, const struct client_count *count, int rc)
{
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	if (count != NULL)
		client_say_closed(a, count, rc);
	return rc;
}

int
main(int argc, char **argv)
{
	struct client_args a;
	struct client_mode mode;
	struct client_count count = { 0, 0 };
	char peer[NET_ADDRSTRLEN + 32];
	struct wire c = { .fd = -1 };
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
	c.fd = connect_host(&a);
	snprintf(peer, sizeof(peer), "%s%s%s%s", a.host, a.port != NULL ? " port " : "",
	    a.port != NULL ? a.port : "", a.tls ? " (TLS)" : "");
	rc = c.fd >= 0 && ctx != NULL ? client_tls(&c, ctx, &a) : (SSL_CTX_free(ctx), 0);
	if (c.fd >= 0 && rc == 0)
		client_say_connected(&a, c.fd, a.tls ? " (TLS)" : "");
	args_free(&a);
	if (c.fd < 0 || rc < 0)
		return client_close(&c, &a, NULL, EXIT_FAIL);
	if (a.zero) {	/* -z: the port is open; nothing is sent */
		conn_shutdown(&c);
		return client_close(&c, &a, &count, EXIT_OK);
	}

	/* 3. The banner if one is expected, then the relay, on a terminal or on pipes. */
	mode = (struct client_mode){ .terminal = isatty(STDIN_FILENO), .timeout_ms = a.timeout_ms };
	if (a.banner && a.timeout_ms > 0)
		net_set_timeouts(c.fd, a.timeout_ms / 1000);	/* the banner's blocking read */
	if (a.banner && (rc = client_banner(&c)) != EXIT_OK)
		return client_close(&c, &a, &count, rc);
	if (mode.terminal)
		terminal_greet(peer);
	rc = relay_run(&c, &mode, &count);
	return client_close(&c, &a, &count, rc);
}
