/* listener: parse, open, tune, stop and accept on the listening sockets. */
#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener_tcp.h"
#include "listener_unix.h"
#include "log.h"
#include "mpecho.h"
#include "number.h"

/* "FIRST-LAST": port becomes FIRST, ports the number of ports. 0, or -1 with err. */
static int
listener_range(struct listen_spec *out, char *err, size_t errlen)
{
	char *dash = strchr(out->port, '-');
	long first, last;

	*dash = '\0';
	if (number_parse(out->port, 1, 65535, &first) < 0 || number_parse(dash + 1, 1, 65535, &last) < 0) {
		*dash = '-';
		snprintf(err, errlen, "invalid port range '%s': expected FIRST-LAST, two numbers from 1 "
		    "to 65535", out->port);
		return -1;
	}
	if (first > last) {
		snprintf(err, errlen, "invalid port range '%ld-%ld': the first port is above the last",
		    first, last);
		return -1;
	}
	if (last - first >= LISTENER_RANGE_MAX) {
		snprintf(err, errlen, "invalid port range '%ld-%ld': %ld ports, at most %d", first, last,
		    last - first + 1, LISTENER_RANGE_MAX);
		return -1;
	}
	out->ports = (int)(last - first + 1);
	return 0;
}

/* The port must be a number, a known service name, or a range; the spec is released if not. */
static int
listener_check_port(struct listen_spec *out, char *err, size_t errlen)
{
	/* a range starts with a digit: a service name may hold a dash (http-alt) */
	bool range = out->port[0] >= '0' && out->port[0] <= '9' && strchr(out->port, '-') != NULL;

	out->ports = 1;
	if (range ? listener_range(out, err, errlen) == 0 : net_check_port(out->port) == 0)
		return 0;
	if (!range)
		snprintf(err, errlen, "invalid port '%s': expected a number from 0 to 65535", out->port);
	listener_spec_free(out);
	return -1;
}

