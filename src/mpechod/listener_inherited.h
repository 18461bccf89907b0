/*
 * listener_inherited: listening sockets a service manager opened for us:
 * systemd's socket activation (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, from
 * descriptor 3; see sd_listen_fds(3)) and inetd's "wait" services (standard
 * input is the listener). Nothing is bound here.
 */
#ifndef MPECHO_LISTENER_INHERITED_H
#define MPECHO_LISTENER_INHERITED_H

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

/*
 * Sockets taken over (from systemd or a predecessor) are bound elsewhere, but
 * their options are this server's: a -l spec with ,proxy or ,tls whose address
 * is a taken socket's gives it those options. Sockets bound here are left alone.
 */
void listener_inherited_options(struct listeners *ls, const struct listen_spec *specs, size_t n);

#endif
