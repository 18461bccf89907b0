/* listener_inherited: taking over listening sockets from systemd or inetd. */
#include "listener_inherited.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listener.h"
#include "listener_udp.h"
#include "log.h"
#include "number.h"
#include "sockfile.h"

int
listener_inherited_count(char **names, char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *fdnames = getenv("LISTEN_FDNAMES");
	long p, n = 0;
	int rc = 0;

	*names = NULL;
	if (pid == NULL || fds == NULL)
		goto out;
	if (number_parse(pid, 1, 2147483647, &p) < 0 || number_parse(fds, 0, 1000, &n) < 0) {
		snprintf(err, errlen, "malformed LISTEN_PID '%s' or LISTEN_FDS '%s' in the environment",
		    pid, fds);
		rc = -1;
		goto out;
	}
	if ((pid_t)p != getpid())
		goto out;	/* meant for another process (a parent that did not clear them) */
	if (fdnames != NULL && (*names = strdup(fdnames)) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
		goto out;
	}
	rc = (int)n;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return rc;
}

/* 1: a listening stream socket, TCP or Unix-domain; 0: something else. */
static int
inherited_is_listener(int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(int);
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return 0;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &slen) < 0)
		return 0;
	return type == SOCK_STREAM && listening &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6 || ss.ss_family == AF_UNIX);
}

int
listener_inherited_take(struct listeners *ls, int fd, const char *label, char *err, size_t errlen)
{
	int flags;

	if (fcntl(fd, F_GETFD) < 0) {
		snprintf(err, errlen, "descriptor %d (%s) is not open", fd, label);
		return -1;
	}
	if (!inherited_is_listener(fd)) {
		snprintf(err, errlen, "descriptor %d (%s) is not a listening stream socket (TCP or Unix)", fd, label);
		return -1;
	}
	/* The supervisor takes connections in batches until EAGAIN: never block on one. */
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || listeners_append(ls, fd) < 0) {
		log_errtext(err, errlen, "descriptor %d (%s)", fd, label);
		return -1;
	}
	snprintf(ls->v[ls->n - 1].label, sizeof(ls->v[ls->n - 1].label), "%s", label);
	return 0;
}

int
listener_inherited_open(struct listeners *ls, struct listeners *udp, int count, const char *names,
    char *err, size_t errlen)
{
	int type, fd;
	socklen_t tlen;
	char label[LISTENER_LABEL_MAX], *c;
	const char *name = names;
	size_t len;
	int i;

	for (i = 0; i < count; i++) {
		len = name != NULL ? strcspn(name, ":") : 0;
		snprintf(label, sizeof(label), "fd=%d name=%.*s", LISTENER_FDS_START + i,
		    len > 0 ? (int)len : 1, len > 0 ? name : "-");
		/* A name comes from outside: nothing in it may forge a key or a line. */
		for (c = label + strcspn(label, " ") + 6; *c != '\0'; c++)
			if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
			    !(*c >= '0' && *c <= '9') && strchr("._@-", *c) == NULL)
				*c = '_';
		fd = LISTENER_FDS_START + i;
		type = 0;
		tlen = sizeof(type);
		getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen);
		if ((type == SOCK_DGRAM ? listener_udp_take(udp, fd, label, err, errlen) :
		    listener_inherited_take(ls, fd, label, err, errlen)) < 0)
			return -1;
		if (name != NULL)
			name = name[len] == ':' ? name + len + 1 : NULL;
	}
	return 0;
}

/* "HOST:PORT", "udp:HOST:PORT" or "unix:PATH": a -l as the user wrote its address. */
static const char *
inherited_spec_text(const struct listen_spec *spec, char *buf, size_t len)
{
	if (spec->path != NULL)
		snprintf(buf, len, "unix:%s", spec->path);
	else
		snprintf(buf, len, "%s%s%s%s:%s", spec->udp ? "udp:" : "",
		    spec->host != NULL && strchr(spec->host, ':') != NULL ? "[" : "",
		    spec->host != NULL ? spec->host : "",
		    spec->host != NULL && strchr(spec->host, ':') != NULL ? "]" : "", spec->port);
	return buf;
}

/* Whether two IP addresses are one; port 0 in want matches any port. */
static bool
inherited_same(const struct sockaddr *want, const struct sockaddr *have)
{
	if (want->sa_family != have->sa_family || (net_port(want) != 0 &&
	    net_port(want) != net_port(have)))
		return false;
	if (want->sa_family == AF_INET)
		return ((const struct sockaddr_in *)want)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)have)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)want)->sin6_addr,
	    &((const struct sockaddr_in6 *)have)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* Whether spec (resolved now, as it would be bound; port 0: any port) names the listener. */
static bool
inherited_matches(const struct listener *l, const struct listen_spec *spec)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct addrinfo *ai, *a;
	bool found = false;

	if (spec->path != NULL)
		return l->local && strcmp(l->name + 5, spec->path) == 0;	/* "unix:PATH" */
	if (l->local || getsockname(l->fd, (struct sockaddr *)&ss, &len) < 0 ||
	    net_resolve(spec->host, spec->port, 1, AF_UNSPEC, &ai) != 0)
		return false;
	for (a = ai; a != NULL && !found; a = a->ai_next)
		found = inherited_same(a->ai_addr, (struct sockaddr *)&ss);
	freeaddrinfo(ai);
	return found;
}

