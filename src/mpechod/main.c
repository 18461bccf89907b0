/* mpechod: the multi-process TCP echo server. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "privs.h"
#include "server.h"
#include "service.h"

struct listeners {
	struct listener *v;
	size_t n;
};

static void
listeners_close(struct listeners *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].fd >= 0)
			close(ls->v[i].fd);
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
}

/* Bind one address; record it under its real name (the port the kernel chose for port 0). */
static int
listeners_add(struct listeners *ls, const struct sockaddr *sa, socklen_t len,
    const struct config *cfg, int v6only)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	struct listener *v;
	char name[NET_ADDRSTRLEN];
	int fd;

	fd = net_listen(sa, len, cfg->backlog, v6only);
	if (fd < 0) {
		log_plain("cannot listen on %s: %s", net_format(sa, name, sizeof(name)),
		    strerror(errno));
		return -1;
	}
	v = realloc(ls->v, (ls->n + 1) * sizeof(*v));
	if (v == NULL) {
		close(fd);
		log_plain("out of memory");
		return -1;
	}
	ls->v = v;
	v[ls->n].fd = fd;
	if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
		net_format((struct sockaddr *)&bound, v[ls->n].name, sizeof(v[ls->n].name));
	else
		net_format(sa, v[ls->n].name, sizeof(v[ls->n].name));
	ls->n++;
	return 0;
}

/* All addresses: one dual-stack IPv6 socket where the system has IPv6, else IPv4. */
static int
listen_wildcard(struct listeners *ls, const char *port, const struct config *cfg)
{
	struct addrinfo *ai;
	int rc, gai;

	gai = net_resolve("::", port, 1, AF_INET6, &ai);
	if (gai == 0) {
		int fd = socket(AF_INET6, SOCK_STREAM, 0);

		if (fd >= 0) {
			close(fd);
			rc = listeners_add(ls, ai->ai_addr, ai->ai_addrlen, cfg, 0);
			freeaddrinfo(ai);
			return rc;
		}
		freeaddrinfo(ai);
	}
	gai = net_resolve("0.0.0.0", port, 1, AF_INET, &ai);
	if (gai != 0) {
		log_plain("cannot listen on port %s: %s", port, gai_strerror(gai));
		return -1;
	}
	rc = listeners_add(ls, ai->ai_addr, ai->ai_addrlen, cfg, 0);
	freeaddrinfo(ai);
	return rc;
}

static void
set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

/*
 * Every address a host name resolves to. With port 0, the first address picks
 * the port and the others take the same one, so one name gives one port.
 */
static int
listen_host(struct listeners *ls, const struct listen_spec *spec, const struct config *cfg)
{
	struct addrinfo *res, *ai, *prev;
	size_t first = ls->n;
	int gai, rc = 0;

	gai = net_resolve(spec->host, spec->port, 1, AF_UNSPEC, &res);
	if (gai != 0) {
		log_plain("cannot resolve '%s': %s", spec->host,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
		for (prev = res; prev != ai; prev = prev->ai_next)
			if (prev->ai_addrlen == ai->ai_addrlen &&
			    memcmp(prev->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
		if (prev != ai)
			continue;	/* the resolver listed this address twice */
		if (ls->n > first && net_port(ai->ai_addr) == 0) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);

			if (getsockname(ls->v[first].fd, (struct sockaddr *)&ss, &len) == 0)
				set_port(ai->ai_addr, net_port((struct sockaddr *)&ss));
		}
		rc = listeners_add(ls, ai->ai_addr, ai->ai_addrlen, cfg, 1);
	}
	freeaddrinfo(res);
	return rc;
}

static int
listeners_open(struct listeners *ls, const struct config *cfg)
{
	size_t i;
	int rc;

	if (cfg->nlistens == 0)
		return listen_wildcard(ls, MPECHO_DEFAULT_PORT, cfg);
	for (i = 0; i < cfg->nlistens; i++) {
		if (cfg->listens[i].host == NULL)
			rc = listen_wildcard(ls, cfg->listens[i].port, cfg);
		else
			rc = listen_host(ls, &cfg->listens[i], cfg);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The pidfile is taken before anything else can fail late: a second instance stops here. */
static int
take_pidfile(const struct config *cfg, struct pidfile *pf)
{
	pid_t holder;

	if (pidfile_open(cfg->pidfile, pf, &holder) == 0)
		return 0;
	if (errno == EWOULDBLOCK && holder > 0)
		log_plain("already running as pid %ld (pidfile %s is locked)", (long)holder, cfg->pidfile);
	else if (errno == EWOULDBLOCK)
		log_plain("pidfile %s is locked by another process", cfg->pidfile);
	else
		log_plain("cannot open the pidfile %s: %s", cfg->pidfile, strerror(errno));
	return -1;
}

int
main(int argc, char **argv)
{
	struct listeners ls = { NULL, 0 };
	struct pidfile pidfile = { -1, NULL };
	struct server_env env = { NULL, 0, NULL, -1 };
	struct config cfg;
	char err[512];
	int rc = EXIT_FAIL;

	/* 1. Read the command line. */
	log_init("mpechod", LOG_LVL_INFO);
	switch (options_parse(&cfg, argc, argv, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_usage(), stdout);
		options_free(&cfg);
		return EXIT_OK;
	case OPTIONS_VERSION:
		printf("mpechod %s\n", MPECHO_VERSION);
		options_free(&cfg);
		return EXIT_OK;
	case OPTIONS_ERROR:
		options_free(&cfg);
		log_die(EXIT_USAGE, "%s (see mpechod --help)", err);
	case OPTIONS_RUN:
		break;
	}
	log_init("mpechod", cfg.log_level);

	/* 2. A peer that goes away must never kill a process: writes report EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);

	/* 3. Resolve the user sessions run as, and open the log. */
	if (cfg.user != NULL && privs_lookup(cfg.user, &cfg.privs, err, sizeof(err)) < 0) {
		log_plain("%s", err);
		goto out;
	}
	if (cfg.log_target != LOG_TO_STDERR && log_open(cfg.log_target, cfg.log_path) < 0) {
		log_plain("cannot open the log file %s: %s", cfg.log_path, strerror(errno));
		goto out;
	}

	/* 4. Take the pidfile, then open every listener; any failure ends the start here. */
	if (cfg.pidfile != NULL) {
		if (take_pidfile(&cfg, &pidfile) < 0)
			goto out;
		env.pidfile = &pidfile;
	}
	if (listeners_open(&ls, &cfg) < 0)
		goto out;
	env.ls = ls.v;
	env.nls = ls.n;

	/* 5. Detach: the foreground process stays until the daemon reports ready or failed. */
	if (cfg.daemonize && (env.ready_fd = daemon_start("mpechod")) < 0) {
		log_plain("cannot become a daemon: %s", strerror(errno));
		goto out;
	}

	/* 6. Serve until told to stop; the supervisor logs readiness once it is set up. */
	rc = server_run(&cfg, &env);
out:
	pidfile_remove(&pidfile);	/* a failed start leaves no pidfile; after a run it is gone already */
	listeners_close(&ls);
	log_close();
	options_free(&cfg);
	return rc;
}
