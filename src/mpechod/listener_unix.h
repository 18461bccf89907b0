/* listener_unix: the Unix-domain kind of listener: a stream socket at a path. */
#ifndef MPECHO_LISTENER_UNIX_H
#define MPECHO_LISTENER_UNIX_H

#include <stddef.h>

struct listeners;
struct listen_params;
struct listen_spec;

/*
 * Bind and listen on spec->path and append it to ls. A file already there is
 * replaced only if it is a socket that no server answers on (a stale one);
 * anything else there is an error. The socket gets lp->socket_mode, and lp's
 * owner when one is set. 0, or -1 with a one-line message in err.
 */
int listener_unix_open(struct listeners *ls, const struct listen_spec *spec,
    const struct listen_params *lp, char *err, size_t errlen);

#endif
