/* privs: the user a session runs as (-u USER[:GROUP]), resolved at start, dropped in each child. */
#ifndef MPECHO_PRIVS_H
#define MPECHO_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privs {
	bool set;
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups */
	int ngroups;
	char *name;		/* as given, for logs */
};

/*
 * Resolve "user", "user:group", "uid" or "uid:gid". A user's supplementary
 * groups are those of its group database entries. On failure returns -1 and
 * err names what was wrong.
 */
int privs_lookup(const char *spec, struct privs *p, char *err, size_t errlen);

/*
 * Become p: supplementary groups, then gid, then uid, and check that none of
 * it can be undone (setuid(0) must fail). 0, or -1 with errno.
 */
int privs_drop(const struct privs *p);

void privs_free(struct privs *p);

#endif
