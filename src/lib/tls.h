/*
 * tls: what the three programs share of OpenSSL: a handshake under a deadline,
 * the clients' context and connection set-up, and OpenSSL's reason for a
 * failure as one short line.
 */
#ifndef MPECHO_TLS_H
#define MPECHO_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * Run ssl's handshake on the connected socket fd (either side: the caller has
 * set the accept or connect state) within timeout_ms in all. The socket is
 * non-blocking meanwhile and gets its flags back at the end. 0, or -1 with
 * errno ETIMEDOUT (the deadline), ECONNRESET (the peer closed or reset), or
 * EPROTO (TLS said no); why then holds one line ("wrong version number").
 */
int tls_handshake(SSL *ssl, int fd, int timeout_ms, char *why, size_t whylen);

/*
 * One step of ssl's handshake on its non-blocking socket: 1 done; 0 not yet,
 * *events (POLLIN or POLLOUT) says what to wait for; -1 failed, with errno and
 * why as tls_handshake() sets them.
 */
int tls_handshake_step(SSL *ssl, short *events, char *why, size_t whylen);

/*
 * A client context: TLS 1.2 or 1.3; the server's certificate checked against
 * ca (a PEM file), or the system's trusted certificates when ca is NULL, or
 * not at all when insecure. NULL, with err set.
 */
SSL_CTX *tls_client_context(const char *ca, int insecure, char *err, size_t errlen);

/*
 * The name the server's certificate must carry: an address (IPv4, IPv6) as an
 * address, else a DNS name, also sent as SNI. 0 or -1.
 */
int tls_client_name(SSL *ssl, const char *host);

/*
 * A client connection on the connected socket fd: the server's name (host,
 * sent as SNI unless it is an address) is checked in its certificate (unless
 * the context is insecure), and the handshake is done within timeout_ms
 * (-1: 60 s). The SSL, or NULL with errno as tls_handshake() sets it and why
 * filled.
 */
SSL *tls_client_connect(SSL_CTX *ctx, int fd, const char *host, int timeout_ms, char *why,
    size_t whylen);

/*
 * What an SSL_read() or SSL_write() that returned rc (<= 0) means, for the
 * three programs alike: 0 at the peer's close-notify; or -1 with errno:
 * EAGAIN (the socket would block, or its timeout ran out; *want, if not NULL,
 * is POLLIN or POLLOUT, what to wait for), EINTR, the socket's error,
 * ECONNRESET (the peer vanished), or EPROTO (TLS failed: why, if not NULL,
 * says how).
 */
int tls_io_failed(SSL *ssl, int rc, short *want, char *why, size_t whylen);

/*
 * The oldest error on OpenSSL's queue as text ("certificate verify failed"),
 * or fallback when the queue is empty; the queue is emptied. Returns buf.
 */
const char *tls_error_text(char *buf, size_t len, const char *fallback);

#endif
