/*
 * transport_tls: a session's bytes in TLS records on its socket. The
 * handshake runs here, in the process that serves the session, under its own
 * deadline (--tls-timeout); then reads and writes block on the socket with its
 * idle timeouts, as the plain transport's do.
 */
#include "transport.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "log.h"
#include "tls.h"
#include "tls_server.h"

/*
 * One failed call, as errno: a socket timeout that ran out is ETIMEDOUT; a
 * TLS failure is logged here, once, and said as EPROTO. Returns -1 (0 at a
 * close-notify).
 */
static int
secure_failed(SSL *ssl, int rc)
{
	char why[160];

	if (tls_io_failed(ssl, rc, NULL, why, sizeof(why)) == 0)
		return 0;
	if (errno == EAGAIN)
		errno = ETIMEDOUT;
	else if (errno == EPROTO)
		tls_server_failed(why);
	return -1;
}

static int
secure_open(struct transport *t, int fd, const void *arg)
{
	const struct tls_server *ts = arg;
	SSL *ssl = SSL_new(ts->ctx);
	char why[160];

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		errno = ENOMEM;
		return -1;
	}
	SSL_set_accept_state(ssl);
	if (tls_handshake(ssl, fd, ts->timeout_ms, why, sizeof(why)) < 0) {
		tls_server_refused(ssl, why);
		SSL_free(ssl);
		return -1;
	}
	if (tls_server_accepted(ssl, ts) < 0) {
		SSL_free(ssl);
		return -1;
	}
	t->ops = &transport_tls;
	t->fd = fd;
	t->state = ssl;
	return 0;
}

/* Bytes read, 0 at the peer's close-notify (or its plain end of stream), or -1 with errno. */
static ssize_t
secure_read(struct transport *t, void *buf, size_t len)
{
	int n;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_read(t->state, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0)
			return n;
		if ((n = secure_failed(t->state, n)) == 0 || errno != EINTR)
			return n;
	}
}

/*
 * Each SSL_write() returns once a record has gone (partial writes are on). A
 * call that made no progress waited out the socket's send timeout, half the
 * idle timeout: the second such wait in a row means the peer stalled.
 */
static int
secure_write(struct transport *t, const void *buf, size_t len, size_t *done)
{
	size_t off = 0;
	int n, stalls = 0;

	while (off < len) {
		ERR_clear_error();
		errno = 0;
		n = SSL_write(t->state, (const char *)buf + off, len - off > INT_MAX ? INT_MAX :
		    (int)(len - off));
		if (n > 0) {
			off += (size_t)n;
			stalls = 0;
		} else if (secure_failed(t->state, n) == 0) {
			errno = EPIPE;	/* the peer's close-notify came first: our records are unread */
			break;
		} else if (errno != EINTR && (errno != ETIMEDOUT || ++stalls == 2)) {
			break;
		}
	}
	*done = off;
	return off == len ? 0 : -1;
}

/* Our direction ends: a close-notify, then the TCP FIN; the peer's records can still come. */
static int
secure_shutdown(struct transport *t)
{
	ERR_clear_error();
	if (SSL_shutdown(t->state) < 0) {
		ERR_clear_error();
		return -1;
	}
	return shutdown(t->fd, SHUT_WR);
}

static void
secure_close(struct transport *t)
{
	SSL_free(t->state);
	t->state = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

const struct transport_ops transport_tls = {
	.name = "tls",
	.open = secure_open,
	.read = secure_read,
	.write = secure_write,
	.shutdown = secure_shutdown,
	.close = secure_close,
};
