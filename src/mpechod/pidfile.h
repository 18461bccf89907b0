/*
 * pidfile: the pid of a running server in a locked file: written once it is
 * ready, held while it runs, removed at exit. A second instance finds the
 * lock taken and names the first.
 */
#ifndef MPECHO_PIDFILE_H
#define MPECHO_PIDFILE_H

#include <sys/types.h>

struct pidfile {
	int fd;			/* -1: none */
	char *path;
};

/*
 * Open and lock path (created 0644 if missing; a file that is not a regular
 * file of this user is refused with EPERM). If a live process holds the
 * lock, returns -1 with errno EWOULDBLOCK and *holder = its pid (0 if the file
 * does not say). A stale file, whose owner is gone, holds no lock: it is taken
 * over. Nothing is written yet.
 */
int pidfile_open(const char *path, struct pidfile *pf, pid_t *holder);

/* Write pid, replacing what the file held. 0 or -1 with errno. */
int pidfile_write(struct pidfile *pf, pid_t pid);

/* Give the file another name, the lock kept (a successor takes the old name). 0 or -1 with errno. */
int pidfile_rename(struct pidfile *pf, const char *path);

/* Remove the file (while still holding the lock) if the path still names it, then close it. */
void pidfile_remove(struct pidfile *pf);

#endif
