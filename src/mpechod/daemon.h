/* daemon: detaching from the terminal, with readiness reported to the foreground process. */
#ifndef MPECHO_DAEMON_H
#define MPECHO_DAEMON_H

/*
 * Detach: fork, new session, fork again (never a session leader, so no terminal
 * can become controlling), working directory /, umask 022, standard descriptors
 * on /dev/null; other descriptors are left alone. The foreground process stays
 * until the daemon calls daemon_ready(): it exits 0 if the daemon is ready, or
 * prints the daemon's error (as log_warnx() does) and exits 1. Returns, in the daemon only, the
 * descriptor to pass to daemon_ready(); -1 with errno if it could not fork.
 */
int daemon_start(void);

/* Tell the foreground process the daemon is ready (error NULL) or failed (the message). */
void daemon_ready(int fd, const char *error);

#endif
