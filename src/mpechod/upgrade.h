/*
 * upgrade: replacing a running mpechod without refusing or resetting a
 * connection. The running one offers its listening sockets on a Unix socket
 * (--upgrade-socket PATH); a successor started with the same option connects,
 * receives them (SCM_RIGHTS: the very sockets, with their accept queues),
 * starts serving, and says READY; only then does the old one stop accepting
 * and drain its sessions. A successor may be a new binary with new options.
 */
#ifndef MPECHO_UPGRADE_H
#define MPECHO_UPGRADE_H

#include <stddef.h>
#include <sys/types.h>

struct listeners;

#define UPGRADE_MAX_FDS 64	/* listeners handed over at most */

/*
 * If a running mpechod offers its listeners on path, take them (appended to
 * ls) and return 1, with *conn the line to it for upgrade_ready() and *from
 * its pid; 0 if nobody offers there; -1 with a message in err.
 */
int upgrade_take(const char *path, struct listeners *ls, int *conn, pid_t *from,
    char *err, size_t errlen);

/* Tell the old server the successor is ready: it stops accepting and drains. Closes conn. */
void upgrade_ready(int conn);

/*
 * Offer this server's listeners on path from now on: a listening Unix socket,
 * put in place atomically (bound under another name, then renamed over path).
 * Its descriptor, or -1 with errno.
 */
int upgrade_listen(const char *path);

/* A successor connected on conn: send it the listeners. 0, or -1 with errno. */
int upgrade_offer(int conn, const struct listeners *ls);

/* The pid of the process at the other end of a Unix socket, or -1. */
pid_t upgrade_peer_pid(int conn);

#endif
