/* probe: the one connection made before the load: a target that refuses it fails the run at once. */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "mpecho.h"
#include "tls.h"

/*
 * -O's options on the probe's socket: EXIT_OK, or EXIT_NOT_RUN (fd closed) with
 * err. All but fastopen: its connect() would return before any SYN is sent.
 */
static int
probe_sockopts(int fd, const struct bench *b, enum sockopt_place place, char *err, size_t errlen)
{
	struct sockopts so = b->so;
	char why[160];

	so.set &= ~(1u << SOCKOPT_FASTOPEN);
	if (sockopt_apply(fd, &so, place, why, sizeof(why)) == 0)
		return EXIT_OK;
	close(fd);
	return cli_error(EXIT_NOT_RUN, err, errlen, "cannot connect to %s port %s (-O %s)", b->host,
	    b->port, why);
}

/* udp: one datagram must come back within --timeout. */
static int
probe_udp(const struct bench *b, char *err, size_t errlen)
{
	static const char hello[] = "mpecho-bench probe";
	int fd = socket(b->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char back[sizeof(hello)];

	errno = 0;
	if (fd >= 0 && probe_sockopts(fd, b, SOCKOPT_AT_CLIENT_UDP, err, errlen) != EXIT_OK)
		return EXIT_NOT_RUN;
	if (fd < 0 || connect(fd, (const struct sockaddr *)&b->addr, b->addrlen) < 0 ||
	    send(fd, hello, sizeof(hello), 0) < 0 || poll(&pfd, 1, b->timeout_ms) != 1 ||
	    recv(fd, back, sizeof(back), 0) != (ssize_t)sizeof(hello)) {
		cli_error(0, err, errlen, "no echo from %s port %s over UDP: %s", b->host, b->port,
		    errno == 0 || pfd.revents == 0 ? "nothing came back within --timeout" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_CONN_ERRORS;
	}
	close(fd);
	return EXIT_OK;
}

/*
 * One connection before the load, from the first source address and bounded
 * by --timeout: a target that refuses it (or, with --tls, fails its handshake:
 * a certificate not trusted, a server that does not speak TLS) fails the run
 * at once, with status 3, instead of being retried all along.
 */

int
probe_target(const struct bench *b, char *err, size_t errlen)
{
	struct timeval tv = { b->timeout_ms / 1000, (b->timeout_ms % 1000) * 1000 };
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(SOURCE_ADDR(b, 0)) };
	int fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char why[256];
	SSL *ssl = NULL;

	if (b->mode == MODE_UDP) {
		if (fd >= 0)
			close(fd);
		return probe_udp(b, err, errlen);
	}
	if (fd < 0)
		return cli_error(EXIT_CONN_ERRORS, err, errlen, "cannot make a socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (probe_sockopts(fd, b, SOCKOPT_AT_CLIENT, err, errlen) != EXIT_OK)
		return EXIT_NOT_RUN;
	if ((b->sources > 0 && bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) ||
	    connect(fd, (const struct sockaddr *)&b->addr, b->addrlen) < 0) {
		cli_error(0, err, errlen, "cannot connect to %s port %s: %s", b->host, b->port,
		    errno == EINPROGRESS ? "timed out" : strerror(errno));
		close(fd);
		return EXIT_CONN_ERRORS;
	}
	if (b->tls && (ssl = tls_client_connect(b->tls_ctx, fd, b->host, b->timeout_ms, why,
	    sizeof(why))) == NULL) {
		cli_error(0, err, errlen, "TLS handshake with %s port %s failed: %s", b->host, b->port,
		    why);
		close(fd);
		return EXIT_CONN_ERRORS;
	}
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	return EXIT_OK;
}
