/* sockopt: socket options by name, parsed, checked for where they apply, and set. */
#include "sockopt.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "number.h"

/* What follows an option's name. */
enum sockopt_value {
	VALUE_NONE,		/* "freebind" */
	VALUE_NUMBER,		/* "=N", from min to max */
	VALUE_MAYBE,		/* "" or "=N" (fastopen) */
	VALUE_KEEPALIVE,	/* "" or "=IDLE:INTVL:CNT" */
	VALUE_TOS,		/* "=N" or "=DSCP name" */
	VALUE_DEVICE		/* "=IFNAME" */
};

/* The places an option takes effect in, a bit each (enum sockopt_place). */
#define AT(p)	(1u << (p))
#define TCP_ALL	(AT(SOCKOPT_AT_LISTENER) | AT(SOCKOPT_AT_TAKEN) | AT(SOCKOPT_AT_CLIENT))
#define ALL	(TCP_ALL | AT(SOCKOPT_AT_UDP) | AT(SOCKOPT_AT_UDP_TAKEN) | AT(SOCKOPT_AT_CLIENT_UDP))
#define CONN	AT(SOCKOPT_AT_ACCEPTED)	/* acts on a connection too */
#define UNBOUND	(AT(SOCKOPT_AT_LISTENER) | AT(SOCKOPT_AT_UDP) | AT(SOCKOPT_AT_CLIENT) | \
		 AT(SOCKOPT_AT_CLIENT_UDP))

struct sockopt_def {
	const char *name;
	enum sockopt_value value;
	long min, max;
	unsigned places;
	const char *why;	/* why it cannot take effect elsewhere */
};

#define TCP_ONLY "it is a TCP option"

/* In enum sockopt_id's order. */
static const struct sockopt_def defs[SOCKOPT_COUNT] = {
	{ "keepalive", VALUE_KEEPALIVE, 1, 32767, TCP_ALL | CONN, TCP_ONLY },
	{ "user-timeout", VALUE_NUMBER, 1, 2147483647, TCP_ALL | CONN, TCP_ONLY },
	{ "rcvbuf", VALUE_NUMBER, 1, 1073741823, ALL | CONN, "" },
	{ "sndbuf", VALUE_NUMBER, 1, 1073741823, ALL | CONN, "" },
	{ "tos", VALUE_TOS, 0, 255, ALL | CONN, "" },
	{ "mark", VALUE_NUMBER, 0, 4294967295L, ALL | CONN, "" },
	{ "device", VALUE_DEVICE, 0, 0, ALL, "" },
	{ "freebind", VALUE_NONE, 0, 0, UNBOUND, "it lets bind() take an address not (yet) on this "
	    "host, and this socket is bound already" },
	{ "transparent", VALUE_NONE, 0, 0, ALL, "" },
	{ "fastopen", VALUE_MAYBE, 1, 65535, TCP_ALL, TCP_ONLY },
	{ "mss", VALUE_NUMBER, 88, 65535, TCP_ALL, TCP_ONLY },
};

static const char *const place_names[] = {
	"a TCP listener", "a TCP socket handed over", "a udp: listener", "a UDP socket handed over",
	"a TCP connection", "a UDP client socket", "an accepted connection"
};

/* DSCP names (RFC 2474, 2597, 3246, 8622): the DSCP, a byte's upper six bits. */
static int
sockopt_dscp(const char *v)
{
	if (strcmp(v, "ef") == 0)
		return 46;
	if (strcmp(v, "le") == 0)
		return 1;
	if (strncmp(v, "cs", 2) == 0 && v[2] >= '0' && v[2] <= '7' && v[3] == '\0')
		return (v[2] - '0') * 8;
	if (strncmp(v, "af", 2) == 0 && v[2] >= '1' && v[2] <= '4' && v[3] >= '1' && v[3] <= '3' &&
	    v[4] == '\0')
		return (v[2] - '0') * 8 + (v[3] - '0') * 2;
	return -1;
}

/* "IDLE:INTVL:CNT": seconds, seconds, probes. 0 or -1. */
static int
sockopt_keepalive(char *v, struct sockopts *so)
{
	char *intvl = strchr(v, ':'), *cnt = intvl != NULL ? strchr(intvl + 1, ':') : NULL;
	long idle, in, n;

	if (cnt == NULL)
		return -1;
	*intvl++ = '\0';
	*cnt++ = '\0';
	if (number_parse(v, 1, 32767, &idle) < 0 || number_parse(intvl, 1, 32767, &in) < 0 ||
	    number_parse(cnt, 1, 127, &n) < 0)
		return -1;
	so->keepidle = (int)idle;
	so->keepintvl = (int)in;
	so->keepcnt = (int)n;
	return 0;
}

