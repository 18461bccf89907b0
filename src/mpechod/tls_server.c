/* tls_server: load and reload the certificate and key; describe them for the log. */
#include "tls_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "io.h"
#include "log.h"
#include "tls.h"

/*
 * What every session gets: TLS 1.2 or 1.3 with OpenSSL's default ciphers, no
 * renegotiation (a client could make us spend CPU at will), a peer that closes
 * without close-notify seen as the end of its stream (echo has nothing a
 * truncation could forge), one stateless resumption ticket (the ticket keys
 * are made here, before the fork, so every session can resume every other's),
 * writes that may return after each record, for the idle timeout, and records
 * read ahead: one read(2) takes a record's header, its body and what follows,
 * as far as OpenSSL's buffer of one full record goes, where it would otherwise
 * make two calls a record (the header, then the body). A larger buffer saves
 * more calls but not CPU: before each record OpenSSL moves what is left in it
 * to its start. What was read ahead is OpenSSL's until a read takes it: a
 * session that waits for its socket asks SSL_has_pending() first
 * (loop_io_buffered()).
 */
#define TLS_FILE_MAX (1 << 20)	/* a certificate chain or a key file, at most */

/* An encrypted key is refused, never a prompt on a terminal (on SIGHUP nobody answers); *u notes it. */
static int
tls_server_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag;
	if (u != NULL)
		*(int *)u = 1;
	return -1;
}

static SSL_CTX *
tls_server_context(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_read_ahead(ctx, 1);
	return ctx;
}

/* Up to len bytes of a regular file (fewer if it shrank meanwhile); -1 with errno. */
static ssize_t
tls_server_read(int fd, char *buf, size_t len)
{
	size_t have = 0;
	ssize_t n = 1;

	while (have < len && (n = io_read(fd, buf + have, len - have)) > 0)
		have += (size_t)n;
	return n < 0 ? -1 : (ssize_t)have;
}

/*
 * The certificate's or the key's PEM bytes in a memory BIO. Opened O_NONBLOCK
 * (here, or by ts->open) and read only if it is
 * a regular file of at most TLS_FILE_MAX bytes: a FIFO, a device or a socket
 * at the path would block the supervisor (at start, or on SIGHUP) in open(2)
 * or read(2) for good. NULL with errno (EBADFD: not a regular file, as
 * log_strerror() words it; ELOOP for a link is never seen here: links are
 * followed, as for any file the administrator names).
 */
int
tls_server_open_file(const char *path)
{
	return open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static BIO *
tls_server_file(const struct tls_server *ts, bool key)
{
	int fd = ts->open != NULL ? ts->open(ts->open_ctx, key) :
	    tls_server_open_file(key ? ts->key : ts->cert), saved;
	struct stat st;
	char *buf = NULL;
	BIO *bio = NULL;
	ssize_t n = -1;

	if (fd < 0)
		return NULL;
	st.st_size = 0;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size > TLS_FILE_MAX) {
		errno = !S_ISREG(st.st_mode) ? EBADFD : EFBIG;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    (n = tls_server_read(fd, buf, (size_t)st.st_size)) < 0)
		goto out;
	if ((bio = BIO_new(BIO_s_mem())) == NULL || BIO_write(bio, buf, (int)n) != (int)n) {
		BIO_free(bio);
		bio = NULL;
		errno = ENOMEM;
	}
out:
	saved = errno;
	if (buf != NULL)
		OPENSSL_cleanse(buf, (size_t)st.st_size);	/* a key's bytes: not left in freed memory */
	free(buf);
	close(fd);
	errno = saved;
	return bio;
}

