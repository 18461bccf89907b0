/*
 * peer: a connected client as the server sees it: where it came from (or,
 * on a Unix socket, who), the balancer it came through, whether it is a
 * health check; the key that access rules and per-source limits count it by.
 */
#ifndef MPECHO_PEER_H
#define MPECHO_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include "net.h"

/* A connected client, as the server sees it. */
struct peer {
	struct net_addr addr;		/* the key of access rules and per-source limits */
	char name[NET_ADDRSTRLEN];	/* "1.2.3.4:5678" or "[::1]:5678", for log lines; "unix" */
	char via[NET_ADDRSTRLEN];	/* the balancer it came through (PROXY header), or "" */
	bool check;			/* the balancer speaking for itself: a health check */
	bool local;			/* on a Unix socket: known by its credentials, not an address */
	bool tls;			/* came on a ",tls" listener: the session speaks TLS */
	unsigned long uid;		/* a local peer's (SO_PEERCRED) */
	long pid;
};

/* Room for peer_text(). */
#define PEER_TEXT_MAX (2 * NET_ADDRSTRLEN + 16)

/*
 * "peer=1.2.3.4:5678", or "peer=1.2.3.4:5678 via=10.0.0.1:4000" for a proxied
 * client, or "peer=unix peer_uid=1000 peer_pid=4242" on a Unix socket.
 */
const char *peer_text(const struct peer *p, char *buf, size_t len);

#endif
