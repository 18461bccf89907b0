/*
 * wire: a client connection's bytes, on a plain socket or in TLS on it,
 * without blocking: what mpecho and mpecho-bench share. The caller sees the
 * same answers either way: bytes, 0 at the server's end, or -1 with errno.
 */
#ifndef MPECHO_WIRE_H
#define MPECHO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

struct wire {
	int fd;
	SSL *ssl;		/* NULL: plain */
	short want;		/* after EAGAIN under TLS: POLLIN or POLLOUT, what to wait for */
};

/*
 * Send or read what the connection takes or has now: bytes, 0 at the
 * server's end (reads; a send there fails with EPIPE), or -1 with errno:
 * EAGAIN (wait for w->want under TLS), EINTR, the socket's error,
 * ECONNRESET, or EPROTO (TLS failed: why, if not NULL, says how).
 */
ssize_t wire_send(struct wire *w, const void *buf, size_t len, char *why, size_t whylen);
ssize_t wire_recv(struct wire *w, void *buf, size_t len, char *why, size_t whylen);

/* TLS holds bytes it has read whole that the socket no longer shows. */
bool wire_pending(const struct wire *w);

/*
 * One step of a client's TLS handshake, with host's name checked in the
 * server's certificate (unless ctx is insecure): 1 done, 0 wait for w->want,
 * -1 failed (errno EPROTO: TLS said no).
 */
int wire_handshake(struct wire *w, SSL_CTX *ctx, const char *host);

/* A close-notify if the socket takes it at once, then the socket closed; fd -1 after. */
void wire_close(struct wire *w);

#endif
