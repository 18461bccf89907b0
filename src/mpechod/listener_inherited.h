/*
 * listener_inherited: listening sockets a service manager opened for us:
 * systemd's socket activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, from
 * descriptor 3; see sd_listen_fds(3)) and inetd's "wait" services (standard
 * input is the listener). Nothing is bound here.
 */
#ifndef MPECHO_LISTENER_INHERITED_H
#define MPECHO_LISTENER_INHERITED_H

#include <stdbool.h>
#include <stddef.h>

struct listen_spec;
struct listeners;

#define LISTENER_FDS_START 3	/* the first descriptor socket activation hands over */

/*
 * How many descriptors the service manager handed to this process (0 if
 * LISTEN_PID names another process, or nothing was handed over), or -1 with
 * a message in err if the variables are malformed. The variables are removed
 * from the environment either way, so sessions never see them.
 */
int listener_inherited_count(char **names, char *err, size_t errlen);

/*
 * Take descriptor fd as a listener: it must be a listening stream socket
 * (TCP or IPv6). label ("fd=3 name=web") is shown in its listen line. It is
 * made non-blocking and close-on-exec. 0, or -1 with a message in err.
 */
int listener_inherited_take(struct listeners *ls, int fd, const char *label, char *err, size_t errlen);

/*
 * Every descriptor socket activation handed over (count from
 * listener_inherited_count(), names its LISTEN_FDNAMES or NULL): stream
 * sockets into ls, UDP ones (ListenDatagram=) into udp.
 */
int listener_inherited_open(struct listeners *ls, struct listeners *udp, int count,
    const char *names, char *err, size_t errlen);

struct listen_params;

/*
 * Sockets taken over (from systemd, inetd "wait" or a predecessor) are bound
 * elsewhere, but how to serve them is this server's to say, with -l. For the
 * sockets in ls (stream ones, or udp: ones when udp is true): match[i] is the
 * index in specs of the -l that names ls->v[i] (its address resolved as it
 * would be bound; port 0 names any port), or -1. With no -l of that kind, every
 * socket is served as it is; with any, each -l must name a socket and each
 * socket be named by one -l, so that no ,proxy or ,tls is ever silently lost;
 * and a -l's socket options must take effect on a socket bound already (no
 * freebind). 0, or -1 with err naming the odd one (a usage error).
 */
int listener_inherited_match(const struct listeners *ls, bool udp, const struct listen_spec *specs,
    size_t n, int *match, char *err, size_t errlen);

/* --reuseport with sockets taken over: each must have SO_REUSEPORT already. 0, or -1 with err. */
int listener_inherited_reuseport(const struct listeners *ls, char *err, size_t errlen);

/*
 * Set the socket options of its -l (match[i]) on each taken socket, stream or
 * udp: ("keepalive", "mark=7"); kept in the listener, to be set again on each
 * connection accepted: one queued before now has none of them.
 * 0, or -1 with err naming the socket and the option refused.
 */
int listener_inherited_sockopts(struct listeners *ls, const struct listen_spec *specs,
    const int *match, char *err, size_t errlen);

/*
 * Give each taken socket the options of its -l (match[i], as found above: its
 * socket options too) and
 * those of lp: backlog above 0 (listen() again), socket_mode (a unix: socket's
 * file). 0, or -1 with err.
 */
int listener_inherited_apply(struct listeners *ls, const struct listen_spec *specs, const int *match,
    const struct listen_params *lp, char *err, size_t errlen);

#endif
