/* wire: a client connection's bytes, plain or in TLS, never blocking (wire.h). */
#include "wire.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls.h"

ssize_t
wire_send(struct wire *w, const void *buf, size_t len, char *why, size_t whylen)
{
	int n;

	if (w->ssl == NULL)
		return send(w->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	ERR_clear_error();
	errno = 0;
	if ((n = SSL_write(w->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0)
		return n;
	return tls_io_failed(w->ssl, n, &w->want, why, whylen) == 0 ? (errno = EPIPE, -1) : -1;
}

ssize_t
wire_recv(struct wire *w, void *buf, size_t len, char *why, size_t whylen)
{
	int n;

	if (w->ssl == NULL)
		return recv(w->fd, buf, len, MSG_DONTWAIT);
	ERR_clear_error();
	errno = 0;
	if ((n = SSL_read(w->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0)
		return n;
	return tls_io_failed(w->ssl, n, &w->want, why, whylen);
}

bool
wire_pending(const struct wire *w)
{
	return w->ssl != NULL && SSL_pending(w->ssl) > 0;
}

int
wire_handshake(struct wire *w, SSL_CTX *ctx, const char *host)
{
	int n;

	if (w->ssl == NULL) {
		if ((w->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(w->ssl, w->fd) != 1 ||
		    tls_client_name(w->ssl, host) < 0) {
			ERR_clear_error();
			errno = ENOMEM;
			return -1;
		}
		SSL_set_connect_state(w->ssl);
	}
	ERR_clear_error();
	errno = 0;
	if ((n = SSL_do_handshake(w->ssl)) == 1)
		return 1;
	return tls_io_failed(w->ssl, n, &w->want, NULL, 0) < 0 && errno == EAGAIN ? 0 : -1;
}

void
wire_close(struct wire *w)
{
	if (w->ssl != NULL) {
		SSL_shutdown(w->ssl);	/* a close-notify, if the socket takes it now; no wait */
		ERR_clear_error();
		SSL_free(w->ssl);
		w->ssl = NULL;
	}
	if (w->fd >= 0)
		close(w->fd);	/* also leaves the epoll set */
	w->fd = -1;
}
