/*
 * sockopt: the socket options a user names ("keepalive=5:2:3", "mark=7",
 * "device=vrf-blue"), shared by the three programs: mpechod's -l ADDR:PORT,OPT
 * and the clients' -O OPT,OPT. Parsed here, checked against where they are
 * asked for (a TCP or udp: listener, a client), and set on a socket before its
 * bind()/listen()/connect(). Linux copies every one of them from a listener
 * into each socket accept() returns, so a listener's are set once; but a
 * connection already queued when they are set (on a socket handed over) has
 * none, so there they are set again on each (SOCKOPT_AT_ACCEPTED).
 */
#ifndef MPECHO_SOCKOPT_H
#define MPECHO_SOCKOPT_H

#include <stdbool.h>
#include <stddef.h>

enum sockopt_id {
	SOCKOPT_KEEPALIVE,	/* SO_KEEPALIVE, and TCP_KEEPIDLE/KEEPINTVL/KEEPCNT */
	SOCKOPT_USER_TIMEOUT,	/* TCP_USER_TIMEOUT */
	SOCKOPT_RCVBUF,		/* SO_RCVBUF */
	SOCKOPT_SNDBUF,		/* SO_SNDBUF */
	SOCKOPT_TOS,		/* IP_TOS, and IPV6_TCLASS on IPv6 */
	SOCKOPT_MARK,		/* SO_MARK */
	SOCKOPT_DEVICE,		/* SO_BINDTODEVICE */
	SOCKOPT_FREEBIND,	/* IP_FREEBIND */
	SOCKOPT_TRANSPARENT,	/* IP_TRANSPARENT */
	SOCKOPT_FASTOPEN,	/* TCP_FASTOPEN (a listener), TCP_FASTOPEN_CONNECT (a client) */
	SOCKOPT_MSS,		/* TCP_MAXSEG */
	SOCKOPT_COUNT
};

/* Where options are asked for: each option takes effect in some of these only. */
enum sockopt_place {
	SOCKOPT_AT_LISTENER,	/* a TCP listener bound here */
	SOCKOPT_AT_TAKEN,	/* a TCP listener handed over, bound already */
	SOCKOPT_AT_UDP,		/* a udp: listener bound here */
	SOCKOPT_AT_UDP_TAKEN,	/* a udp: listener handed over */
	SOCKOPT_AT_CLIENT,	/* a TCP client's socket, before connect() */
	SOCKOPT_AT_CLIENT_UDP,	/* a UDP client's socket */
	SOCKOPT_AT_ACCEPTED	/* a connection accept() returned: those that still act, set again */
};

/* A bare "fastopen" on a listener: this many connections may wait in the TFO queue. */
#define SOCKOPT_FASTOPEN_QLEN 256

#define SOCKOPT_DEVICE_MAX 16	/* IFNAMSIZ, the terminating NUL included */

/* The options given; an option's fields mean something only when its bit is in set. */
struct sockopts {
	unsigned set;			/* 1u << id for each option given */
	int keepidle, keepintvl, keepcnt;	/* keepalive=IDLE:INTVL:CNT; 0: the kernel's (bare keepalive) */
	int user_timeout;		/* milliseconds */
	int rcvbuf, sndbuf;		/* bytes asked for (the kernel doubles them) */
	int tos;			/* the whole byte: DSCP << 2 */
	unsigned mark;
	int fastopen;			/* the listener's queue; 0: bare "fastopen" */
	int mss;
	char device[SOCKOPT_DEVICE_MAX];
};

/*
 * One option, the n bytes of text ("mark=7"). 1 when it is a socket option
 * and was taken, 0 when its name is none of them (the caller may know it),
 * -1 when it is one but malformed or given twice (a one-line reason in err).
 */
int sockopt_parse(const char *text, size_t n, struct sockopts *so, char *err, size_t errlen);

/* A comma-separated list of options (-O): all of them socket options. 0, or -1 with err. */
int sockopt_parse_list(const char *text, struct sockopts *so, char *err, size_t errlen);

/*
 * Whether every option of so takes effect at place: 0, or -1 with "OPT
 * cannot take effect on WHAT: why" in err (an option that cannot take
 * effect is a usage error).
 */
int sockopt_check(const struct sockopts *so, enum sockopt_place place, char *err, size_t errlen);

/*
 * Set so's options on fd, an IPv4 or IPv6 socket not yet bound or connected
 * (or handed over, at SOCKOPT_AT_*TAKEN; or accepted: then only those that
 * still act on a connection). 0, or -1 with errno and "OPT:
 * reason" in err, OPT as it was given ("device=nope: No such device").
 */
int sockopt_apply(int fd, const struct sockopts *so, enum sockopt_place place, char *err,
    size_t errlen);

/* Option id as given in so ("keepalive=5:2:3", "tos=0xb8"), in buf. */
const char *sockopt_text(const struct sockopts *so, enum sockopt_id id, char *buf, size_t len);

/* Whether any option is given. */
bool sockopt_any(const struct sockopts *so);

#endif