/* The -l of this kind (udp: or not) that names no socket, or that names one already named. */
static int
inherited_match_specs(const struct listeners *ls, bool udp, const struct listen_spec *specs,
    size_t n, int *match, char *err, size_t errlen)
{
	char text[LISTENER_NAME_MAX + 8], other[LISTENER_NAME_MAX + 8];
	size_t i, j;
	bool named;

	for (j = 0; j < n; j++) {
		if (specs[j].udp != udp)
			continue;
		for (i = 0, named = false; i < ls->n; i++) {
			if (!inherited_matches(&ls->v[i], &specs[j]))
				continue;
			if (match[i] >= 0 && match[i] != (int)j) {
				snprintf(err, errlen, "-l %s and -l %s both name the socket %s (%s): one -l a "
				    "socket", inherited_spec_text(&specs[match[i]], other, sizeof(other)),
				    inherited_spec_text(&specs[j], text, sizeof(text)), ls->v[i].name,
				    ls->v[i].label);
				return -1;
			}
			match[i] = (int)j;
			named = true;
		}
		if (!named) {
			snprintf(err, errlen, "-l %s cannot take effect: it names none of the sockets "
			    "handed over (%s %s%s): these are the listeners, and -l says how to serve them",
			    inherited_spec_text(&specs[j], text, sizeof(text)), ls->n > 0 ? ls->v[0].name :
			    "none", ls->n > 0 ? ls->v[0].label : "", ls->n > 1 ? ", ..." : "");
			return -1;
		}
	}
	return 0;
}

int
listener_inherited_match(const struct listeners *ls, bool udp, const struct listen_spec *specs,
    size_t n, int *match, char *err, size_t errlen)
{
	size_t i, given = 0;

	for (i = 0; i < ls->n; i++)
		match[i] = -1;
	for (i = 0; i < n; i++)
		given += specs[i].udp == udp;
	if (given == 0)
		return 0;	/* no -l of this kind: every socket as it is */
	if (inherited_match_specs(ls, udp, specs, n, match, err, errlen) < 0)
		return -1;
	for (i = 0; i < ls->n; i++)
		if (match[i] >= 0 && sockopt_check(&specs[match[i]].so, udp ? SOCKOPT_AT_UDP_TAKEN :
		    SOCKOPT_AT_TAKEN, err, errlen) < 0)
			return -1;	/* freebind on a socket bound already */
	for (i = 0; i < ls->n; i++)
		if (match[i] < 0) {
			snprintf(err, errlen, "the socket handed over as %s (%s) is named by no -l: with -l "
			    "given, each socket handed over needs one that says how to serve it",
			    ls->v[i].name, ls->v[i].label);
			return -1;
		}
	return 0;
}

int
listener_inherited_reuseport(const struct listeners *ls, char *err, size_t errlen)
{
	int on = 0;
	socklen_t len = sizeof(on);
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (getsockopt(ls->v[i].fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) < 0 || !on) {
			snprintf(err, errlen, "--reuseport cannot take effect: the socket handed over as %s "
			    "(%s) was bound without SO_REUSEPORT (ReusePort=yes in a socket unit; "
			    "--reuseport in the server an upgrade replaces)", ls->v[i].name, ls->v[i].label);
			return -1;
		}
	return 0;
}

int
listener_inherited_sockopts(struct listeners *ls, const struct listen_spec *specs,
    const int *match, char *err, size_t errlen)
{
	char why[160];
	size_t i;

	for (i = 0; i < ls->n; i++) {
		if (match[i] < 0)
			continue;
		if (sockopt_apply(ls->v[i].fd, &specs[match[i]].so, SOCKOPT_AT_TAKEN, why,
		    sizeof(why)) < 0) {
			snprintf(err, errlen, "cannot give the socket handed over as %s (%s) its %s",
			    ls->v[i].name, ls->v[i].label, why);
			return -1;
		}
		ls->v[i].so = specs[match[i]].so;	/* for connections queued before now */
	}
	return 0;
}

int
listener_inherited_apply(struct listeners *ls, const struct listen_spec *specs, const int *match,
    const struct listen_params *lp, char *err, size_t errlen)
{
	struct listener *l;
	size_t i;

	if (listener_inherited_sockopts(ls, specs, match, err, errlen) < 0)
		return -1;
	for (i = 0; i < ls->n; i++) {
		l = &ls->v[i];
		if (match[i] >= 0) {
			l->proxy = specs[match[i]].proxy;
			l->tls = specs[match[i]].tls;
			l->deferred = specs[match[i]].deferred;
		}
		/* listen() again on a listening socket sets its backlog: --backlog takes effect */
		if ((lp->backlog > 0 && listen(l->fd, lp->backlog) < 0) ||
		    (l->local && lp->socket_mode >= 0 && sockfile_chmod(l->name + 5, lp->socket_mode) < 0)) {
			log_errtext(err, errlen, "cannot give the socket handed over as %s (%s) its %s",
			    l->name, l->label, lp->backlog > 0 && !l->local ? "--backlog" : "options");
			return -1;
		}
	}
	return 0;
}
