/* server: the supervisor: event loop, admission, fork, reaping, shutdown. */
#ifndef MPECHO_SERVER_H
#define MPECHO_SERVER_H

#include <stddef.h>

#include "net.h"
#include "options.h"

struct listener {
	int fd;
	char name[NET_ADDRSTRLEN];	/* the bound address, real port included */
};

/*
 * Run the supervisor on the open listeners until SIGTERM/SIGINT and the drain
 * that follows. Closes the listeners. Returns the process exit status.
 */
int server_run(const struct config *cfg, struct listener *ls, size_t nls);

#endif
