/*
 * model_loop_tls: a loop session's bytes on its socket, plain or in TLS
 * records, never blocking. The handshake runs a step at a time as the socket
 * becomes ready, under --tls-timeout (the session's deadline: see
 * loop_session_deadline()). A TLS call that cannot go on says which way it
 * waits in s->wait, which may be the other way than the call's (a read may
 * have to write first). Records are read ahead (tls_server.c): what OpenSSL
 * holds of them, no readiness will announce. An idle TLS session holds no
 * record buffer: OpenSSL frees them once they are empty
 * (SSL_MODE_RELEASE_BUFFERS).
 */
#include "model_loop.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "session.h"
#include "tls.h"
#include "tls_server.h"

int
loop_tls_open(struct loop_worker *w, struct loop_session *s)
{
	const struct tls_server *ts = w->job->session->tls;
	SSL *ssl = ts != NULL ? SSL_new(ts->ctx) : NULL;

	if (ssl == NULL || SSL_set_fd(ssl, s->fd) != 1) {
		SSL_free(ssl);
		errno = ENOMEM;
		return -1;
	}
	SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	SSL_set_accept_state(ssl);
	s->ssl = ssl;
	s->wait = LOOP_WANT_IN;		/* the client speaks first */
	return 0;
}

static uint8_t
loop_tls_way(short events)
{
	return events == POLLOUT ? LOOP_WANT_OUT : LOOP_WANT_IN;
}

int
loop_tls_handshake(struct loop_worker *w, struct loop_session *s)
{
	char why[160];
	short events = POLLIN;
	int rc = tls_handshake_step(s->ssl, &events, why, sizeof(why));

	if (rc == 0) {
		s->wait = loop_tls_way(events);
		return 0;
	}
	if (rc < 0)
		return tls_server_refused(s->ssl, why);
	s->wait = 0;
	return tls_server_accepted(s->ssl, w->job->session->tls) < 0 ? -1 : 1;
}

int
loop_tls_timed_out(struct loop_worker *w, struct loop_session *s)
{
	char why[64];

	snprintf(why, sizeof(why), "no handshake within %d ms", w->job->session->tls->timeout_ms);
	errno = ETIMEDOUT;
	return tls_server_refused(s->ssl, why);
}

/* A TLS call that returned rc <= 0: -1 with errno (EAGAIN: s->wait set; EPROTO: logged), or 0 at a close-notify. */
static int
loop_tls_stopped(struct loop_session *s, int rc)
{
	char why[160];
	short events = POLLIN;

	if (tls_io_failed(s->ssl, rc, &events, why, sizeof(why)) == 0)
		return 0;
	if (errno == EAGAIN)
		s->wait = loop_tls_way(events);
	else if (errno == EPROTO)
		tls_server_failed(why);
	return -1;
}

ssize_t
loop_io_recv(struct loop_session *s, void *buf, size_t len)
{
	ssize_t n;
	int rc;

	if (s->ssl == NULL) {
		do
			n = recv(s->fd, buf, len, 0);
		while (n < 0 && errno == EINTR);
		return n;
	}
	do {
		ERR_clear_error();
		errno = 0;
		if ((rc = SSL_read(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0) {
			s->wait = 0;
			return rc;
		}
	} while ((rc = loop_tls_stopped(s, rc)) < 0 && errno == EINTR);
	return rc;
}

/*
 * TLS: record by record (partial writes are on) until all is taken or the
 * socket is full. A record the socket took in part stays OpenSSL's to finish:
 * its bytes are not counted yet, and the next call must begin with them.
 */
ssize_t
loop_io_send(struct loop_session *s, const void *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int rc;

	if (s->ssl == NULL) {
		do
			n = send(s->fd, buf, len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		return n;
	}
	while (off < len) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_write(s->ssl, (const char *)buf + off, len - off > INT_MAX ? INT_MAX :
		    (int)(len - off));
		if (rc > 0) {
			off += (size_t)rc;
			s->wait = 0;
			continue;
		}
		if (loop_tls_stopped(s, rc) == 0)
			errno = EPIPE;	/* the peer's close-notify came first: our records are unread */
		if (errno == EINTR)
			continue;
		if (off > 0)
			return (ssize_t)off;	/* the error (or the wait) comes again on the next call */
		return -1;
	}
	return (ssize_t)off;
}

int
loop_io_shutdown(struct loop_session *s)
{
	int rc;

	if (s->ssl != NULL) {
		ERR_clear_error();
		errno = 0;
		if ((rc = SSL_shutdown(s->ssl)) < 0 && loop_tls_stopped(s, rc) < 0)
			return -1;
		s->wait = 0;
	}
	return shutdown(s->fd, SHUT_WR);
}

/* Whether TLS holds input (read ahead or decrypted) that a read would take without the socket. */
bool
loop_io_buffered(const struct loop_session *s)
{
	return s->ssl != NULL && SSL_has_pending(s->ssl);
}

void
loop_io_read_ahead(struct loop_session *s, bool on)
{
	if (s->ssl != NULL)
		SSL_set_read_ahead(s->ssl, on);
}

/* Not even SSL_free(NULL) without TLS: then OpenSSL is not mapped in the workers (mem.h). */
void
loop_io_free(struct loop_session *s)
{
	if (s->ssl == NULL)
		return;
	SSL_free(s->ssl);
	s->ssl = NULL;
}
