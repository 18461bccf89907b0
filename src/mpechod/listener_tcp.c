/* listener_tcp: binding TCP listeners: every address of a name, one port for port 0. */
#include "listener_tcp.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "net.h"

/* A listener's socket options, set before bind(); the one refused is named in why. */
struct tcp_prepare {
	const struct sockopts *so;
	char why[160];
};

static int
tcp_prepare(int fd, void *arg)
{
	struct tcp_prepare *p = arg;

	return sockopt_apply(fd, p->so, SOCKOPT_AT_LISTENER, p->why, sizeof(p->why));
}

/*
 * Bind one address with the spec's socket options and record it under its real
 * name (the port the kernel chose for port 0).
 */
static int
tcp_bind(struct listeners *ls, const struct sockaddr *sa, socklen_t len,
    const struct listen_params *lp, const struct sockopts *so, int v6only, char *err, size_t errlen)
{
	struct tcp_prepare prep = { .so = so, .why = "" };
	char name[NET_ADDRSTRLEN];
	int fd = net_listen(sa, len, lp->backlog, v6only, lp->reuseport, tcp_prepare, &prep);

	if (fd < 0 && prep.why[0] != '\0') {
		snprintf(err, errlen, "cannot listen on %s: %s", net_format(sa, name, sizeof(name)),
		    prep.why);
		return -1;
	}
	if (fd < 0 || listeners_append(ls, fd) < 0) {
		log_errtext(err, errlen, "cannot listen on %s", net_format(sa, name, sizeof(name)));
		return -1;
	}
	return 0;
}

/* All addresses: one dual-stack IPv6 socket where the system has IPv6, else IPv4. */
static int
tcp_wildcard(struct listeners *ls, const struct listen_spec *spec, const struct listen_params *lp,
    char *err, size_t errlen)
{
	struct addrinfo *ai;
	int rc, gai;

	if ((gai = listener_wildcard(spec->port, &ai)) != 0) {
		snprintf(err, errlen, "cannot listen on port %s: %s", spec->port, gai_strerror(gai));
		return -1;
	}
	rc = tcp_bind(ls, ai->ai_addr, ai->ai_addrlen, lp, &spec->so, 0, err, errlen);
	freeaddrinfo(ai);
	return rc;
}

static void
tcp_set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

/* Whether the resolver listed ai's address earlier in res. */
static bool
tcp_listed_before(const struct addrinfo *res, const struct addrinfo *ai)
{
	for (; res != ai; res = res->ai_next)
		if (res->ai_addrlen == ai->ai_addrlen &&
		    memcmp(res->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
			return true;
	return false;
}

/*
 * Every address a host name resolves to. With port 0, the first address picks
 * the port and the others take the same one, so one name gives one port.
 */
static int
tcp_host(struct listeners *ls, const struct listen_spec *spec, const struct listen_params *lp,
    char *err, size_t errlen)
{
	struct addrinfo *res, *ai;
	size_t first = ls->n;
	int gai, rc = 0;

	if ((gai = net_resolve(spec->host, spec->port, 1, AF_UNSPEC, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", spec->host,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
		if (tcp_listed_before(res, ai))
			continue;
		if (ls->n > first && net_port(ai->ai_addr) == 0) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);

			if (getsockname(ls->v[first].fd, (struct sockaddr *)&ss, &len) == 0)
				tcp_set_port(ai->ai_addr, net_port((struct sockaddr *)&ss));
		}
		rc = tcp_bind(ls, ai->ai_addr, ai->ai_addrlen, lp, &spec->so, 1, err, errlen);
	}
	freeaddrinfo(res);
	return rc;
}

int
listener_tcp_open(struct listeners *ls, const struct listen_spec *spec,
    const struct listen_params *lp, char *err, size_t errlen)
{
	if (spec->host == NULL)
		return tcp_wildcard(ls, spec, lp, err, errlen);
	return tcp_host(ls, spec, lp, err, errlen);
}

/*
 * The address an endpoint of the server's own binds: the first of ADDR:PORT,
 * or the wildcard for ":PORT". 0, a getaddrinfo() error code (never 1), or 1
 * for text that is no ADDR:PORT or :PORT.
 */
static int
tcp_endpoint_addr(const char *addr, struct addrinfo **ai, char **host)
{
	char *port = NULL;
	int gai;

	*host = NULL;
	if (net_split_hostport(addr, host, &port) < 0 || net_check_port(port) < 0)
		gai = 1;
	else
		gai = *host == NULL ? listener_wildcard(port, ai) : net_resolve(*host, port, 1, AF_UNSPEC, ai);
	free(port);
	return gai;
}

int
listener_tcp_one(const char *option, const char *addr, int backlog, char *err, size_t errlen)
{
	char *host, name[NET_ADDRSTRLEN];
	struct addrinfo *ai = NULL;
	int fd = -1, gai = tcp_endpoint_addr(addr, &ai, &host);

	if (gai == 1)
		snprintf(err, errlen, "invalid %s address '%s': expected ADDR:PORT or :PORT", option, addr);
	else if (gai != 0)
		snprintf(err, errlen, "cannot resolve '%s': %s", host != NULL ? host : "::",
		    gai_strerror(gai));
	else if ((fd = net_listen(ai->ai_addr, ai->ai_addrlen, backlog, host != NULL, 0, NULL,
	    NULL)) < 0)
		log_errtext(err, errlen, "cannot listen on %s for %s",
		    net_format(ai->ai_addr, name, sizeof(name)), option);
	if (gai == 0)
		freeaddrinfo(ai);
	free(host);
	return fd;
}

/* Whether fd is a listening TCP socket bound to the address of ADDR:PORT an endpoint binds. */
bool
listener_tcp_is(int fd, const char *addr)
{
	char *host = NULL, want[NET_ADDRSTRLEN], have[NET_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), ilen = sizeof(int);
	struct addrinfo *ai = NULL;
	int listening = 0;
	bool same = false;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ilen) == 0 && listening &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) &&
	    tcp_endpoint_addr(addr, &ai, &host) == 0) {
		same = strcmp(net_format(ai->ai_addr, want, sizeof(want)),
		    net_format((struct sockaddr *)&ss, have, sizeof(have))) == 0;
		freeaddrinfo(ai);
	}
	free(host);
	return same;
}
