/* tls: a handshake under a deadline, the clients' side, and OpenSSL's errors as one line. */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include <openssl/err.h>

#include "clock.h"
#include "log.h"

const char *
tls_error_text(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();
	const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (e != 0 && ERR_SYSTEM_ERROR(e))
		snprintf(buf, len, "%s", strerror(ERR_GET_REASON(e)));	/* errno, as OpenSSL saw it */
	else if (reason != NULL)
		snprintf(buf, len, "%s", reason);
	else if (e != 0)
		snprintf(buf, len, "OpenSSL error %lx", e);
	else
		snprintf(buf, len, "%s", fallback);
	ERR_clear_error();
	return buf;
}

/* A handshake step that did not finish: how long to wait for what, or -1 with errno and why. */
static int
tls_handshake_wait(SSL *ssl, int rc, short *events, char *why, size_t whylen)
{
	int saved = errno;

	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		*events = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*events = POLLOUT;
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			snprintf(why, whylen, "%s", saved != 0 ? strerror(saved) :
			    "the peer closed the connection during the handshake");
			errno = ECONNRESET;
			return -1;
		}
		break;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(why, whylen, "the peer closed the connection during the handshake");
		errno = ECONNRESET;
		return -1;
	default:
		break;
	}
	tls_error_text(why, whylen, "handshake failed");
	if (strcmp(why, "unexpected eof while reading") == 0) {
		snprintf(why, whylen, "the peer closed the connection during the handshake");
		errno = ECONNRESET;
		return -1;
	}
	errno = EPROTO;
	return -1;
}

int
tls_handshake_step(SSL *ssl, short *events, char *why, size_t whylen)
{
	int n;

	ERR_clear_error();
	errno = 0;
	if ((n = SSL_do_handshake(ssl)) == 1)
		return 1;
	return tls_handshake_wait(ssl, n, events, why, whylen);
}

int
tls_handshake(SSL *ssl, int fd, int timeout_ms, char *why, size_t whylen)
{
	int flags = fcntl(fd, F_GETFL), rc, n;
	int64_t deadline = clock_ms() + timeout_ms, left;
	struct pollfd pfd = { .fd = fd };

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	while ((rc = tls_handshake_step(ssl, &pfd.events, why, whylen)) == 0) {
		if ((left = deadline - clock_ms()) <= 0) {
			snprintf(why, whylen, "no handshake within %d ms", timeout_ms);
			errno = ETIMEDOUT;
			rc = -1;
			break;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			log_errtext(why, whylen, "poll");
			rc = -1;
			break;
		}
	}
	n = errno;
	fcntl(fd, F_SETFL, flags);
	errno = n;
	return rc < 0 ? -1 : 0;
}

SSL_CTX *
tls_client_context(const char *ca, int insecure, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[160];

	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, errlen, "cannot set up TLS: %s", tls_error_text(why, sizeof(why), "?"));
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ca != NULL ? SSL_CTX_load_verify_locations(ctx, ca, NULL) :
	    SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		snprintf(err, errlen, "cannot load the CA certificates %s: %s", ca != NULL ? ca :
		    "of the system", tls_error_text(why, sizeof(why), "not PEM"));
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
tls_client_name(SSL *ssl, const char *host)
{
	unsigned char addr[16];
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(vp, host) == 1 ? 0 : -1;
	/* SSL_set_tlsext_host_name() casts the const away in a macro: the call it stands for */
	if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
	    (void *)(uintptr_t)host) != 1)
		return -1;
	return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

SSL *
tls_client_connect(SSL_CTX *ctx, int fd, const char *host, int timeout_ms, char *why,
    size_t whylen)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || tls_client_name(ssl, host) < 0) {
		tls_error_text(why, whylen, "out of memory");
		SSL_free(ssl);
		errno = ENOMEM;
		return NULL;
	}
	SSL_set_connect_state(ssl);
	if (tls_handshake(ssl, fd, timeout_ms < 0 ? 60000 : timeout_ms, why, whylen) < 0) {
		long v = SSL_get_verify_result(ssl);

		if (v != X509_V_OK && strlen(why) + 3 < whylen)
			snprintf(why + strlen(why), whylen - strlen(why), ": %s",
			    X509_verify_cert_error_string(v));
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

int
tls_io_failed(SSL *ssl, int rc, short *want, char *why, size_t whylen)
{
	int saved = errno, err = SSL_get_error(ssl, rc);
	char text[160];

	if (err == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		if (want != NULL)
			*want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		errno = saved == EINTR ? EINTR : EAGAIN;
		return -1;
	}
	if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		errno = saved != 0 ? saved : ECONNRESET;
		return -1;
	}
	tls_error_text(why != NULL ? why : text, why != NULL ? whylen : sizeof(text), "TLS error");
	errno = EPROTO;
	return -1;
}
