/*
 * upgrade: replacing a running mpechod without refusing or resetting a
 * connection. The running one offers its listening sockets on a Unix socket
 * (--upgrade-socket PATH); a successor started with the same option connects,
 * receives them (SCM_RIGHTS: the very sockets, with their accept queues), and
 * with them the server's own endpoints (--metrics, --agent: named in the
 * offer's line, upgrade_hello.h), starts serving, and says READY; only then
 * does the old one stop accepting and drain its sessions. A successor may be
 * a new binary with new options. The old server waits UPGRADE_READY_MS for
 * READY, then gives up and goes on; a successor that arrives meanwhile is told
 * that another one is being served.
 */
#ifndef MPECHO_UPGRADE_H
#define MPECHO_UPGRADE_H

#include <stddef.h>
#include <sys/types.h>

#include "upgrade_hello.h"

struct listeners;
struct sockfile;

#define UPGRADE_MAX_FDS 64	/* descriptors handed over at most, endpoints included */
#define UPGRADE_READY_MS 5000	/* from the offer to READY, at most */

/* A socket handed over besides the listeners: an endpoint of the server's own. */
struct upgrade_extra {
	char name[UPGRADE_NAME_MAX];	/* "metrics", "agent" */
	int fd;				/* -1 once claimed or closed */
};

/* What a successor received besides the listeners. */
struct upgrade_extras {
	struct upgrade_extra v[UPGRADE_EXTRAS];
	size_t n;
};

/*
 * If a running mpechod offers its listeners on path, take them (appended to
 * ls) and its endpoints (into x), and return 1, with *conn the line to it for
 * upgrade_ready() and *from its pid; 0 if nobody offers there; -1 with a
 * message in err (it offers nothing now, and says why; or it said nothing
 * within UPGRADE_READY_MS). Nothing received is left open on failure.
 */
int upgrade_take(const char *path, struct listeners *ls, struct upgrade_extras *x, int *conn,
    pid_t *from, char *err, size_t errlen);

/* The endpoint named name, out of x (the caller's now), or -1 if none came. */
int upgrade_claim(struct upgrade_extras *x, const char *name);

/* Close what nobody claimed (an endpoint the new options do without). */
void upgrade_extras_close(struct upgrade_extras *x);

/*
 * Say READY on conn, then wait for the old server's answer: 0 once it closes
 * (the listeners are this server's alone), or -1 with a message in err if it
 * had given up waiting, or says nothing in time. Closes conn.
 */
int upgrade_ready(int conn, pid_t from, char *err, size_t errlen);

/*
 * Offer this server's listeners on path from now on: a listening Unix socket,
 * mode 0600, put in place atomically (bound under another name, then renamed
 * over path); its file noted in sf, to be removed at exit if still there. Its
 * descriptor, or -1 with errno.
 */
int upgrade_listen(const char *path, struct sockfile *sf);

/* A successor connected on conn: send it the listeners and endpoints x[0..n). 0, or -1 with errno. */
int upgrade_offer(int conn, const struct listeners *ls, const struct upgrade_extra *x, size_t n);

/* Tell a would-be successor why not (UPGRADE_BUSY with the holder's pid, STOPPING, TIMEOUT); close conn. */
void upgrade_refuse(int conn, enum upgrade_hello_kind why, pid_t holder);

/* The pid of the process at the other end of a Unix socket, or -1. */
pid_t upgrade_peer_pid(int conn);

#endif
