/*
 * listener_udp: the datagram kind of listener (-l udp:ADDR:PORT). Its sockets
 * are kept apart from the stream listeners: the supervisor never polls them,
 * and only the UDP process (udp.c) reads them.
 */
#ifndef MPECHO_LISTENER_UDP_H
#define MPECHO_LISTENER_UDP_H

#include <stdbool.h>
#include <stddef.h>

struct listeners;
struct listen_spec;

/*
 * Bind a UDP socket for every udp: spec among specs (the first address of a
 * name; all addresses for an empty host: one dual-stack IPv6 socket where the
 * system has IPv6) and append it to ls, non-blocking, with the destination of
 * each datagram reported (IP_PKTINFO, IPV6_RECVPKTINFO) so that the reply
 * leaves from the address it came to; reuseport: shared with other instances
 * (SO_REUSEPORT), as a successor's must be with the server it replaces. 0, or
 * -1 with a one-line message in err.
 */
int listener_udp_open(struct listeners *ls, const struct listen_spec *specs, size_t n,
    bool reuseport, char *err, size_t errlen);

/*
 * Take descriptor fd, a bound UDP socket handed over by systemd
 * (ListenDatagram=), as one of ls; label ("fd=3 name=echo") is shown in its
 * listen line. 0, or -1 with a message in err.
 */
int listener_udp_take(struct listeners *ls, int fd, const char *label, char *err, size_t errlen);

#endif
