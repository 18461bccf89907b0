/* options_check: the checks that take several options together, once all are read. */
#include "options.h"

#include <stdbool.h>

#include "service.h"

/*
 * Prefork pool sizes must make sense together, and within -c: the pool never
 * has more than -c workers, so a size given above it could not take effect.
 */
static int
options_check_model(struct config *cfg, char *err, size_t errlen)
{
	static const int sizes[] = { OPT_START, OPT_MIN_SPARE, OPT_MAX_SPARE };
	const int values[] = { cfg->start_workers, cfg->min_spare, cfg->max_spare };
	size_t i;

	if (cfg->model != MODEL_LOOP && cfg->max_conns > OPTIONS_PROCESS_CONNS) {
		options_error(err, errlen, "-c %d: a process per session holds at most %d; "
		    "--model loop holds more", cfg->max_conns, OPTIONS_PROCESS_CONNS);
		return -1;
	}
	if (cfg->model == MODEL_LOOP && cfg->workers > cfg->max_conns) {
		options_error(err, errlen, "--workers %d cannot take effect: there are at most -c %d "
		    "sessions to serve", cfg->workers, cfg->max_conns);
		return -1;
	}
	if (cfg->model != MODEL_PREFORK)
		return 0;
	if (cfg->min_spare >= cfg->max_spare) {
		options_error(err, errlen, "--min-spare %d must be less than --max-spare %d",
		    cfg->min_spare, cfg->max_spare);
		return -1;
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (cfg->given[sizes[i]] && values[i] > cfg->max_conns -
		    (sizes[i] == OPT_MAX_SPARE)) {
			options_error(err, errlen, "--%s %d cannot take effect: the pool has at most "
			    "-c %d workers%s", options_name(sizes[i]), values[i], cfg->max_conns,
			    sizes[i] == OPT_MAX_SPARE ? ", so never more idle than -c less one" : "");
			return -1;
		}
	if (cfg->start_workers > cfg->max_conns)
		cfg->start_workers = cfg->max_conns;	/* the default 5 with -c 3 */
	return 0;
}

/*
 * A rule that cannot change who gets in cannot take effect: in --allow/--deny,
 * --proxy-from and --metrics-allow (checked before loopback's default is added).
 */
static int
options_check_rules(const struct config *cfg, char *err, size_t errlen)
{
	const struct acl *lists[] = { &cfg->acl, &cfg->proxy_from, &cfg->metrics_allow };
	const char *names[] = { "--allow", "--proxy-from", "--metrics-allow" };
	char idle[ACL_RULE_TEXT], cover[ACL_RULE_TEXT];
	const struct acl_rule *r, *c;
	size_t i, ri, ci;

	for (i = 0; i < 3; i++) {
		if (acl_idle(lists[i], &ri, &ci) == 0)
			continue;
		r = &lists[i]->rules[ri];
		c = &lists[i]->rules[ci];
		acl_rule_text(r, idle, sizeof(idle));
		acl_rule_text(c, cover, sizeof(cover));
		if (ri == ci)
			options_error(err, errlen, "--deny %s cannot take effect: it is outside every "
			    "--allow, and only those are let in", idle);
		else
			options_error(err, errlen, "%s %s cannot take effect: %s %s covers it%s",
			    r->allow ? names[i] : "--deny", idle, c->allow ? names[i] : "--deny", cover,
			    r->allow && !c->allow ? " (deny wins)" : "");
		return -1;
	}
	return 0;
}

/*
 * TLS needs both files and a listener that speaks it: with -i, the one
 * connection is TLS when the files are given.
 */
static int
options_check_tls(const struct config *cfg, char *err, size_t errlen)
{
	bool any = cfg->inetd;
	size_t i;

	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		options_error(err, errlen, "%s needs %s too", cfg->tls_cert != NULL ? "--tls-cert" :
		    "--tls-key", cfg->tls_cert != NULL ? "--tls-key" : "--tls-cert");
		return -1;
	}
	for (i = 0; i < cfg->nlistens; i++)
		if (cfg->listens[i].tls) {
			any = true;
			if (cfg->tls_cert == NULL) {
				options_error(err, errlen, "a ,tls listener needs --tls-cert FILE and --tls-key FILE");
				return -1;
			}
		}
	if (cfg->tls_cert != NULL && !any) {
		options_error(err, errlen, "--tls-cert and --tls-key are for a listener with ,tls "
		    "(-l ADDR:PORT,tls), and none has it");
		return -1;
	}
	return 0;
}

/* A ,deferred listener waits for the client's first bytes: nothing of ours may come first. */
static int
options_check_deferred(const struct config *cfg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < cfg->nlistens; i++) {
		if (!cfg->listens[i].deferred)
			continue;
		if (cfg->service->server_first || cfg->banner != NULL) {
			options_error(err, errlen, "a ,deferred listener waits for the client to speak "
			    "first, and %s%s speaks first", cfg->banner != NULL ? "--banner" : "-s ",
			    cfg->banner != NULL ? "" : cfg->service->name);
			return -1;
		}
	}
	return 0;
}

/* --metrics: loopback may scrape unless --metrics-allow says who. */
static int
options_metrics_default(struct config *cfg)
{
	struct acl_rule rule;

	if (cfg->metrics == NULL || cfg->metrics_allow.n > 0)
		return 0;
	return acl_parse("127.0.0.0/8", true, &rule) < 0 || acl_add(&cfg->metrics_allow, &rule) < 0 ||
	    acl_parse("::1", true, &rule) < 0 || acl_add(&cfg->metrics_allow, &rule) < 0 ? -1 : 0;
}

/* The checks that take several options together. 0, or -1 with err set. */
int
options_finish(struct config *cfg, const struct options_seen *seen, char *err, size_t errlen)
{
	struct options_scene scene;

	if (seen->verbose && seen->quiet) {
		options_error(err, errlen, "options -v and -q exclude each other");
		return -1;
	}
	if (options_check_model(cfg, err, errlen) < 0 || options_check_tls(cfg, err, errlen) < 0 ||
	    options_check_deferred(cfg, err, errlen) < 0 ||
	    options_check_rules(cfg, err, errlen) < 0)
		return -1;
	if (options_metrics_default(cfg) < 0) {
		options_error(err, errlen, "out of memory");
		return -1;
	}
	if (cfg->inetd && (cfg->daemonize || cfg->nlistens > 0)) {
		options_error(err, errlen, "-i serves the socket on standard input: it cannot go with %s",
		    cfg->daemonize ? "-d" : "a listen address");
		return -1;
	}
	if (cfg->daemonize && !seen->log)
		cfg->log_target = LOG_TO_SYSLOG;
	if (cfg->daemonize && cfg->log_target == LOG_TO_STDERR) {
		options_error(err, errlen, "--log stderr cannot go with --daemon: a daemon's stderr is /dev/null");
		return -1;
	}
	cfg->log_level = seen->verbose ? LOG_LVL_DEBUG : seen->quiet ? LOG_LVL_NOTICE : LOG_LVL_INFO;
	scene = options_effect_scene(cfg);
	return options_effect_check(cfg, &scene, err, errlen);
}