/* The value v (NULL: none given) of option id into so. 0 or -1 (malformed). */
static int
sockopt_value(enum sockopt_id id, char *v, struct sockopts *so)
{
	const struct sockopt_def *d = &defs[id];
	int *const fields[SOCKOPT_COUNT] = { [SOCKOPT_USER_TIMEOUT] = &so->user_timeout,
	    [SOCKOPT_RCVBUF] = &so->rcvbuf, [SOCKOPT_SNDBUF] = &so->sndbuf, [SOCKOPT_TOS] = &so->tos,
	    [SOCKOPT_FASTOPEN] = &so->fastopen, [SOCKOPT_MSS] = &so->mss };
	long n = 0;

	if (v == NULL)
		return d->value == VALUE_NONE || d->value == VALUE_MAYBE || d->value == VALUE_KEEPALIVE ?
		    0 : -1;
	switch (d->value) {
	case VALUE_NONE:
		return -1;
	case VALUE_KEEPALIVE:
		return sockopt_keepalive(v, so);
	case VALUE_DEVICE:
		if (v[0] == '\0' || strlen(v) >= sizeof(so->device) || strspn(v,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") != strlen(v))
			return -1;
		memcpy(so->device, v, strlen(v) + 1);
		return 0;
	case VALUE_TOS:
		if ((n = sockopt_dscp(v)) >= 0) {
			so->tos = (int)n << 2;
			return 0;
		}
		break;
	default:
		break;
	}
	if (number_parse(v, d->min, d->max, &n) < 0)
		return -1;
	if (id == SOCKOPT_MARK)
		so->mark = (unsigned)n;
	else
		*fields[id] = (int)n;
	return 0;
}

/* How an option is written, for an error message. */
static const char *const forms[SOCKOPT_COUNT] = {
	"keepalive or keepalive=IDLE:INTVL:CNT (seconds, seconds 1-32767, probes 1-127)",
	"user-timeout=MS (1-2147483647)", "rcvbuf=BYTES (1-1073741823)", "sndbuf=BYTES (1-1073741823)",
	"tos=N (0-255) or tos=DSCP (ef, le, af11-af43, cs0-cs7)", "mark=N (0-4294967295)",
	"device=IFNAME (at most 15 of a-z A-Z 0-9 . _ @ -)", "freebind (no value)",
	"transparent (no value)", "fastopen or fastopen=QLEN (1-65535)", "mss=BYTES (88-65535)",
};

int
sockopt_parse(const char *text, size_t n, struct sockopts *so, char *err, size_t errlen)
{
	const char *eq = memchr(text, '=', n);
	size_t nlen = eq != NULL ? (size_t)(eq - text) : n;
	char value[64];
	int id;

	for (id = 0; id < SOCKOPT_COUNT; id++)
		if (strlen(defs[id].name) == nlen && strncmp(text, defs[id].name, nlen) == 0)
			break;
	if (id == SOCKOPT_COUNT)
		return 0;
	if (so->set & (1u << id)) {
		snprintf(err, errlen, "socket option %s is given twice", defs[id].name);
		return -1;
	}
	if (eq != NULL && n - nlen - 1 < sizeof(value)) {
		memcpy(value, eq + 1, n - nlen - 1);
		value[n - nlen - 1] = '\0';
	}
	if ((eq != NULL && n - nlen - 1 >= sizeof(value)) ||
	    sockopt_value((enum sockopt_id)id, eq != NULL ? value : NULL, so) < 0) {
		snprintf(err, errlen, "invalid socket option '%.*s': expected %s", (int)(n < 200 ? n : 200),
		    text, forms[id]);
		cli_one_line(err);	/* whatever was typed */
		return -1;
	}
	so->set |= 1u << id;
	return 1;
}

int
sockopt_parse_list(const char *text, struct sockopts *so, char *err, size_t errlen)
{
	size_t n;
	int rc;

	do {
		n = strcspn(text, ",");
		if ((rc = sockopt_parse(text, n, so, err, errlen)) == 0)
			snprintf(err, errlen, "unknown socket option '%.*s': expected keepalive, user-timeout, "
			    "rcvbuf, sndbuf, tos, mark, device, freebind, transparent, fastopen or mss",
			    (int)(n < 200 ? n : 200), text);
		if (rc == 0)
			cli_one_line(err);
		if (rc <= 0)
			return -1;
		text += n;
	} while (*text++ == ',');
	return 0;
}

int
sockopt_check(const struct sockopts *so, enum sockopt_place place, char *err, size_t errlen)
{
	char text[96];
	int id;

	for (id = 0; id < SOCKOPT_COUNT; id++) {
		if (!(so->set & (1u << id)))
			continue;
		if (!(defs[id].places & AT(place))) {
			snprintf(err, errlen, "socket option %s cannot take effect on %s: %s",
			    sockopt_text(so, id, text, sizeof(text)), place_names[place], defs[id].why);
			return -1;
		}
		if (id == SOCKOPT_FASTOPEN && so->fastopen > 0 && place == SOCKOPT_AT_CLIENT) {
			snprintf(err, errlen, "socket option %s cannot take effect on %s: QLEN is a "
			    "listener's queue; a client takes fastopen alone",
			    sockopt_text(so, id, text, sizeof(text)), place_names[place]);
			return -1;
		}
	}
	return 0;
}

static int
sockopt_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

/* Set one option. 0 or -1 with errno. */
static int
sockopt_set(int fd, const struct sockopts *so, enum sockopt_id id, enum sockopt_place place)
{
	socklen_t len = sizeof(int);
	int family = AF_UNSPEC;

	switch (id) {
	case SOCKOPT_KEEPALIVE:
		if (sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1) < 0)
			return -1;
		return so->keepidle == 0 || (sockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, so->keepidle) == 0 &&
		    sockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, so->keepintvl) == 0 &&
		    sockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT, so->keepcnt) == 0) ? 0 : -1;
	case SOCKOPT_USER_TIMEOUT:
		return sockopt_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, so->user_timeout);
	case SOCKOPT_RCVBUF:
		return sockopt_int(fd, SOL_SOCKET, SO_RCVBUF, so->rcvbuf);
	case SOCKOPT_SNDBUF:
		return sockopt_int(fd, SOL_SOCKET, SO_SNDBUF, so->sndbuf);
	case SOCKOPT_TOS:
		/* An IPv6 socket may carry IPv4 too (dual-stack): both fields are set. */
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0 ||
		    sockopt_int(fd, IPPROTO_IP, IP_TOS, so->tos) < 0)
			return -1;
		return family == AF_INET6 ? sockopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS, so->tos) : 0;
	case SOCKOPT_MARK:
		return sockopt_int(fd, SOL_SOCKET, SO_MARK, (int)so->mark);
	case SOCKOPT_DEVICE:
		return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, so->device,
		    (socklen_t)strlen(so->device) + 1);
	case SOCKOPT_FREEBIND:	/* the flag IPV6_FREEBIND sets too */
		return sockopt_int(fd, IPPROTO_IP, IP_FREEBIND, 1);
	case SOCKOPT_TRANSPARENT:	/* the flag IPV6_TRANSPARENT sets too */
		return sockopt_int(fd, IPPROTO_IP, IP_TRANSPARENT, 1);
	case SOCKOPT_FASTOPEN:
		if (place == SOCKOPT_AT_CLIENT)
			return sockopt_int(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1);
		return sockopt_int(fd, IPPROTO_TCP, TCP_FASTOPEN, so->fastopen > 0 ? so->fastopen :
		    SOCKOPT_FASTOPEN_QLEN);
	default:	/* SOCKOPT_MSS */
		return sockopt_int(fd, IPPROTO_TCP, TCP_MAXSEG, so->mss);
	}
}

