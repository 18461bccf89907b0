/*
 * tls_server: the server's TLS credentials. The supervisor loads the
 * certificate chain and key once, before serving, and again on SIGHUP; it
 * never speaks TLS itself: sessions (and prefork workers) inherit the loaded
 * context when they are forked, and transport_tls.c (or, in the loop model,
 * model_loop_tls.c) does the handshake, around which every model logs and
 * counts the same through the functions below.
 */
#ifndef MPECHO_TLS_SERVER_H
#define MPECHO_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct tls_server {
	SSL_CTX *ctx;		/* NULL until loaded */
	const char *cert;	/* --tls-cert: a PEM chain, the server's certificate first */
	const char *key;	/* --tls-key: its PEM private key */
	int timeout_ms;		/* --tls-timeout: a handshake's deadline */
	bool forget_keys;	/* a process serves one session: its keys go once its handshake is done */
	/* NULL: open the files here; else who opens them (the key may be root's: privsep.h) */
	int (*open)(void *ctx, bool key);
	void *open_ctx;
};

/*
 * (Re)load ts->cert and ts->key into a new context (TLS 1.2 and 1.3). On
 * success the new context replaces the old one, which is freed; on failure
 * the old one stays and err says which file and why. 0 or -1.
 */
int tls_server_load(struct tls_server *ts, char *err, size_t errlen);

/*
 * SIGHUP: load the files again, and log the outcome: "event=tls-reload ..."
 * with the new certificate, or "event=tls-reload-failed error=...
 * action=kept" (the old credentials serve on). 0 when new ones are in place.
 */
int tls_server_reload(struct tls_server *ts);

/*
 * In a process that serves one session, once its handshake is done (and with
 * it the resumption tickets sent): the private key is dropped from the
 * connection and from this process's copy of the context (the certificate's
 * public key takes its place), so OpenSSL frees it and clears its numbers;
 * and the ticket keys every session shares, with which it could read or forge
 * the tickets of any other, are written over by random ones. What is left
 * serves the session to its end (renegotiation is off; TLS 1.3 key updates
 * need neither). 0 or -1.
 */
int tls_server_forget_keys(SSL *ssl);

/*
 * What every model does around a session's handshake, with the same log lines:
 * tls_server_refused() takes a failed one (errno and why from tls.h's
 * handshake): a peer that closed before its first byte is a health check,
 * ENODATA, nothing logged; anything else is "event=tls-failed ...
 * stage=handshake", EPROTO. Returns -1 with that errno. tls_server_accepted()
 * takes one that is done: the keys dropped if ts->forget_keys, and the
 * "event=tls ..." line. 0, or -1 with EPROTO (logged). tls_server_failed()
 * logs a failed record after the handshake (why: OpenSSL's reason).
 */
int tls_server_refused(SSL *ssl, const char *why);
int tls_server_accepted(SSL *ssl, const struct tls_server *ts);
void tls_server_failed(const char *why);

/* A certificate or key file opened as the loader wants it (never blocking); -1 with errno. */
int tls_server_open_file(const char *path);

/* For the log: "subject=... not_after=2027-11-22T08:00:00Z" of the loaded certificate. */
const char *tls_server_describe(const struct tls_server *ts, char *buf, size_t len);

void tls_server_free(struct tls_server *ts);

#endif
