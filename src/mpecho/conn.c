/* conn: the client's connection, a plain socket or TLS on it: the relay's sends, reads and end. */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "io.h"
#include "log.h"
#include "tls.h"

/* A TLS call that did not finish: EAGAIN to wait for the socket, 0 at the end, or the error. */
static ssize_t
conn_tls_failed(struct conn *c, int rc)
{
	char why[160];

	if (tls_io_failed(c->ssl, rc, NULL, why, sizeof(why)) == 0)
		return 0;
	if (errno == EPROTO)
		log_plain("TLS: %s", why);
	return -1;
}

ssize_t
conn_send(struct conn *c, const void *buf, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	ERR_clear_error();
	errno = 0;
	n = SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	return conn_tls_failed(c, n) == 0 ? (errno = EPIPE, -1) : -1;
}

int
conn_read_byte(struct conn *c, char *byte)
{
	int n;

	if (c->ssl == NULL)
		return (int)io_read(c->fd, byte, 1);
	ERR_clear_error();
	errno = 0;
	n = SSL_read(c->ssl, byte, 1);

	if (n == 1)
		return 1;
	return (int)conn_tls_failed(c, n);
}

ssize_t
conn_recv(struct conn *c, void *buf, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return recv(c->fd, buf, len, MSG_DONTWAIT);
	ERR_clear_error();
	errno = 0;
	n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	return n > 0 ? n : conn_tls_failed(c, n);
}

bool
conn_pending(const struct conn *c)
{
	return c->ssl != NULL && SSL_pending(c->ssl) > 0;
}

void
conn_shutdown(struct conn *c)
{
	if (c->ssl != NULL) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);	/* our close-notify: the TLS half-close */
		ERR_clear_error();
	}
	shutdown(c->fd, SHUT_WR);
}
