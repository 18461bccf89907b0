/*
 * upgrade_hello: the one-line messages of the upgrade conversation
 * (--upgrade-socket), written and read here; a pure parser, unit-tested and
 * fuzzed. The old server's first line comes with the descriptors:
 *
 *   "mpechod-upgrade 1\n"                  every descriptor is a listener
 *   "mpechod-upgrade 2 metrics agent\n"    the last ones are these endpoints, in order
 *
 * or, instead of an offer, why there is none ("mpechod-upgrade busy PID\n":
 * another successor is being served; "mpechod-upgrade stopping\n"). After
 * the successor's READY, a close means the listeners are its own; the line
 * "mpechod-upgrade timeout\n" means the old server gave up waiting for it.
 */
#ifndef MPECHO_UPGRADE_HELLO_H
#define MPECHO_UPGRADE_HELLO_H

#include <stddef.h>

#define UPGRADE_HELLO_MAX 128	/* the longest line */
#define UPGRADE_EXTRAS 4	/* endpoints besides the listeners, at most */
#define UPGRADE_NAME_MAX 16	/* an endpoint's name, NUL included: lowercase letters */

enum upgrade_hello_kind {
	UPGRADE_OFFER,		/* descriptors come with it */
	UPGRADE_BUSY,		/* handing them to another successor now (holder: its pid) */
	UPGRADE_STOPPING,	/* the old server is stopping: nothing to hand over */
	UPGRADE_TIMEOUT,	/* after READY: the old server had given up waiting */
	UPGRADE_BAD		/* anything else */
};

struct upgrade_hello {
	enum upgrade_hello_kind kind;
	size_t nextra;				/* OFFER: the last nextra descriptors are these */
	char extra[UPGRADE_EXTRAS][UPGRADE_NAME_MAX];
	long holder;				/* BUSY: the pid being served, or 0 */
};

/* Read buf[0..len), exactly one line with its LF; kind UPGRADE_BAD if it is none of the above. */
void upgrade_hello_parse(const char *buf, size_t len, struct upgrade_hello *h);

/*
 * Write the offer's line for endpoints names[0..n) (version 1 when n is 0, so
 * that an older successor can still take listeners alone). Its length, or -1
 * if a name is not lowercase letters or the line does not fit in len.
 */
int upgrade_hello_offer(char *buf, size_t len, const char *const *names, size_t n);

#endif
