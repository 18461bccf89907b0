/*
 * privsep: with -u, the supervisor becomes the user once it has bound and set
 * up, and a small process of its own keeps root for the few things that need
 * it later: opening the log file, the TLS files and the rules file again on SIGHUP, and
 * renaming and removing the files the server made (the pidfile, Unix socket
 * files, the upgrade socket). It reads nothing from the network: it takes one
 * fixed-size request at a time from the supervisor over a socket pair, and
 * works only on what it was set up with (no path ever comes from the other
 * side). Without -u (or not root) there is no such process, and each
 * operation runs in the supervisor itself, through the same functions.
 */
#ifndef MPECHO_PRIVSEP_H
#define MPECHO_PRIVSEP_H

#include <stdbool.h>
#include <sys/types.h>

struct listeners;
struct pidfile;
struct privs;
struct sockfile;

enum privsep_op {
	PRIVSEP_LOG,		/* the log file, opened again: a descriptor (none: no log file) */
	PRIVSEP_CERT,		/* --tls-cert, opened for reading: a descriptor */
	PRIVSEP_KEY,		/* --tls-key, opened for reading: a descriptor */
	PRIVSEP_RULES,		/* --rules, opened for reading: a descriptor */
	PRIVSEP_PIDFILE_OLD,	/* an upgrade: the pidfile renamed NAME.old */
	PRIVSEP_PIDFILE_BACK,	/* the upgrade failed: the pidfile gets its name back */
	PRIVSEP_SOCKET_FILES,	/* the drain: the Unix listeners' files removed */
	PRIVSEP_END,		/* the exit: the upgrade socket's file and the pidfile removed */
	PRIVSEP_OPS
};

/* What the operations work on: the supervisor's, copied into the privileged process when it starts. */
struct privsep {
	int fd;				/* -1: no privileged process; the operations run here */
	pid_t pid;			/* that process, or 0 */
	struct pidfile *pidfile;	/* NULL: none */
	struct listeners *ls;
	const char *upgrade_path;	/* NULL: no --upgrade-socket */
	struct sockfile *upgrade_file;
	const char *cert, *key;		/* NULL: no TLS */
	const char *rules;		/* NULL: no --rules */
};

/*
 * Start the privileged process, then become user in this one (groups, gid,
 * uid, checked). Nothing happens when user is NULL or this process is not
 * root. 0, or -1 with errno.
 */
int privsep_start(struct privsep *ps, const struct privs *user);

/* Whether this process dropped root for the user (a child then has nothing to drop). */
bool privsep_dropped(const struct privsep *ps);

/*
 * Run op, in the privileged process if there is one. The descriptor it opens
 * (PRIVSEP_LOG, _CERT, _KEY, _RULES; -2 when there is none to open: the log is no
 * file), 0 for the others; or -1 with errno.
 */
int privsep_run(struct privsep *ps, enum privsep_op op);

/* struct tls_server's opener (ctx: the struct privsep): the certificate or the key, through privsep_run(). */
int privsep_tls_open(void *ps, bool key);

#endif
