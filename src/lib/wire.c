/*
 * wire: a load connection's bytes, on a plain socket or in TLS on it, always
 * non-blocking. The load loop sees the same answers either way: bytes, 0 at
 * the server's end, or -1 with errno (EAGAIN: wait for the socket).
 */
#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls.h"

/* A TLS call that did not finish: EAGAIN (w->want says for what), 0 at a close-notify, or -1. */
static ssize_t
wire_tls_failed(struct wire *w, int rc)
{
	short want = 0;
	int n = tls_io_failed(w->ssl, rc, &want, NULL, 0);

	w->want = want == POLLIN ? EPOLLIN : EPOLLOUT;
	return n;
}

ssize_t
wire_send(struct wire *w, const void *buf, size_t len)
{
	int n;

	if (w->ssl == NULL)
		return send(w->fd, buf, len, MSG_NOSIGNAL);
	errno = 0;
	if ((n = SSL_write(w->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0)
		return n;
	return wire_tls_failed(w, n) == 0 ? (errno = EPIPE, -1) : -1;
}

ssize_t
wire_recv(struct wire *w, void *buf, size_t len)
{
	int n;

	if (w->ssl == NULL)
		return recv(w->fd, buf, len, 0);
	errno = 0;
	if ((n = SSL_read(w->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0)
		return n;
	return wire_tls_failed(w, n);
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
	errno = 0;
	if ((n = SSL_do_handshake(w->ssl)) == 1)
		return 1;
	return wire_tls_failed(w, n) < 0 && errno == EAGAIN ? 0 : -1;
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
