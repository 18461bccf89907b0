/*
 * acl_shared: the access rules in force, in memory that every process of the
 * server shares. The supervisor publishes a new set (the --rules file read
 * again on SIGHUP); a worker or the UDP process takes it up at its next
 * judgement, so new rules reach processes forked long before, with no
 * restart. A publish is a sequence lock: a reader that meets one half done
 * reads again, and none ever waits on the writer.
 */
#ifndef MPECHO_ACL_SHARED_H
#define MPECHO_ACL_SHARED_H

#include <stddef.h>

#include "acl.h"

struct acl_shared;

/*
 * Room for cap rules: the supervisor's, to publish into (its mapping is kept
 * from children), and a read-only view of it that every child forked later
 * inherits and cannot make writable (mem_published()): a compromised session
 * or worker cannot change the rules the others admit by. NULL with errno.
 */
struct acl_shared *acl_shared_new(size_t cap);

/* The read-only view: what the children read the rules from (take it before the fork: s is not theirs). */
const struct acl_shared *acl_shared_view(const struct acl_shared *s);

/* The set in force from now: 0, or -1 with errno E2BIG when it has more than cap rules. */
int acl_shared_publish(struct acl_shared *s, const struct acl *acl);

void acl_shared_free(struct acl_shared *s);

/* A process's copy of the set in force, taken up again when a new one is published. */
struct acl_view {
	const struct acl_shared *from;
	unsigned seen;			/* the publish it copied (0: none yet) */
	struct acl acl;
};

/*
 * The rules in force: the copy, brought up to date first if a new set was
 * published (one atomic load when none was). Without memory for a bigger
 * copy, the one it has.
 */
const struct acl *acl_view_get(struct acl_view *v);

void acl_view_free(struct acl_view *v);

#endif
