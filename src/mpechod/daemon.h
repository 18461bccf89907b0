/* daemon: detaching from the terminal, readiness reported to the foreground, the pidfile. */
#ifndef MPECHO_DAEMON_H
#define MPECHO_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

struct pidfile {
	int fd;			/* -1: none */
	char *path;
};

/*
 * Open and lock path (created 0644 if missing). If a live process holds the
 * lock, returns -1 with errno EWOULDBLOCK and *holder = its pid (0 if the file
 * does not say). A stale file, whose owner is gone, holds no lock: it is taken
 * over. Nothing is written yet.
 */
int pidfile_open(const char *path, struct pidfile *pf, pid_t *holder);

/* Write pid, replacing what the file held. 0 or -1 with errno. */
int pidfile_write(struct pidfile *pf, pid_t pid);

/* Remove the file (while still holding the lock), then close it. */
void pidfile_remove(struct pidfile *pf);

/* Close without removing (in a session process: the lock stays with the supervisor). */
void pidfile_close_fd(struct pidfile *pf);

/*
 * Detach: fork, new session, fork again (never a session leader, so no terminal
 * can become controlling), working directory /, umask 022, standard descriptors
 * on /dev/null; other descriptors are left alone. The foreground process stays
 * until the daemon calls daemon_ready(): it exits 0 if the daemon is ready, or
 * prints the daemon's error and exits 1. Returns, in the daemon only, the
 * descriptor to pass to daemon_ready(); -1 with errno if it could not fork.
 */
int daemon_start(const char *prog);

/* Tell the foreground process the daemon is ready (error NULL) or failed (the message). */
void daemon_ready(int fd, const char *error);

#endif
