/* listener_inherited: taking over listening sockets from systemd or inetd. */
#include "listener_inherited.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "listener_udp.h"
#include "number.h"

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
		snprintf(err, errlen, "descriptor %d (%s): %s", fd, label, strerror(errno));
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

/* Whether spec's address (resolved now, as it would be bound) is the listener's. */
static bool
inherited_matches(const struct listener *l, const struct listen_spec *spec)
{
	char name[NET_ADDRSTRLEN];
	struct addrinfo *ai, *a;
	bool found = false;

	if (spec->port == NULL || net_resolve(spec->host, spec->port, 1, AF_UNSPEC, &ai) != 0)
		return false;
	for (a = ai; a != NULL && !found; a = a->ai_next)
		found = strcmp(net_format(a->ai_addr, name, sizeof(name)), l->name) == 0;
	freeaddrinfo(ai);
	return found;
}

void
listener_inherited_options(struct listeners *ls, const struct listen_spec *specs, size_t n)
{
	size_t i, j;

	for (i = 0; i < ls->n; i++)
		for (j = 0; j < n && ls->v[i].label[0] != '\0'; j++)
			if ((specs[j].proxy || specs[j].tls || specs[j].deferred) &&
			    inherited_matches(&ls->v[i], &specs[j])) {
				ls->v[i].proxy = specs[j].proxy;
				ls->v[i].tls = specs[j].tls;
				ls->v[i].deferred = specs[j].deferred;
			}
}
