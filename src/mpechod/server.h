/* server: the supervisor: event loop, admission, fork, reaping, shutdown. */
#ifndef MPECHO_SERVER_H
#define MPECHO_SERVER_H

#include <stddef.h>

#include "listener.h"
#include "options.h"

struct pidfile;

/* What start-up prepared for the supervisor. */
struct server_env {
	struct listeners *ls;
	struct pidfile *pidfile;	/* NULL, or locked: written once ready, removed at exit */
	int ready_fd;			/* -1, or the daemon's line to the foreground process */
};

/*
 * Run the supervisor on the open listeners until SIGTERM/SIGINT and the drain
 * that follows. Closes the listeners. Returns the process exit status.
 */
int server_run(const struct config *cfg, struct server_env *env);

#endif
