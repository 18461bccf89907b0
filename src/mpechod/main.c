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
#include "pidfile.h"
#include "listener.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "privs.h"
#include "supervisor.h"
#include "service.h"

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
	struct supervisor_env env = { NULL, NULL, -1 };
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
	if (listeners_open(&ls, cfg.listens, cfg.nlistens, cfg.backlog, err, sizeof(err)) < 0) {
		log_plain("%s", err);
		goto out;
	}
	env.ls = &ls;

	/* 5. Detach: the foreground process stays until the daemon reports ready or failed. */
	if (cfg.daemonize && (env.ready_fd = daemon_start("mpechod")) < 0) {
		log_plain("cannot become a daemon: %s", strerror(errno));
		goto out;
	}

	/* 6. Serve until told to stop; the supervisor logs readiness once it is set up. */
	rc = supervisor_run(&cfg, &env);
out:
	pidfile_remove(&pidfile);	/* a failed start leaves no pidfile; after a run it is gone already */
	listeners_free(&ls);
	log_close();
	options_free(&cfg);
	return rc;
}
