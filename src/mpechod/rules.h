/*
 * rules: the --rules file, allow and deny lines read at start and again on
 * SIGHUP. One rule a line, "allow CIDR" or "deny CIDR" (an address alone is
 * one host); "#" starts a comment; blank lines are skipped. The file's rules
 * join the command line's --allow and --deny, and are judged as they are:
 * deny wins, and once any allow rule exists only the networks allowed get in.
 * Nothing here prints or exits: errors come back with the line that holds them.
 */
#ifndef MPECHO_RULES_H
#define MPECHO_RULES_H

#include <stddef.h>

#include "acl.h"

#define RULES_FILE_MAX (1024 * 1024)	/* bytes a rules file may have */
#define RULES_MAX 10000			/* rules a rules file may have */

/* What was wrong, and where: line 0 is the file as a whole (it could not be read). */
struct rules_error {
	int line;
	char what[256];
};

/* The rules of one file, each with the line it came from. */
struct rules {
	struct acl acl;
	int *lines;
};

/*
 * Parse len bytes of text (no NUL needed, none allowed) into *out, which
 * starts empty. 0, or -1 with *err (and errno: EINVAL, or ENOMEM).
 */
int rules_parse(const char *text, size_t len, struct rules *out, struct rules_error *err);

/*
 * Whether every rule can change who gets in, beside the command line's cmd,
 * as --allow and --deny are checked: a rule another one covers (deny wins), or
 * a deny outside every allow, is an error. 0, or -1 with *err (errno EINVAL).
 */
int rules_check(const struct acl *cmd, const struct rules *file, struct rules_error *err);

/*
 * Read the file open on fd (O_NONBLOCK: it must be a regular file, of at most
 * RULES_FILE_MAX bytes), parse it and check it against cmd; fd is closed.
 * 0, or -1 with *err (errno says why).
 */
int rules_read(int fd, const struct acl *cmd, struct rules *out, struct rules_error *err);

/* The set sessions are judged by: cmd's rules, then the file's, into *out (empty). 0, or -1 (ENOMEM). */
int rules_merge(const struct acl *cmd, const struct rules *file, struct acl *out);

/* An error as it is logged: "PATH:LINE: what", or "PATH: what" for the file as a whole. */
const char *rules_describe(const char *path, const struct rules_error *err, char *buf, size_t len);

/* Open a rules file without blocking on what is not a regular file (rules_read() refuses it). */
int rules_open(const char *path);

void rules_free(struct rules *r);

#endif
