/*
 * listener: where connections come from. A listen spec ("ADDR:PORT[,OPTION...]"
 * or "unix:PATH") is parsed, opened, tuned, described and accepted on here;
 * each kind of listener opens its sockets in a file of its own (listener_tcp.c,
 * listener_unix.c), so a new kind or option never touches the supervisor.
 */
#ifndef MPECHO_LISTENER_H
#define MPECHO_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "net.h"
#include "peer.h"
#include "sockfile.h"
#include "sockopt.h"

/*
 * A ",deferred" listener hands over a client that has sent nothing after this
 * long anyway (the kernel counts it in SYN-ACK retries: 1 s is one retry).
 */
#define LISTENER_DEFER_SECS 1

/* Accepting rests this long after EMFILE, ENFILE or ENOMEM instead of spinning on a ready listener. */
#define LISTENER_PAUSE_MS 200

/* One -l/--listen (or positional) address, as parsed. */
struct listen_spec {
	char *host;		/* NULL: every address */
	char *port;		/* NULL for a Unix-domain socket */
	char *path;		/* "unix:PATH": a Unix-domain stream socket there; else NULL */
	bool proxy;		/* ",proxy": clients come through a balancer that sends a PROXY header */
	bool tls;		/* ",tls": clients speak TLS (after the PROXY header, if any) */
	bool deferred;		/* ",deferred": a connection is accepted once its first bytes are in */
	bool udp;		/* "udp:HOST:PORT": datagrams, served by the UDP process (udp.c) */
	int ports;		/* "HOST:FIRST-LAST": that many ports from port on; else 1 */
	struct sockopts so;	/* ",keepalive", ",mark=7", ...: set before bind() (sockopt.h) */
};

/* The most ports one range may name. */
#define LISTENER_RANGE_MAX 1024

#define LISTENER_LABEL_MAX 96

/* How every listener is opened. */
struct listen_params {
	int backlog;
	bool reuseport;		/* share the address and port with other instances (SO_REUSEPORT) */
	int socket_mode;	/* a Unix socket's permissions (--socket-mode); -1: as bind(2) leaves them */
	bool owner_set;		/* a Unix socket goes to this user and group (-u, when root) */
	uid_t owner;
	gid_t group;
};

/* Room for "unix:" and the longest Unix socket path. */
#define LISTENER_NAME_MAX 120

/* One open listening socket. */
struct listener {
	int fd;
	char name[LISTENER_NAME_MAX];	/* the bound address, real port included, or "unix:PATH" */
	char label[LISTENER_LABEL_MAX];	/* "": bound here; else where it came from ("fd=3 name=web") */
	bool proxy;			/* a PROXY header comes first on every connection */
	bool tls;			/* then a TLS handshake */
	bool deferred;			/* handed over once the client has sent something (LISTENER_DEFER_SECS) */
	bool local;			/* a Unix-domain socket: TCP options do not apply */
	struct sockopts so;		/* handed over: set again on each connection (sockopt.h) */
	struct sockfile file;		/* a socket file this server made or took over: removed when done */
};

struct listeners {
	struct listener *v;
	size_t n;
};

/*
 * Parse a -l value: "HOST:PORT", "[IPv6]:PORT", ":PORT" (every address) or
 * "unix:PATH" or "udp:HOST:PORT", then options after commas: "proxy", "tls",
 * "deferred" and socket options (sockopt.h), none for unix:, only those
 * socket options that take effect on a UDP socket for udp:. PORT may be a range, "FIRST-LAST" (1-65535, at
 * most LISTENER_RANGE_MAX ports): port is then FIRST and ports their number.
 * 0, or -1 with a one-line message in err.
 */
int listener_parse(const char *text, struct listen_spec *out, char *err, size_t errlen);

/*
 * The i-th port of a range spec (0 <= i < range->ports) as a spec of its own,
 * its options and address copied. 0, or -1 (out of memory) with err.
 */
int listener_spec_port(const struct listen_spec *range, int i, struct listen_spec *out, char *err,
    size_t errlen);

/* The classic forms "mpechod PORT" (host NULL) and "mpechod ADDRESS PORT". 0 or -1, as above. */
int listener_parse_pair(const char *host, const char *port, struct listen_spec *out,
    char *err, size_t errlen);
void listener_spec_free(struct listen_spec *spec);

/*
 * Open every stream spec, the udp: ones left out (none at all: all addresses,
 * the default port). On failure
 * nothing stays open and err says which address and why ("cannot listen on
 * 127.0.0.1:80: Permission denied"). 0 or -1.
 */
int listeners_open(struct listeners *ls, const struct listen_spec *specs, size_t n,
    const struct listen_params *lp, char *err, size_t errlen);

/*
 * For listener kinds: the address of every address on port, the one wildcard
 * both TCP and UDP bind: IPv6's "::" (dual-stack) where the system has IPv6,
 * else IPv4's "0.0.0.0". A getaddrinfo() error code; *ai to free with freeaddrinfo().
 */
struct addrinfo;
int listener_wildcard(const char *port, struct addrinfo **ai);

/* For listener kinds: record an open socket under its real name. 0, or -1 (ENOMEM; fd is closed). */
int listeners_append(struct listeners *ls, int fd);

/*
 * Options every session socket needs, set once on the listeners: Linux copies
 * TCP_NODELAY and the receive and send timeouts (the idle timeout) into each
 * socket accept() returns. TCP_DEFER_ACCEPT is as -l says, on or off, also on
 * a socket taken over (a predecessor's, or systemd's). 0 or -1 with errno.
 */
int listeners_tune(const struct listeners *ls, int idle_timeout);

/*
 * Stop listening: shutdown(2) acts on the socket itself, which prefork
 * workers share: their accept() fails at once and new clients are refused.
 * Then close. The socket files stay: listeners_remove_files() (the caller
 * may not have the power to: privsep.h).
 */
void listeners_shutdown(struct listeners *ls);

/* Remove the socket files this server made or took over, if they are still those files. */
void listeners_remove_files(struct listeners *ls);

/* Close every listener (in a child that serves one connection; after a hand-over). */
void listeners_close(struct listeners *ls);

/* Release the array as well; a socket file this server made and still listens on is removed. */
void listeners_free(struct listeners *ls);

/*
 * Take one pending connection (close-on-exec, and blocking unless flags has
 * SOCK_NONBLOCK: the loop model's, which saves an fcntl a connection). Returns its fd and
 * fills *p, or -1 with errno: EAGAIN when none is pending; see
 * listener_transient() for the rest. A client that is not IP is closed and
 * reported as ECONNABORTED; a Unix-domain client is known by its credentials.
 */
int listener_accept(const struct listener *l, struct peer *p, int flags);

/*
 * The peer of connected socket fd whose address is sa, every field set (a Unix
 * socket's by its credentials). 0, or -1 with EAFNOSUPPORT for any other family.
 */
int listener_peer_of(int fd, const struct sockaddr *sa, struct peer *p);

/* An accept error that concerns one pending connection only: take the next one. */
bool listener_transient(int err);

#endif
