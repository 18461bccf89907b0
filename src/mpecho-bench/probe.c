/* probe: the one connection made before the load: a target that refuses it fails the run at once. */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "tls.h"

/*
 * One connection before the load, from the first source address and bounded
 * by --timeout: a target that refuses it (or, with --tls, fails its handshake:
 * a certificate not trusted, a server that does not speak TLS) fails the run
 * at once, with status 3, instead of being retried all along.
 */
/* udp: one datagram must come back within --timeout. */
static void
probe_udp(const struct bench *b)
{
	static const char hello[] = "mpecho-bench probe";
	int fd = socket(b->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char back[sizeof(hello)];

	errno = 0;
	if (fd < 0 || connect(fd, (const struct sockaddr *)&b->addr, b->addrlen) < 0 ||
	    send(fd, hello, sizeof(hello), 0) < 0 || poll(&pfd, 1, b->timeout_ms) != 1 ||
	    recv(fd, back, sizeof(back), 0) != (ssize_t)sizeof(hello))
		log_die(EXIT_CONN_ERRORS, "no echo from %s port %s over UDP: %s", b->host, b->port,
		    errno == 0 || pfd.revents == 0 ? "nothing came back within --timeout" : strerror(errno));
	close(fd);
}

void
probe_target(const struct bench *b)
{
	struct timeval tv = { b->timeout_ms / 1000, (b->timeout_ms % 1000) * 1000 };
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(SOURCE_FIRST) };
	int fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char why[256];
	SSL *ssl = NULL;

	if (b->mode == MODE_UDP) {
		close(fd);
		probe_udp(b);
		return;
	}
	if (fd < 0)
		log_die(EXIT_CONN_ERRORS, "cannot make a socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((b->sources > 0 && bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) ||
	    connect(fd, (const struct sockaddr *)&b->addr, b->addrlen) < 0)
		log_die(EXIT_CONN_ERRORS, "cannot connect to %s port %s: %s", b->host, b->port,
		    errno == EINPROGRESS ? "timed out" : strerror(errno));
	if (b->tls && (ssl = tls_client_connect(b->tls_ctx, fd, b->host, b->timeout_ms, why,
	    sizeof(why))) == NULL)
		log_die(EXIT_CONN_ERRORS, "TLS handshake with %s port %s failed: %s", b->host, b->port, why);
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
}
