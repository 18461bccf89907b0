/* listener_tcp: the TCP kind of listener: host names, IPv4, IPv6, the dual-stack wildcard. */
#ifndef MPECHO_LISTENER_TCP_H
#define MPECHO_LISTENER_TCP_H

#include <stdbool.h>
#include <stddef.h>

struct listeners;
struct listen_params;
struct listen_spec;

/*
 * Bind and listen on every address of spec (its host name may give several;
 * no host: one dual-stack socket where the system has IPv6, else IPv4) and
 * append them to ls. 0, or -1 with a one-line message in err.
 */
int listener_tcp_open(struct listeners *ls, const struct listen_spec *spec,
    const struct listen_params *lp, char *err, size_t errlen);

/*
 * One listening socket on the first address of ADDR:PORT (IPv4 or [IPv6]), for
 * an endpoint of the server's own (--metrics, --agent): its fd, or -1 with a
 * one-line message naming option in err.
 */
int listener_tcp_one(const char *option, const char *addr, int backlog, char *err, size_t errlen);

/* Whether fd listens on the first address of ADDR:PORT (an endpoint a predecessor handed over). */
bool listener_tcp_is(int fd, const char *addr);

#endif
