/*
 * transport: what carries a session's bytes under the service: the plain
 * socket (transport_plain.c) or TLS on it (transport_tls.c), two
 * implementations of the same operations, so a service never knows what
 * carries its bytes.
 */
#ifndef MPECHO_TRANSPORT_H
#define MPECHO_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct transport;

struct transport_ops {
	const char *name;
	/*
	 * Take over the connected socket fd; arg is the implementation's (TLS: the
	 * struct tls_server). 0, or -1 with errno (fd is then still the caller's);
	 * EPROTO: the transport could not be set up with this peer (a failed TLS
	 * handshake), and the reason is logged already; ENODATA: the peer closed
	 * before its first byte (a health check), nothing logged.
	 */
	int (*open)(struct transport *t, int fd, const void *arg);
	/*
	 * Bytes read, 0 at the end of the peer's stream, or -1 with errno
	 * (ETIMEDOUT: no progress within the idle timeout).
	 */
	ssize_t (*read)(struct transport *t, void *buf, size_t len);
	/* Send all of buf: 0, or -1 with errno; *done says how much went out. */
	int (*write)(struct transport *t, const void *buf, size_t len, size_t *done);
	/* End our direction (a TCP FIN, or a TLS close-notify); reading goes on. 0 or -1. */
	int (*shutdown)(struct transport *t);
	/* Release everything, the socket included. */
	void (*close)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	int fd;
	bool raw;		/* the socket's bytes are the payload: splice(2) may move them */
	void *state;		/* the implementation's own */
};

extern const struct transport_ops transport_plain, transport_tls;

static inline ssize_t
transport_read(struct transport *t, void *buf, size_t len)
{
	return t->ops->read(t, buf, len);
}

static inline int
transport_write(struct transport *t, const void *buf, size_t len, size_t *done)
{
	return t->ops->write(t, buf, len, done);
}

static inline int
transport_shutdown(struct transport *t)
{
	return t->ops->shutdown(t);
}

static inline void
transport_close(struct transport *t)
{
	t->ops->close(t);
}

#endif
