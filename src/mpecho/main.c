/* main: mpecho, the client: options, the connection, then the terminal or the pipe mode. */
#include <errno.h>
#include <fcntl.h>
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
		log_die(r == ARGS_FAIL ? EXIT_FAIL : EXIT_USAGE, "%s", err);
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