int
listener_spec_port(const struct listen_spec *range, int i, struct listen_spec *out, char *err,
    size_t errlen)
{
	*out = *range;
	out->ports = 1;
	out->host = out->path = NULL;
	if ((range->host != NULL && (out->host = strdup(range->host)) == NULL) ||
	    asprintf(&out->port, "%ld", strtol(range->port, NULL, 10) + i) < 0) {
		free(out->host);
		out->host = out->port = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The option of n bytes at opt that is no socket option: ",proxy", ",tls", ",deferred". 0 or -1. */
static int
listener_flag(const char *opt, size_t n, const char *text, struct listen_spec *out, char *err,
    size_t errlen)
{
	if (out->udp) {
		snprintf(err, errlen, "unknown option '%.*s' for listener '%s': a udp: listener "
		    "takes socket options only (rcvbuf, sndbuf, tos, mark, device, freebind, "
		    "transparent)", (int)n, opt, text);
		return -1;
	}
	if (n == 5 && strncmp(opt, "proxy", 5) == 0) {
		out->proxy = true;
	} else if (n == 3 && strncmp(opt, "tls", 3) == 0) {
		out->tls = true;
	} else if (n == 8 && strncmp(opt, "deferred", 8) == 0) {
		out->deferred = true;
	} else {
		snprintf(err, errlen, "unknown option '%.*s' for listener '%s': expected proxy, tls, "
		    "deferred or a socket option (keepalive, user-timeout, rcvbuf, sndbuf, tos, "
		    "mark, device, freebind, transparent, fastopen, mss)", (int)n, opt, text);
		return -1;
	}
	return 0;
}

/*
 * The options after a listener's address: the socket options (sockopt.h)
 * and ",proxy", ",tls", ",deferred"; udp: takes socket options only. 0, or -1 with err.
 */
static int
listener_options(const char *opts, const char *text, struct listen_spec *out, char *err,
    size_t errlen)
{
	size_t n;
	int rc;

	while (*opts != '\0') {
		n = strcspn(opts, ",");
		if (n == 0) {
			snprintf(err, errlen, "empty option in listener '%s'", text);
			return -1;
		}
		if ((rc = sockopt_parse(opts, n, &out->so, err, errlen)) < 0 ||
		    (rc == 0 && listener_flag(opts, n, text, out, err, errlen) < 0))
			return -1;
		opts += n + (opts[n] == ',');
	}
	return 0;
}

/* "unix:PATH": the path, made absolute (a daemon works from /). 0, or -1 with err. */
static int
listener_parse_unix(const char *text, struct listen_spec *out, char *err, size_t errlen)
{
	const char *path = text + 5, *opt = strchr(path, ',');
	struct sockopts so = { .set = 0 };
	char cwd[4096];

	if (opt != NULL && sockopt_parse(opt + 1, strcspn(opt + 1, ","), &so, cwd, sizeof(cwd)) == 1) {
		snprintf(err, errlen, "socket option %.*s cannot take effect on a unix: listener: a "
		    "Unix-domain socket takes none", (int)strcspn(opt + 1, ","), opt + 1);
		return -1;
	}
	if (path[0] == '\0' || opt != NULL) {
		snprintf(err, errlen, "invalid listen address '%s': expected unix:PATH (no options)", text);
		return -1;
	}
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
		log_errtext(err, errlen, "cannot make '%s' absolute", path);
		return -1;
	}
	if (path[0] == '/')
		out->path = strdup(path);
	else if (asprintf(&out->path, "%s/%s", cwd, path) < 0)
		out->path = NULL;
	if (out->path == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* "udp:HOST:PORT", "udp:[IPv6]:PORT" or "udp::PORT", then socket options. 0, or -1 with err. */
static int
listener_parse_udp(const char *text, struct listen_spec *out, char *err, size_t errlen)
{
	size_t alen = strcspn(text, ",");
	char addr[512];

	out->udp = true;
	if (alen < sizeof(addr)) {
		memcpy(addr, text + 4, alen - 4);
		addr[alen - 4] = '\0';
	}
	if (alen >= sizeof(addr) || text[strlen(text) - 1] == ',' ||
	    net_split_hostport(addr, &out->host, &out->port) < 0) {
		snprintf(err, errlen, "invalid listen address '%s': expected udp:HOST:PORT, "
		    "udp:[IPv6]:PORT or udp::PORT, then socket options (,rcvbuf=BYTES...)", text);
		listener_spec_free(out);
		return -1;
	}
	if (text[alen] == ',' && (listener_options(text + alen + 1, text, out, err, errlen) < 0 ||
	    sockopt_check(&out->so, SOCKOPT_AT_UDP, err, errlen) < 0)) {
		listener_spec_free(out);
		return -1;
	}
	return listener_check_port(out, err, errlen);
}

int
listener_parse(const char *text, struct listen_spec *out, char *err, size_t errlen)
{
	size_t alen = strcspn(text, ",");
	char addr[512];

	memset(out, 0, sizeof(*out));
	out->ports = 1;
	if (strncmp(text, "unix:", 5) == 0)
		return listener_parse_unix(text, out, err, errlen);
	if (strncmp(text, "udp:", 4) == 0)
		return listener_parse_udp(text, out, err, errlen);
	if (alen >= sizeof(addr) || (text[alen] == ',' && text[strlen(text) - 1] == ',')) {
		snprintf(err, errlen, "invalid listen address '%s': "
		    "expected HOST:PORT[,proxy][,tls][,deferred]", text);
		return -1;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (text[alen] == ',' && listener_options(text + alen + 1, text, out, err, errlen) < 0)
		return -1;
	if (net_split_hostport(addr, &out->host, &out->port) < 0) {
		if (errno == ENOMEM)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "invalid listen address '%s': expected HOST:PORT, "
			    "[IPv6]:PORT or :PORT (PORT may be FIRST-LAST)", text);
		return -1;
	}
	return listener_check_port(out, err, errlen);
}

int
listener_parse_pair(const char *host, const char *port, struct listen_spec *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if ((host != NULL && (out->host = strdup(host)) == NULL) ||
	    (out->port = strdup(port)) == NULL) {
		listener_spec_free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return listener_check_port(out, err, errlen);
}

void
listener_spec_free(struct listen_spec *spec)
{
	free(spec->host);
	free(spec->port);
	free(spec->path);
	spec->host = spec->port = spec->path = NULL;
}

int
listeners_append(struct listeners *ls, int fd)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
	socklen_t len = sizeof(ss);
	struct listener *v = realloc(ls->v, (ls->n + 1) * sizeof(*v));

	if (v == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	ls->v = v;
	v[ls->n].fd = fd;
	v[ls->n].label[0] = '\0';
	v[ls->n].proxy = v[ls->n].tls = v[ls->n].deferred = v[ls->n].file.set = false;
	v[ls->n].so = (struct sockopts){ .set = 0 };
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		net_format((struct sockaddr *)&ss, v[ls->n].name, sizeof(v[ls->n].name));
	else
		snprintf(v[ls->n].name, sizeof(v[ls->n].name), "?");
	v[ls->n].local = ss.ss_family == AF_UNIX;
	ls->n++;
	return 0;
}

int
listener_wildcard(const char *port, struct addrinfo **ai)
{
	int fd;

	if (net_resolve("::", port, 1, AF_INET6, ai) == 0) {
		if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) >= 0) {
			close(fd);
			return 0;
		}
		freeaddrinfo(*ai);
	}
	return net_resolve("0.0.0.0", port, 1, AF_INET, ai);
}

int
listeners_open(struct listeners *ls, const struct listen_spec *specs, size_t n,
    const struct listen_params *lp, char *err, size_t errlen)
{
	const struct listen_spec dflt = { .port = (char *)MPECHO_DEFAULT_PORT };
	size_t i;

	if (n == 0) {
		specs = &dflt;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		size_t first = ls->n, j;

		if (specs[i].udp)
			continue;	/* listener_udp.c's */
		if ((specs[i].path != NULL ? listener_unix_open(ls, &specs[i], lp, err, errlen) :
		    listener_tcp_open(ls, &specs[i], lp, err, errlen)) < 0) {
			listeners_free(ls);
			return -1;
		}
		for (j = first; j < ls->n; j++) {
			ls->v[j].proxy = specs[i].proxy;
			ls->v[j].tls = specs[i].tls;
			ls->v[j].deferred = specs[i].deferred;
		}
	}
	return 0;
}

int
listeners_tune(const struct listeners *ls, int idle_timeout)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (net_set_timeouts(ls->v[i].fd, idle_timeout) < 0 || (!ls->v[i].local &&
		    (net_tune(ls->v[i].fd) < 0 ||
		    net_defer_accept(ls->v[i].fd, ls->v[i].deferred ? LISTENER_DEFER_SECS : 0) < 0)))
			return -1;
	return 0;
}

void
listeners_shutdown(struct listeners *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].fd >= 0)
			shutdown(ls->v[i].fd, SHUT_RD);
	listeners_close(ls);
}