int
sockopt_apply(int fd, const struct sockopts *so, enum sockopt_place place, char *err,
    size_t errlen)
{
	char text[96];
	int id, saved;

	for (id = 0; id < SOCKOPT_COUNT; id++)
		if ((so->set & (1u << id)) && (place != SOCKOPT_AT_ACCEPTED || (defs[id].places & CONN)) &&
		    sockopt_set(fd, so, id, place) < 0) {
			saved = errno;
			snprintf(err, errlen, "%s: %s", sockopt_text(so, id, text, sizeof(text)),
			    strerror(saved));
			errno = saved;
			return -1;
		}
	return 0;
}

const char *
sockopt_text(const struct sockopts *so, enum sockopt_id id, char *buf, size_t len)
{
	const char *name = defs[id].name;

	if (id == SOCKOPT_KEEPALIVE && so->keepidle > 0)
		snprintf(buf, len, "%s=%d:%d:%d", name, so->keepidle, so->keepintvl, so->keepcnt);
	else if (id == SOCKOPT_DEVICE)
		snprintf(buf, len, "%s=%s", name, so->device);
	else if (id == SOCKOPT_MARK)
		snprintf(buf, len, "%s=%u", name, so->mark);
	else if (id == SOCKOPT_FASTOPEN && so->fastopen > 0)
		snprintf(buf, len, "%s=%d", name, so->fastopen);
	else if (defs[id].value == VALUE_NUMBER || defs[id].value == VALUE_TOS)
		snprintf(buf, len, "%s=%d", name, id == SOCKOPT_USER_TIMEOUT ? so->user_timeout :
		    id == SOCKOPT_RCVBUF ? so->rcvbuf : id == SOCKOPT_SNDBUF ? so->sndbuf :
		    id == SOCKOPT_TOS ? so->tos : so->mss);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

bool
sockopt_any(const struct sockopts *so)
{
	return so->set != 0;
}