/* The chain from a PEM file: the server's certificate first, then its issuers. 0, or -1 with why. */
static int
tls_server_chain(SSL_CTX *ctx, const struct tls_server *ts, char *why, size_t whylen)
{
	BIO *bio = tls_server_file(ts, false);
	X509 *x = NULL;
	int rc = -1;

	if (bio == NULL) {
		snprintf(why, whylen, "%s", log_strerror(errno));
		return -1;
	}
	if ((x = PEM_read_bio_X509_AUX(bio, NULL, tls_server_no_password, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_clear_chain_certs(ctx) != 1)
		goto out;
	X509_free(x);
	while ((x = PEM_read_bio_X509(bio, NULL, tls_server_no_password, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
			goto out;
	if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE)	/* the end of the file */
		ERR_clear_error();
	rc = ERR_peek_error() == 0 ? 0 : -1;
out:
	if (rc < 0)
		tls_error_text(why, whylen, "not a PEM certificate");
	X509_free(x);
	BIO_free(bio);
	return rc;
}

/* The private key from a PEM file (never asking for a password). 0, or -1 with why. */
static int
tls_server_key(SSL_CTX *ctx, const struct tls_server *ts, char *why, size_t whylen)
{
	BIO *bio = tls_server_file(ts, true);
	EVP_PKEY *key;
	int rc, asked = 0;

	if (bio == NULL) {
		snprintf(why, whylen, "%s", log_strerror(errno));
		return -1;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, tls_server_no_password, &asked);
	rc = key != NULL && SSL_CTX_use_PrivateKey(ctx, key) == 1 ? 0 : -1;
	if (rc < 0)
		tls_error_text(why, whylen, "not a PEM private key");
	if (rc < 0 && asked)
		snprintf(why, whylen, "it is encrypted, and mpechod asks for no password");
	EVP_PKEY_free(key);
	BIO_free(bio);
	return rc;
}

int
tls_server_load(struct tls_server *ts, char *err, size_t errlen)
{
	SSL_CTX *ctx = tls_server_context();
	char why[160];

	ERR_clear_error();
	if (ctx == NULL) {
		snprintf(err, errlen, "cannot set up TLS: %s", tls_error_text(why, sizeof(why), "?"));
		return -1;
	}
	if (tls_server_chain(ctx, ts, why, sizeof(why)) < 0)
		snprintf(err, errlen, "cannot load the certificate %s: %s", ts->cert, why);
	else if (tls_server_key(ctx, ts, why, sizeof(why)) < 0 && strcmp(why, "key values mismatch") != 0)
		snprintf(err, errlen, "cannot load the key %s: %s", ts->key, why);
	else if (SSL_CTX_check_private_key(ctx) != 1)
		snprintf(err, errlen, "the key %s does not match the certificate %s", ts->key, ts->cert);
	else {
		SSL_CTX_free(ts->ctx);
		ts->ctx = ctx;
		return 0;
	}
	SSL_CTX_free(ctx);
	return -1;
}

int
tls_server_reload(struct tls_server *ts)
{
	char err[512], what[400];

	if (tls_server_load(ts, err, sizeof(err)) < 0) {
		log_msg(LOG_LVL_ERROR, "event=tls-reload-failed error=%s action=kept", log_qf("%s", err));
		return -1;
	}
	log_msg(LOG_LVL_NOTICE, "event=tls-reload cert=%s %s", log_qf("%s", ts->cert),
	    tls_server_describe(ts, what, sizeof(what)));
	return 0;
}

int
tls_server_forget_keys(SSL *ssl)
{
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
	X509 *x = SSL_CTX_get0_certificate(ctx);
	STACK_OF(X509) *chain = NULL;
	unsigned char fresh[80];	/* a ticket key's name, HMAC key and AES key */
	int rc = 0;

	/* With no private key given, OpenSSL puts the certificate's public key in its place. */
	if (x == NULL || SSL_CTX_get0_chain_certs(ctx, &chain) != 1 ||
	    SSL_use_cert_and_key(ssl, x, NULL, chain, 1) != 1 ||
	    SSL_CTX_use_cert_and_key(ctx, x, NULL, chain, 1) != 1)
		return -1;
	/*
	 * The ticket keys, written over in place by keys of this process's own
	 * (TLS 1.3's tickets went out with the handshake's last flight, 1.2's in
	 * it): a ticket it made now would be one only it could read.
	 */
	if (RAND_bytes(fresh, sizeof(fresh)) != 1 ||
	    SSL_CTX_set_tlsext_ticket_keys(ctx, fresh, sizeof(fresh)) != 1)
		rc = -1;
	OPENSSL_cleanse(fresh, sizeof(fresh));
	return rc;
}

static void
tls_server_log(const char *stage, const char *why)
{
	log_msg(LOG_LVL_INFO, "event=tls-failed pid=%ld%s%s error=%s", (long)getpid(),
	    stage != NULL ? " stage=" : "", stage != NULL ? stage : "", log_qf("%s", why));
}

int
tls_server_refused(SSL *ssl, const char *why)
{
	/* Not one byte came: a health check's connect-and-close, not a failed client. */
	if (errno == ECONNRESET && BIO_number_read(SSL_get_rbio(ssl)) == 0) {
		errno = ENODATA;
		return -1;
	}
	tls_server_log("handshake", why);
	errno = EPROTO;
	return -1;
}

int
tls_server_accepted(SSL *ssl, const struct tls_server *ts)
{
	if (ts->forget_keys && tls_server_forget_keys(ssl) < 0) {
		log_msg(LOG_LVL_ERROR, "event=tls-failed pid=%ld stage=handshake error=%s",
		    (long)getpid(), log_qf("%s", "the keys could not be dropped after the handshake"));
		errno = EPROTO;
		return -1;
	}
	log_msg(LOG_LVL_DEBUG, "event=tls pid=%ld version=%s cipher=%s resumed=%s", (long)getpid(),
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl), SSL_session_reused(ssl) ? "yes" : "no");
	return 0;
}

void
tls_server_failed(const char *why)
{
	tls_server_log(NULL, why);
}

const char *
tls_server_describe(const struct tls_server *ts, char *buf, size_t len)
{
	X509 *x = ts->ctx != NULL ? SSL_CTX_get0_certificate(ts->ctx) : NULL;
	char subject[256] = "?", when[32] = "?";
	struct tm tm;

	if (x != NULL) {
		X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	snprintf(buf, len, "subject=%s not_after=%s", log_qf("%s", subject), when);
	return buf;
}

void
tls_server_free(struct tls_server *ts)
{
	SSL_CTX_free(ts->ctx);
	ts->ctx = NULL;
}
