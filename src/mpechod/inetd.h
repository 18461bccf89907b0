/*
 * inetd: mpechod -i with a connected socket on standard input (inetd and
 * xinetd "nowait", systemd Accept=yes, tcpserver): one session served in
 * this process, with the same limits and log lines as under the supervisor.
 */
#ifndef MPECHO_INETD_H
#define MPECHO_INETD_H

#include <stddef.h>
#include <sys/socket.h>

struct config;
struct tls_server;

enum inetd_input {
	INETD_CONNECTED,	/* a connected stream socket: serve it (inetd_serve) */
	INETD_LISTENING,	/* a listening socket (inetd "wait"): be the supervisor on it */
	INETD_OTHER		/* not a socket, or not a stream one */
};

/* What descriptor fd is. */
enum inetd_input inetd_classify(int fd);

/*
 * Serve the connection on fd with cfg's service, idle timeout, time limit,
 * access rules and user, in TLS with tls's credentials (NULL: plain); log its
 * connect and end lines. Returns the exit status: the session's end reason
 * (0 eof, 2 reset, 3 quit, 7 tls, ...), or 1 if it could not be served.
 */
int inetd_serve(const struct config *cfg, const struct tls_server *tls, int fd);

/*
 * inetd_peer.c. A client's address as a super-server writes it in text: ip a
 * numeric IPv4 or IPv6 address, bare or in brackets (socat), port a number
 * from 1 to 65535. 0 with *ss and *len set, or -1 (EINVAL).
 */
int inetd_peer_parse(const char *ip, const char *port, struct sockaddr_storage *ss, socklen_t *len);

/*
 * The client's address handed on in the environment by a super-server that
 * relays the connection over a socket pair or pipes: socat's SOCAT_PEERADDR
 * and SOCAT_PEERPORT, or UCSPI's (tcpserver) ${PROTO}REMOTEIP and
 * ${PROTO}REMOTEPORT. 1 with *ss set, 0 if none is there, or -1 when it is
 * malformed; which names the variables read.
 */
int inetd_peer_from_env(struct sockaddr_storage *ss, socklen_t *len, char *which, size_t whichlen);

#endif
