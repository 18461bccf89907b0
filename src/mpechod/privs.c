/* privs: resolving and dropping to an unprivileged user. */
#include "privs.h"

#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "number.h"

static int
privs_group(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name);
	long v;

	if (gr != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (number_parse(name, 0, 2147483646, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	return -1;
}

/* The supplementary groups: those of a known user's group entries, or just its group. 0 or -1. */
static int
privs_groups(struct privs *p, const char *user, bool known, char *err, size_t errlen)
{
	int n = 0;

	if (!known) {
		if ((p->groups = calloc(1, sizeof(gid_t))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		p->groups[0] = p->gid;
		p->ngroups = 1;
		return 0;
	}
	/* getgrouplist() reports how many groups there are when the first guess is short. */
	getgrouplist(user, p->gid, NULL, &n);
	if (n < 1)
		n = 1;
	p->groups = calloc((size_t)n, sizeof(gid_t));
	if (p->groups == NULL || getgrouplist(user, p->gid, p->groups, &n) < 0) {
		snprintf(err, errlen, "cannot read the groups of '%s'", user);
		free(p->groups);
		p->groups = NULL;
		return -1;
	}
	p->ngroups = n;
	return 0;
}

int
privs_lookup(const char *spec, struct privs *p, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	char user[256];
	struct passwd *pw;
	long v;

	memset(p, 0, sizeof(*p));
	if (ulen >= sizeof(user) || ulen == 0) {
		snprintf(err, errlen, "invalid user '%s': expected USER[:GROUP]", spec);
		return -1;
	}
	snprintf(user, sizeof(user), "%.*s", (int)ulen, spec);
	if ((pw = getpwnam(user)) != NULL) {
		p->uid = pw->pw_uid;
		p->gid = pw->pw_gid;
	} else if (number_parse(user, 0, 2147483646, &v) == 0) {
		p->uid = (uid_t)v;
		p->gid = (gid_t)v;
	} else {
		snprintf(err, errlen, "unknown user '%s'", user);
		return -1;
	}
	if (colon != NULL && privs_group(colon + 1, &p->gid) < 0) {
		snprintf(err, errlen, "unknown group '%s'", colon + 1);
		return -1;
	}
	if (privs_groups(p, user, pw != NULL, err, errlen) < 0)
		return -1;
	p->name = strdup(spec);
	p->set = p->name != NULL;
	return p->set ? 0 : -1;
}

/* Every supplementary group this process has is one that p asked for. */
static bool
privs_groups_are(const struct privs *p)
{
	int i, j, n = getgroups(0, NULL);
	gid_t *have = n > 0 ? calloc((size_t)n, sizeof(gid_t)) : NULL;
	bool ok = n == 0 || (have != NULL && (n = getgroups(n, have)) >= 0);

	for (i = 0; ok && i < n; i++) {
		for (j = 0; j < p->ngroups && p->groups[j] != have[i]; j++)
			;
		ok = j < p->ngroups;
	}
	free(have);
	return ok;
}

int
privs_drop(const struct privs *p)
{
	if (setgroups((size_t)p->ngroups, p->groups) < 0 ||
	    setresgid(p->gid, p->gid, p->gid) < 0 ||
	    setresuid(p->uid, p->uid, p->uid) < 0)
		return -1;
	/* Verify: exactly these ids and groups, and no way back to root. */
	if (getuid() != p->uid || geteuid() != p->uid || getgid() != p->gid ||
	    getegid() != p->gid || !privs_groups_are(p) ||
	    (p->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

void
privs_free(struct privs *p)
{
	free(p->groups);
	free(p->name);
	memset(p, 0, sizeof(*p));
}
