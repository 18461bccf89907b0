/* conn: the client's connection (lib/wire.h): the relay's sends and reads with TLS's reason told, a byte, our end. */
#include "client.h"

#include <errno.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "io.h"
#include "log.h"
#include "tls.h"

/* n as it is; a TLS failure's reason is told first. */
static ssize_t
conn_told(ssize_t n, const char *why)
{
	if (n < 0 && errno == EPROTO)
		log_warnx("TLS: %s", why);
	return n;
}

ssize_t
conn_send(struct wire *c, const void *buf, size_t len)
{
	char why[160];

	return conn_told(wire_send(c, buf, len, why, sizeof(why)), why);
}

ssize_t
conn_recv(struct wire *c, void *buf, size_t len)
{
	char why[160];

	return conn_told(wire_recv(c, buf, len, why, sizeof(why)), why);
}

int
conn_read_byte(struct wire *c, char *byte)
{
	char why[160];
	int n;

	if (c->ssl == NULL)
		return (int)io_read(c->fd, byte, 1);
	ERR_clear_error();
	errno = 0;
	if ((n = SSL_read(c->ssl, byte, 1)) == 1)
		return 1;
	return (int)conn_told(tls_io_failed(c->ssl, n, NULL, why, sizeof(why)), why);
}

void
conn_shutdown(struct wire *c)
{
	if (c->ssl != NULL) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);	/* our close-notify: the TLS half-close */
		ERR_clear_error();
	}
	shutdown(c->fd, SHUT_WR);
}
