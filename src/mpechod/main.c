/* main: mpechod's life in six steps: options, signals, user and log, listeners, detach, serve. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "inetd.h"
#include "listener.h"
#include "listener_inherited.h"
#include "listener_tcp.h"
#include "listener_udp.h"
#include "log.h"
#include "lookup.h"
#include "mem.h"
#include "options.h"
#include "pidfile.h"
#include "privs.h"
#include "rules.h"
#include "sandbox.h"
#include "supervisor.h"
#include "tls_server.h"
#include "upgrade.h"

/* Step 1: the command line. --help, --version and usage errors end the program here. */
static void
main_options(struct config *cfg, int argc, char **argv)
{
	char err[512];

	log_init("mpechod", LOG_LVL_INFO);
	switch (options_parse(cfg, argc, argv, err, sizeof(err))) {
	case OPTIONS_RUN:
		log_init("mpechod", cfg->log_level);
		log_set_json(cfg->log_json);
		return;
	case OPTIONS_HELP:
		fputs(options_usage(), stdout);
		break;
	case OPTIONS_VERSION:
		printf("mpechod %s\n", MPECHO_VERSION);
		break;
	case OPTIONS_ERROR:
		options_free(cfg);
		fatalx(EXIT_USAGE, "%s (see mpechod --help)", err);
	}
	options_free(cfg);
	exit(EXIT_OK);
}

/*
 * Step 2: neither a peer that goes away nor a log over the size limit kills
 * (EPIPE, EFBIG); the sandbox (no_new_privs, the seccomp filter: sandbox.h)
 * holds from here, for every process. 0, or -1 once the reason is printed.
 */
static int
main_guard(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if (sandbox_enter() == 0)
		return 0;
	log_warn("cannot enter the sandbox (no_new_privs, seccomp)");
	return -1;
}

/*
 * -u needs the power to change user. Without it every session would fail to
 * become USER: refuse at start instead, unless USER is who runs already.
 */
static int
main_check_user(struct config *cfg)
{
	if (!cfg->privs.set || geteuid() == 0)
		return 0;
	if (cfg->privs.uid == geteuid() && cfg->privs.gid == getegid()) {
		privs_free(&cfg->privs);	/* already that user: nothing to drop */
		return 0;
	}
	log_warnx("cannot run sessions as '%s': only root can change user (mpechod runs as uid %ld)",
	    cfg->privs.name, (long)geteuid());
	return -1;
}

/* Under inetd the client's socket is often stderr too: log lines must never reach the client. */
static void
main_inetd_log(struct config *cfg)
{
	struct stat err;

	if (cfg->inetd && cfg->log_target == LOG_TO_STDERR && fstat(STDERR_FILENO, &err) == 0 &&
	    S_ISSOCK(err.st_mode))
		cfg->log_target = LOG_TO_SYSLOG;
}

