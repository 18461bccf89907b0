/*
 * banner: the line a session sends first when --banner is set, so that a
 * test behind a load balancer can tell which backend answered. Expansions:
 * %h the host name, %p the supervisor's pid, %a the local address and port,
 * %% a percent sign.
 */
#ifndef MPECHO_BANNER_H
#define MPECHO_BANNER_H

#include <stddef.h>

#define BANNER_MAX 512		/* an expanded banner, CRLF included, at most */

/* Whether tmpl is a usable banner: printable, known expansions only. 0, or -1 with err. */
int banner_check(const char *tmpl, char *err, size_t errlen);

/*
 * Expand tmpl into out and end it with CRLF; returns its length (cut to fit
 * cap, CRLF always kept; cap >= 3).
 */
size_t banner_expand(const char *tmpl, const char *host, long pid, const char *addr, char *out,
    size_t cap);

#endif
