/* mpecho.h: what the three programs agree on: the version, the default port, the exit statuses. */
#ifndef MPECHO_H
#define MPECHO_H

/* The version comes from the top of debian/changelog, through the Makefile. */
#ifndef MPECHO_VERSION
#error "MPECHO_VERSION is not defined: build with the Makefile"
#endif
#define MPECHO_DEFAULT_PORT "8000"

/* Exit statuses shared by the programs (documented in the man pages and README). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* run-time failure: cannot listen, connect, resolve, ... */
	EXIT_USAGE = 2		/* bad command line */
};

#endif
