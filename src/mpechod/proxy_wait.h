/*
 * proxy_wait: receiving a PROXY header off a connection, without ever taking
 * a byte of what follows it (the client's first bytes stay in the socket for
 * the session). Non-blocking steps for the supervisor's poll loop, and a
 * blocking form with a deadline for a prefork worker.
 */
#ifndef MPECHO_PROXY_WAIT_H
#define MPECHO_PROXY_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include "proxy.h"

struct peer;

enum proxy_wait_result {
	PROXY_WAIT_AGAIN,	/* more bytes needed: wait until the socket is readable */
	PROXY_WAIT_DONE,	/* the header is in; the session may start */
	PROXY_WAIT_CHECK,	/* closed with no header, or LOCAL then closed: a health check */
	PROXY_WAIT_FAILED	/* malformed, or the connection broke: close it (why says) */
};

struct proxy_wait {
	unsigned char buf[PROXY_DECIDE];
	size_t have;		/* header bytes taken off the socket so far */
	long total;		/* the header's length once known, else 0 */
	struct proxy_header h;
	const char *why;	/* for PROXY_WAIT_FAILED */
};

void proxy_wait_init(struct proxy_wait *w);

/* One non-blocking step on fd. */
enum proxy_wait_result proxy_wait_step(struct proxy_wait *w, int fd);

/* Steps until done, failed or timeout_ms pass (then FAILED, why "timeout"). */
enum proxy_wait_result proxy_wait_blocking(struct proxy_wait *w, int fd, int timeout_ms);

/*
 * The client the header names, as a peer: its address with the balancer in
 * via; for LOCAL or UNKNOWN headers, the balancer itself. A LOCAL header, or
 * one whose source is the very connection it came on (what HAProxy sends
 * with its checks), marks a health check. 0, or -1 if the header's address
 * is of no family a rule can match.
 */
int proxy_wait_peer(const struct proxy_wait *w, const struct peer *balancer, struct peer *client);

#endif
