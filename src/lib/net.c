/* net: address parsing and formatting, listening and connecting sockets. */
#include "net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/time.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
net_split_hostport(const char *text, char **host, char **port)
{
	const char *colon, *p_start, *h_start, *h_end;

	*host = *port = NULL;
	if (text[0] == '[') {
		h_start = text + 1;
		h_end = strchr(h_start, ']');
		if (h_end == NULL || h_end == h_start || (h_end[1] != ':'))
			goto malformed;
		p_start = h_end + 2;
	} else {
		colon = strrchr(text, ':');
		/* A bare IPv6 address has several colons: it needs brackets to carry a port. */
		if (colon == NULL || memchr(text, ':', (size_t)(colon - text)) != NULL)
			goto malformed;
		h_start = text;
		h_end = colon;
		p_start = colon + 1;
	}
	if (*p_start == '\0')
		goto malformed;
	if (h_end > h_start && (*host = strndup(h_start, (size_t)(h_end - h_start))) == NULL)
		return -1;
	if ((*port = strdup(p_start)) == NULL) {
		free(*host);
		*host = NULL;
		return -1;
	}
	return 0;
malformed:
	errno = EINVAL;
	return -1;
}

int
net_parse_target(const char *text, char **host, char **port)
{
	const char *close, *colon = strchr(text, ':');

	*host = *port = NULL;
	if (text[0] == '[') {
		close = strchr(text, ']');
		if (close == NULL || close == text + 1 || (close[1] != '\0' && close[1] != ':'))
			goto malformed;
		if (close[1] == ':')
			return net_split_hostport(text, host, port);
		*host = strndup(text + 1, (size_t)(close - text - 1));
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		if (colon == text)
			goto malformed;	/* ":7": the client needs a host */
		return net_split_hostport(text, host, port);
	} else if (text[0] != '\0') {
		*host = strdup(text);	/* a name, or a bare IPv6 address (no port) */
	} else {
		goto malformed;
	}
	return *host != NULL ? 0 : -1;
malformed:
	errno = EINVAL;
	return -1;
}

int
net_unix_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	const char *path = text + 5;

	if (strncmp(text, "unix:", 5) != 0 || path[0] == '\0' ||
	    strlen(path) >= sizeof(sun->sun_path)) {
		errno = strncmp(text, "unix:", 5) != 0 || path[0] == '\0' ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	*len = (socklen_t)sizeof(*sun);
	return 0;
}

int
net_check_port(const char *port)
{
	const char *p;
	unsigned long v;
	char *end;

	if (*port == '\0')
		goto bad;
	if (isdigit((unsigned char)*port)) {
		for (p = port; *p; p++)
			if (!isdigit((unsigned char)*p))
				goto bad;
		errno = 0;
		v = strtoul(port, &end, 10);
		if (errno != 0 || v > 65535)
			goto bad;
		return 0;
	}
	if (getservbyname(port, "tcp") != NULL)
		return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
net_resolve(const char *host, const char *port, int passive, int family,
    struct addrinfo **res)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	return getaddrinfo(host, port, &hints, res);
}

/* Decimal digits of n at p; returns the end. */
static char *
net_put_decimal(char *p, unsigned n)
{
	char rev[10];
	int i = 0;

	do
		rev[i++] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	while (i > 0)
		*p++ = rev[--i];
	return p;
}

/*
 * "a.b.c.d:port", as snprintf would write it (truncated to len), without
 * printf: every accepted connection is named, and inet_ntop's and snprintf's
 * formatting was most of the loop model's own CPU time per connection.
 */
static void
net_format_ipv4(const unsigned char *b, unsigned port, char *buf, size_t len)
{
	char text[sizeof("255.255.255.255:65535")], *p = text;
	size_t n;
	int i;

	for (i = 0; i < 4; i++) {
		p = net_put_decimal(p, b[i]);
		*p++ = i < 3 ? '.' : ':';
	}
	p = net_put_decimal(p, port);
	if (len == 0)
		return;
	n = (size_t)(p - text) < len ? (size_t)(p - text) : len - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
}

const char *
net_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		net_format_ipv4((const unsigned char *)&sin->sin_addr, ntohs(sin->sin_port), buf, len);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			net_format_ipv4(&sin6->sin6_addr.s6_addr[12], ntohs(sin6->sin6_port), buf, len);
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
			if (sin6->sin6_scope_id != 0)
				snprintf(buf, len, "[%s%%%u]:%u", ip,
				    (unsigned)sin6->sin6_scope_id, ntohs(sin6->sin6_port));
			else
				snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
		}
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;

		snprintf(buf, len, sun->sun_path[0] != '\0' ? "unix:%.*s" : "unix",
		    (int)sizeof(sun->sun_path), sun->sun_path);
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

int
net_addr_of(const struct sockaddr *sa, struct net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			out->family = AF_INET;
			memcpy(out->bytes, &a->s6_addr[12], 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->bytes, a->s6_addr, 16);
		}
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

int
net_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

int
net_listen(const struct sockaddr *sa, socklen_t len, int backlog, int v6only, int reuseport,
    int (*prepare)(int fd, void *arg), void *arg)
{
	int fd, on = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0))
		goto fail;
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
		goto fail;
	if (prepare != NULL && prepare(fd, arg) < 0)
		goto fail;
	if (bind(fd, sa, len) < 0 || listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * A connect() under way (interrupted, or non-blocking) goes on in the kernel:
 * wait for it, up to timeout_ms (-1: as long as it takes; then ETIMEDOUT),
 * and fetch its result.
 */
static int
connect_finish(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, n;

	while ((n = poll(&pfd, 1, timeout_ms)) < 0)
		if (errno != EINTR)
			return -1;
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int
net_connect(const struct sockaddr *sa, socklen_t len, int timeout_ms,
    int (*prepare)(int fd, void *arg), void *arg)
{
	int fd, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | (timeout_ms >= 0 ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	if ((prepare != NULL && prepare(fd, arg) < 0) ||
	    (connect(fd, sa, len) < 0 && ((errno != EINTR && errno != EINPROGRESS) ||
	    connect_finish(fd, timeout_ms) < 0)) ||
	    (timeout_ms >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
net_tune(int fd)
{
	int on = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
		return -1;
	/* Urgent data arrives in line, in its place: no byte is dropped or ends a splice. */
	return setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on));
}

int
net_defer_accept(int fd, int secs)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs));
}

int
net_set_timeouts(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs };
	struct timeval half = { .tv_sec = secs / 2, .tv_usec = secs % 2 * 500000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &half, sizeof(half));
}
