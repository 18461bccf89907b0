/* tls_server: load and reload the certificate and key; describe them for the log. */
#include "tls_server.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "log.h"
#include "tls.h"

/*
 * What every session gets: TLS 1.2 or 1.3 with OpenSSL's default ciphers, no
 * renegotiation (a client could make us spend CPU at will), a peer that closes
 * without close-notify seen as the end of its stream (echo has nothing a
 * truncation could forge), one stateless resumption ticket (the ticket keys
 * are made here, before the fork, so every session can resume every other's),
 * and writes that may return after each record, for the idle timeout.
 */
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
	return ctx;
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
	if (SSL_CTX_use_certificate_chain_file(ctx, ts->cert) != 1)
		snprintf(err, errlen, "cannot load the certificate %s: %s", ts->cert,
		    tls_error_text(why, sizeof(why), "not a PEM certificate"));
	else if (SSL_CTX_use_PrivateKey_file(ctx, ts->key, SSL_FILETYPE_PEM) != 1 &&
	    strcmp(tls_error_text(why, sizeof(why), "not a PEM private key"), "key values mismatch") != 0)
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
