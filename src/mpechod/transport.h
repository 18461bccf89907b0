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
	/*
	 * For a transport whose socket's bytes are the payload, splice(2) between
	 * the socket and a pipe: up to len bytes in (as read), len bytes out (as
	 * write), and whether the peer's stream has ended without taking a byte (1,
	 * 0 not yet, -1 with errno). NULL, all three, where the bytes are framed
	 * (TLS records): the payload exists only after read.
	 */
	ssize_t (*splice_in)(struct transport *t, int pipe_w, size_t len);
	int (*splice_out)(struct transport *t, int pipe_r, size_t len, size_t *done);
	int (*at_end)(struct transport *t);
	/* Release everything, the socket included. */
	void (*close)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	int fd;
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

/* Whether splice(2) may move this transport's bytes (transport_ops' splice_in and the rest). */
static inline bool
transport_splices(const struct transport *t)
{
	return t->ops->splice_in != NULL;
}

static inline void
transport_close(struct transport *t)
{
	t->ops->close(t);
}

#endif