/* Step 3: the user sessions run as, and the log target. 0, or -1 once the reason is printed. */
static int
main_user_and_log(struct config *cfg)
{
	char err[512];

	if (cfg->user != NULL && privs_lookup(cfg->user, &cfg->privs, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	if (main_check_user(cfg) < 0)
		return -1;
	main_inetd_log(cfg);
	if (cfg->log_target != LOG_TO_STDERR && log_open(cfg->log_target, cfg->log_path) < 0) {
		if (cfg->log_target == LOG_TO_SYSLOG)
			log_warnx("cannot log to syslog: /dev/log: %s (give --log FILE)", strerror(errno));
		else
			log_warnx("cannot open the log file %s: %s", cfg->log_path, log_strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The TLS credentials, read now, while the server may still read a key only
 * root can: sessions inherit them; env->tls points to them once loaded. 0
 * (also when no listener speaks TLS), or -1 once the reason is printed.
 */
static int
main_tls(const struct config *cfg, struct tls_server *tls, struct supervisor_env *env)
{
	char err[600], what[400];

	if (cfg->tls_cert == NULL) {
		/* no child will speak TLS: fork() need not copy OpenSSL's mappings */
		mem_dontfork_library("libssl.so");
		mem_dontfork_library("libcrypto.so");
		return 0;
	}
	*tls = (struct tls_server){ .cert = cfg->tls_cert, .key = cfg->tls_key,
	    .timeout_ms = cfg->tls_timeout * 1000 };
	if (tls_server_load(tls, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	log_msg(LOG_LVL_NOTICE, "event=tls-loaded cert=%s %s", log_qf("%s", cfg->tls_cert),
	    tls_server_describe(tls, what, sizeof(what)));
	env->tls = tls;
	return 0;
}

/*
 * The --rules file, read now, while the server may still read a file only
 * root can (the supervisor asks its privileged process for it on SIGHUP);
 * env->rules holds them.
 * 0 (also without --rules), or -1 once the reason is printed.
 */
static int
main_rules(const struct config *cfg, struct supervisor_env *env)
{
	struct rules *file = &env->rules;
	struct rules_error err;
	char msg[sizeof(err.what) + 4200];
	size_t i, allow = 0;
	int fd;

	if (cfg->rules == NULL)
		return 0;
	if ((fd = rules_open(cfg->rules)) < 0) {
		log_warn("cannot open the rules file %s", cfg->rules);
		return -1;
	}
	if (rules_read(fd, &cfg->acl, file, &err) < 0) {
		log_warnx("bad rules file: %s", rules_describe(cfg->rules, &err, msg, sizeof(msg)));
		return -1;
	}
	for (i = 0; i < file->acl.n; i++)
		allow += file->acl.rules[i].allow;
	log_msg(LOG_LVL_NOTICE, "event=rules-loaded file=%s allow=%zu deny=%zu",
	    log_qf("%s", cfg->rules), allow, file->acl.n - allow);
	return 0;
}

/* The pidfile is taken before anything else can fail late: a second instance stops here. */
static int
main_pidfile(const struct config *cfg, struct pidfile *pf)
{
	pid_t holder;

	if (pidfile_open(cfg->pidfile, pf, &holder) == 0)
		return 0;
	if (errno == EWOULDBLOCK && holder > 0)
		log_warnx("already running as pid %ld (pidfile %s is locked)", (long)holder, cfg->pidfile);
	else if (errno == EWOULDBLOCK)
		log_warnx("pidfile %s is locked by another process", cfg->pidfile);
	else if (errno == EPERM)
		log_warnx("cannot use the pidfile %s: it must be a regular file owned by uid %ld",
		    cfg->pidfile, (long)geteuid());
	else
		log_warn("cannot open the pidfile %s", cfg->pidfile);
	return -1;
}

/* How a listener is opened here, from the command line. */
static struct listen_params
main_listen_params(const struct config *cfg)
{
	return (struct listen_params){ .backlog = cfg->backlog, .reuseport = cfg->reuseport,
	    .socket_mode = cfg->socket_mode, .owner_set = cfg->user != NULL && geteuid() == 0,
	    .owner = cfg->privs.uid, .group = cfg->privs.gid };
}

/*
 * The listeners: handed over by a service manager (systemd's LISTEN_FDS, or
 * inetd's listening standard input), else bound here. 1 when they were
 * handed over, 0 when bound here, or -1 with err.
 */
static int
main_listeners(const struct config *cfg, struct listeners *ls, struct listeners *udp, char *err,
    size_t errlen)
{
	struct listen_params lp = main_listen_params(cfg);
	char *names;
	int n = listener_inherited_count(&names, err, errlen), rc;

	if (n < 0)
		return -1;
	if (cfg->inetd) {
		if ((rc = listener_inherited_take(ls, STDIN_FILENO, "fd=0 inetd=wait", err, errlen)) == 0)
			ls->v[0].tls = cfg->tls_cert != NULL;	/* -i: TLS when the files are given */
	} else if (n > 0) {
		rc = listener_inherited_open(ls, udp, n, names, err, errlen);
	} else if ((rc = listeners_open(ls, cfg->listens, cfg->nlistens, &lp, err, errlen)) == 0) {
		rc = listener_udp_open(udp, cfg->listens, cfg->nlistens,
		    cfg->reuseport || cfg->upgrade_socket != NULL, err, errlen);
	}
	free(names);
	return rc < 0 ? -1 : cfg->inetd || n > 0;
}

/*
 * Sockets handed over are served as the -l that names each says (udp: ones
 * too, under socket activation), with --backlog and --socket-mode when given.
 * 0, or an exit status once the reason is printed: EXIT_USAGE for an option
 * that cannot take effect on them.
 */
static int
main_taken(const struct config *cfg, struct supervisor_env *env, bool with_udp)
{
	struct listen_params lp = { .backlog = cfg->given[OPT_BACKLOG] ? cfg->backlog : 0,
	    .socket_mode = cfg->socket_mode };
	int *match = calloc(env->ls->n + env->udp->n + 1, sizeof(*match)), rc = EXIT_USAGE;
	char err[768];

	if (match == NULL) {
		log_warnx("out of memory");
		return EXIT_FAIL;
	}
	if (listener_inherited_match(env->ls, false, cfg->listens, cfg->nlistens, match, err,
	    sizeof(err)) < 0 || (cfg->reuseport && listener_inherited_reuseport(env->ls, err,
	    sizeof(err)) < 0))
		goto out;
	rc = EXIT_FAIL;
	if (listener_inherited_apply(env->ls, cfg->listens, match, &lp, err, sizeof(err)) < 0)
		goto out;
	rc = EXIT_USAGE;
	if (with_udp && (listener_inherited_match(env->udp, true, cfg->listens, cfg->nlistens, match,
	    err, sizeof(err)) < 0 || (cfg->reuseport && listener_inherited_reuseport(env->udp, err,
	    sizeof(err)) < 0)))
		goto out;
	rc = EXIT_FAIL;
	if (with_udp && listener_inherited_sockopts(env->udp, cfg->listens, match, err, sizeof(err)) < 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		log_warnx("%s", err);
	free(match);
	return rc;
}

/* What the open listeners serve: the options must take effect on them. 0 or EXIT_USAGE. */
static int
main_scene(const struct config *cfg, const struct listeners *ls, const struct listeners *udp)
{
	struct options_scene sc = { .listening = true, .stream = ls->n > 0, .udp = udp->n > 0 };
	char err[512];
	size_t i;

	for (i = 0; i < ls->n; i++) {
		sc.proxy |= ls->v[i].proxy;
		sc.tls |= ls->v[i].tls;
		sc.local |= ls->v[i].local;
	}
	if (options_effect_check(cfg, &sc, err, sizeof(err)) == 0)
		return 0;
	log_warnx("%s (see mpechod --help)", err);
	return EXIT_USAGE;
}

/*
 * An endpoint of the server's own (--metrics, --agent): the socket a
 * predecessor handed over if it listens at addr (noted in env->handed), else
 * one bound now. Its fd, or -1 with err.
 */
static int
main_endpoint(struct supervisor_env *env, struct upgrade_extras *x, const char *name,
    const char *addr, int backlog, char *err, size_t errlen)
{
	char option[UPGRADE_NAME_MAX + 2];
	size_t at = strlen(env->handed);
	int fd = upgrade_claim(x, name);

	if (fd >= 0 && listener_tcp_is(fd, addr)) {
		snprintf(env->handed + at, sizeof(env->handed) - at, "%s%s", at > 0 ? "," : "", name);
		return fd;
	}
	if (fd >= 0)
		close(fd);	/* the new options name another address */
	snprintf(option, sizeof(option), "--%s", name);
	return listener_tcp_one(option, addr, backlog, err, errlen);
}

/* Step 4: the pidfile, then every listener and endpoint. 0, or an exit status once the reason is printed. */
static int
main_bind(const struct config *cfg, struct supervisor_env *env)
{
	struct upgrade_extras x = { .n = 0 };
	char err[512];
	int taken = 0, rc = 0;

	/* A successor takes the running server's listeners first: that frees the pidfile's name. */
	if (cfg->upgrade_socket != NULL && (taken = upgrade_take(cfg->upgrade_socket, env->ls, &x,
	    &env->upgrade_conn, &env->upgrade_from, err, sizeof(err))) < 0)
		goto failed;
	if (env->pidfile != NULL && main_pidfile(cfg, env->pidfile) < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	/* a successor binds the UDP ports beside its predecessor: they are not handed over */
	if ((!taken && (rc = main_listeners(cfg, env->ls, env->udp, err, sizeof(err))) < 0) ||
	    (taken && listener_udp_open(env->udp, cfg->listens, cfg->nlistens, true, err,
	    sizeof(err)) < 0))
		goto failed;
	if (((taken || rc == 1) && (rc = main_taken(cfg, env, !taken)) != 0) ||
	    (rc = main_scene(cfg, env->ls, env->udp)) != 0)
		goto out;
	if ((cfg->metrics != NULL && (env->metrics_fd = main_endpoint(env, &x, "metrics", cfg->metrics,
	    1024, err, sizeof(err))) < 0) || (cfg->agent != NULL && (env->agent_fd =
	    main_endpoint(env, &x, "agent", cfg->agent, 64, err, sizeof(err))) < 0))
		goto failed;
	goto out;
failed:
	log_warnx("%s", err);
	rc = EXIT_FAIL;
out:
	upgrade_extras_close(&x);	/* what the new options do without */
	return rc;
}

/* -i with a connection on standard input: one session, no listener. 0 or EXIT_USAGE. */
static int
main_inetd_scene(const struct config *cfg)
{
	struct options_scene sc = { .listening = false, .stream = true,
	    .tls = cfg->tls_cert != NULL };
	char err[512];

	if (options_effect_check(cfg, &sc, err, sizeof(err)) == 0)
		return 0;
	log_warnx("%s (see mpechod --help)", err);
	return EXIT_USAGE;
}

/*
 * inetd "nowait": the connection is standard input. Serve it here and leave
 * with its end status; standard output and error, the same socket, go to
 * /dev/null first so that nothing but echo reaches the client. Returns only
 * when it cannot serve (said on stderr): EXIT_FAIL when standard input is no
 * stream socket, EXIT_USAGE for an option that cannot take effect on one session.
 */
static int
main_inetd(struct config *cfg, struct tls_server *tls, struct rules *file)
{
	size_t i;
	int null, rc;

	if (inetd_classify(STDIN_FILENO) == INETD_OTHER) {
		log_warnx("-i: standard input is not a stream socket");
		return EXIT_FAIL;
	}
	if (main_inetd_scene(cfg) != 0)
		return EXIT_USAGE;
	for (i = 0; i < file->acl.n; i++)	/* one session: the file's rules join the command line's */
		if (acl_add(&cfg->acl, &file->acl.rules[i]) < 0) {
			log_warnx("out of memory");
			return EXIT_FAIL;
		}
	rules_free(file);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		if (cfg->log_target != LOG_TO_STDERR)
			dup2(null, STDERR_FILENO);
		close(null);
	}
	tls->forget_keys = true;	/* one session: its keys go after its handshake */
	rc = inetd_serve(cfg, tls->ctx != NULL ? tls : NULL, STDIN_FILENO);
	tls_server_free(tls);
	log_close();
	options_free(cfg);
	exit(rc);
}

int
main(int argc, char **argv)
{
	struct listeners ls = { NULL, 0 }, udp = { NULL, 0 };
	struct pidfile pidfile = { -1, NULL };
	struct tls_server tls = { .ctx = NULL };
	struct supervisor_env env = { .ls = &ls, .udp = &udp, .pidfile = NULL, .ready_fd = -1,
	    .upgrade_conn = -1, .metrics_fd = -1, .agent_fd = -1 };
	struct config cfg;
	int rc = EXIT_FAIL;

	/* 1. Read the command line (any name in it is looked up as the build allows). */
	lookup_init();
	main_options(&cfg, argc, argv);
	env.pidfile = cfg.pidfile != NULL ? &pidfile : NULL;

	/* 2. Signals that must not kill, and the sandbox every process of the server inherits. */
	if (main_guard() < 0)
		goto out;

	/* 3. Resolve the user sessions run as, open the log, load the TLS credentials and the rules. */
	if (main_user_and_log(&cfg) < 0 || main_tls(&cfg, &tls, &env) < 0 || main_rules(&cfg, &env) < 0)
		goto out;

	/* 4. -i with a connection on standard input: serve it now; else the pidfile, the listeners. */
	if (cfg.inetd && inetd_classify(STDIN_FILENO) != INETD_LISTENING) {
		rc = main_inetd(&cfg, &tls, &env.rules);	/* returns only if it cannot serve */
		goto out;
	}
	if ((rc = main_bind(&cfg, &env)) != 0)
		goto out;
	rc = EXIT_FAIL;

	/* 5. Detach: the foreground process stays until the daemon reports ready or failed. */
	if (cfg.daemonize && (env.ready_fd = daemon_start()) < 0) {
		log_warn("cannot become a daemon");
		goto out;
	}

	/* 6. Serve until told to stop; the supervisor logs readiness once it is set up. */
	rc = supervisor_run(&cfg, &env);
out:
	pidfile_remove(&pidfile);	/* a failed start leaves no pidfile; after a run it is gone already */
	listeners_free(&ls);
	listeners_free(&udp);
	tls_server_free(&tls);
	rules_free(&env.rules);
	log_close();
	options_free(&cfg);
	return rc;
}
