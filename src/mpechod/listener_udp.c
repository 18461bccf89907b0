/* listener_udp: binding the UDP sockets of -l udp:ADDR:PORT. */
#include "listener_udp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "net.h"

/* Each datagram's destination comes with it (for the reply's source). 0 or -1. */
static int
dgram_pktinfo(int fd, int family)
{
	int on = 1;

	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0)
		return -1;
	return family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) : 0;
}

/*
 * One socket bound to sa with spec's socket options, told each datagram's
 * destination. The fd, or -1 with errno (and the option refused in why).
 */
static int
dgram_socket(const struct sockaddr *sa, socklen_t len, bool reuseport, const struct sockopts *so,
    char *why, size_t whylen)
{
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1, off = 0;
	int saved;

	if (fd < 0)
		return -1;
	if (dgram_pktinfo(fd, sa->sa_family) < 0 ||
	    sockopt_apply(fd, so, SOCKOPT_AT_UDP, why, whylen) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0) ||
	    (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)sa)->sin6_addr) ? &off : &on, sizeof(on)) < 0) ||
	    bind(fd, sa, len) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Bind spec's address (the wildcard for every address). 0 or -1 with err. */
static int
dgram_open_one(struct listeners *ls, const struct listen_spec *spec, bool reuseport, char *err,
    size_t errlen)
{
	char name[NET_ADDRSTRLEN], why[160] = "";
	struct addrinfo *ai;
	int gai, fd;

	gai = spec->host != NULL ? net_resolve(spec->host, spec->port, 1, AF_UNSPEC, &ai) :
	    listener_wildcard(spec->port, &ai);
	if (gai != 0) {
		snprintf(err, errlen, "cannot listen on udp:%s:%s: %s", spec->host != NULL ?
		    spec->host : "", spec->port, gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	fd = dgram_socket(ai->ai_addr, ai->ai_addrlen, reuseport, &spec->so, why, sizeof(why));
	if (fd < 0 && why[0] != '\0') {
		snprintf(err, errlen, "cannot listen on udp:%s: %s",
		    net_format(ai->ai_addr, name, sizeof(name)), why);
		freeaddrinfo(ai);
		return -1;
	}
	if (fd < 0 || listeners_append(ls, fd) < 0) {
		log_errtext(err, errlen, "cannot listen on udp:%s",
		    net_format(ai->ai_addr, name, sizeof(name)));
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return 0;
}

int
listener_udp_open(struct listeners *ls, const struct listen_spec *specs, size_t n, bool reuseport,
    char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (specs[i].udp && dgram_open_one(ls, &specs[i], reuseport, err, errlen) < 0) {
			listeners_free(ls);
			return -1;
		}
	return 0;
}

int
listener_udp_take(struct listeners *ls, int fd, const char *label, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int flags;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		snprintf(err, errlen, "descriptor %d (%s) is not a UDP socket", fd, label);
		return -1;
	}
	if (dgram_pktinfo(fd, ss.ss_family) < 0 || (flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    listeners_append(ls, fd) < 0) {
		log_errtext(err, errlen, "descriptor %d (%s)", fd, label);
		return -1;
	}
	snprintf(ls->v[ls->n - 1].label, sizeof(ls->v[ls->n - 1].label), "%s", label);
	return 0;
}
