/* net: address parsing and formatting, listening and connecting sockets. */
#ifndef MPECHO_NET_H
#define MPECHO_NET_H

#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

/* Room for "[ipv6%scope]:port" and for "a.b.c.d:port". */
#define NET_ADDRSTRLEN 96

/*
 * Split "host:port", "[v6addr]:port" or ":port".
 * *host is NULL for "all addresses" (":port"); both results are malloc'd.
 * Returns 0, or -1 with errno EINVAL (malformed) or ENOMEM.
 */
int net_split_hostport(const char *text, char **host, char **port);

/*
 * A client's server argument: "HOST", "HOST:PORT", "[IPv6]", "[IPv6]:PORT",
 * or a bare IPv6 address (several colons: no port). *host is malloc'd,
 * *port too, or NULL when the text has none. 0, or -1 with errno EINVAL
 * (malformed: empty, an empty host or port, a bracket not closed) or ENOMEM.
 */
int net_parse_target(const char *text, char **host, char **port);

/*
 * "unix:PATH": the address of a Unix-domain socket. 0, or -1 with errno EINVAL
 * (not unix:, or no path) or ENAMETOOLONG.
 */
int net_unix_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* A port is a number 0..65535 or a service name known to the system; 0 or -1 (EINVAL). */
int net_check_port(const char *port);

/* getaddrinfo() for TCP; host NULL with passive gives the wildcard addresses. Returns a gai error code. */
int net_resolve(const char *host, const char *port, int passive, int family,
    struct addrinfo **res);

/*
 * "1.2.3.4:80" or "[::1]:80"; an IPv4-mapped IPv6 address is shown as IPv4.
 * Never fails: an unknown family formats as "?".
 */
const char *net_format(const struct sockaddr *sa, char *buf, size_t len);	/* also "unix:PATH" */

/*
 * An address without its port, as a key for access rules and per-source limits:
 * IPv4 (also IPv4-mapped IPv6) in the first 4 bytes, IPv6 in all 16.
 */
struct net_addr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char bytes[16];
};

/* The key of sa; 0, or -1 (EAFNOSUPPORT) for another family. */
int net_addr_of(const struct sockaddr *sa, struct net_addr *out);

/* The port of an AF_INET/AF_INET6 address, or -1. */
int net_port(const struct sockaddr *sa);

/*
 * A listening, non-blocking, close-on-exec TCP socket bound to sa.
 * v6only: for an IPv6 socket, 1 = IPv6 only, 0 = dual-stack. reuseport: share the
 * address and port with other sockets that ask the same (SO_REUSEPORT).
 * prepare, when not NULL, is called on the new socket before bind() (socket
 * options) and fails it with -1 and errno. Returns fd or -1 with errno.
 */
int net_listen(const struct sockaddr *sa, socklen_t len, int backlog, int v6only, int reuseport,
    int (*prepare)(int fd, void *arg), void *arg);

/*
 * Connect to one address, waiting up to timeout_ms (-1: the kernel's own
 * limit; ETIMEDOUT past it). prepare, when not NULL, is called on the new
 * socket before connect() (a source address, socket options) and fails it
 * with -1 and errno. Returns a blocking fd, or -1 with errno.
 */
int net_connect(const struct sockaddr *sa, socklen_t len, int timeout_ms,
    int (*prepare)(int fd, void *arg), void *arg);

/*
 * What every echo socket needs: TCP_NODELAY (small replies never wait for a
 * delayed ACK) and SO_OOBINLINE (an urgent byte is data like any other: echoed
 * in its place, never dropped or taken for the end of a stream). 0 or -1.
 */
int net_tune(int fd);

/*
 * A listening TCP socket hands a connection to accept() only once its first
 * bytes have arrived, or after about secs without any (TCP_DEFER_ACCEPT).
 * 0 or -1 with errno.
 */
int net_defer_accept(int fd, int secs);

/*
 * An idle timeout of secs (0: none) on a socket: the receive timeout
 * (SO_RCVTIMEO) is secs, the send timeout (SO_SNDTIMEO) half of it, since a
 * send is judged stalled over two of its waits (io.c: one splice call can
 * wait twice). 0 or -1 with errno.
 */
int net_set_timeouts(int fd, int secs);

#endif
