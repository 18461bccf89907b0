/*
 * conn: one load connection, as load.c (the exchange and the loop) and
 * open.c (its way in: connect, --ramp, the TLS handshake, the banner) share it.
 */
#ifndef MPECHO_BENCH_CONN_H
#define MPECHO_BENCH_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "bench.h"

#define RETRY_MS 10			/* wait before reconnecting after a failure */

/* C_PACED: --rate, waiting for its next operation's time (connrate: with no socket). */
enum conn_state { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_BANNER, C_ACTIVE, C_HELD, C_PACED };

struct conn {
	struct wire w;		/* the socket, and TLS on it */
	enum conn_state state;
	uint32_t events;		/* epoll interest now registered */
	uint64_t base;			/* where this connection starts in the pattern */
	uint64_t tx, rx;		/* bytes sent and received on this connection */
	uint64_t msg_end;		/* tx position where the current message ends */
	int64_t t_start;		/* ns: session (connrate) or message (pingpong) start */
	int64_t t_progress;		/* ns: last progress, for --timeout */
	int64_t retry_at;		/* ns: when an idle connection may reconnect */
	bool was_held;			/* hold mode: a held connection that closed stays closed */
	bool opening;			/* counted in its thread's opening (--ramp) */
	unsigned source;
	unsigned id;			/* its number in the whole run: 0 .. conns-1 */
	int64_t due;			/* --rate: ns, when its current operation was due */
	uint64_t paced;			/* --rate: operations it has begun */
	size_t banner_len;		/* --banner: bytes of the server's line so far */
};

/* load.c */
void conn_set_events(struct thread *t, struct conn *c, uint32_t events);
void conn_close(struct thread *t, struct conn *c, int64_t retry_ns);
void conn_fail(struct thread *t, struct conn *c, uint64_t *counter);	/* counted, retried */
void conn_start(struct thread *t, struct conn *c);	/* the echo begins */

/* open.c */
void conn_open(struct thread *t, struct conn *c);	/* unless --ramp says wait */
void conn_opened(struct thread *t, struct conn *c);	/* through: --ramp opens the next */
void conn_connected(struct thread *t, struct conn *c);	/* connect() is through, or failed */
void conn_handshake(struct thread *t, struct conn *c);	/* --tls: one step */
void conn_banner(struct thread *t, struct conn *c, unsigned char *buf);	/* --banner: read */

#endif
