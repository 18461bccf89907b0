/*
 * pending: connections on PROXY listeners whose header has not arrived yet.
 * The supervisor holds them in its poll set, non-blocking and each with a
 * deadline, so that a slow or silent balancer connection never stalls
 * accepting or serving anyone else.
 */
#ifndef MPECHO_PENDING_H
#define MPECHO_PENDING_H

#include <stdint.h>

#include "peer.h"
#include "proxy_wait.h"

struct pending_conn {
	int fd;
	struct peer balancer;		/* who connected: the balancer, not yet the client */
	int64_t deadline_ms;
	struct proxy_wait w;
};

struct pending {
	struct pending_conn *v;
	int n, cap;
};

/* Room for cap connections at once. 0, or -1 with errno. */
int pending_init(struct pending *p, int cap);

/* Close every connection still waiting, and release the table. */
void pending_free(struct pending *p);

/* Hold fd until its header arrives or deadline_ms passes. 0, or -1 if full. */
int pending_add(struct pending *p, int fd, const struct peer *balancer, int64_t deadline_ms);

/* Forget entry i (the last one takes its place); its fd is closed unless keep_fd. */
void pending_remove(struct pending *p, int i, bool keep_fd);

/* The earliest deadline, or INT64_MAX. */
int64_t pending_next_deadline(const struct pending *p);

#endif