void
listeners_remove_files(struct listeners *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		sockfile_remove(ls->v[i].name + 5, &ls->v[i].file);	/* "unix:PATH" (else none noted) */
}

void
listeners_close(struct listeners *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++) {
		if (ls->v[i].fd >= 0)
			close(ls->v[i].fd);
		ls->v[i].fd = -1;
	}
}

void
listeners_free(struct listeners *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].fd >= 0)
			sockfile_remove(ls->v[i].name + 5, &ls->v[i].file);	/* a failed start */
	listeners_close(ls);
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
}

/* A client on a Unix socket has no address: it is known by its credentials. */
static void
listener_local_peer(int fd, struct peer *p)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1 };
	socklen_t len = sizeof(cred);

	getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	p->addr.family = AF_UNIX;
	snprintf(p->name, sizeof(p->name), "unix");
	p->uid = (unsigned long)cred.uid;
	p->pid = (long)cred.pid;
}

int
listener_peer_of(int fd, const struct sockaddr *sa, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	if ((p->local = sa->sa_family == AF_UNIX)) {
		listener_local_peer(fd, p);
		return 0;
	}
	if (net_addr_of(sa, &p->addr) < 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	net_format(sa, p->name, sizeof(p->name));
	return 0;
}

int
listener_accept(const struct listener *l, struct peer *p, int flags)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | flags);
	char why[160];

	if (fd < 0)
		return -1;
	if (l->so.set != 0 && sockopt_apply(fd, &l->so, SOCKOPT_AT_ACCEPTED, why, sizeof(why)) < 0) {
		close(fd);	/* the listener took them: not this one's to refuse */
		errno = ECONNABORTED;
		return -1;
	}
	if (listener_peer_of(fd, (struct sockaddr *)&ss, p) < 0) {
		close(fd);	/* neither IP nor local: nothing to serve */
		errno = ECONNABORTED;
		return -1;
	}
	p->tls = l->tls;
	return fd;
}

bool
listener_transient(int err)
{
	switch (err) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EPERM:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return true;
	default:
		return false;
	}
}
