/* options: parsing the mpechod command line into struct config. */
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admission.h"
#include "banner.h"
#include "cli.h"
#include "net.h"
#include "number.h"
#include "service.h"


void
options_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Store the range-checked value of numeric option c: 0, or -1 (err names the option and its bounds). */
static int
options_number(struct config *cfg, int c, const char *text, char *err, size_t errlen)
{
	const struct options_numeric *o;
	long v;

	for (o = options_numbers; o->id != 0; o++) {
		if (o->id != c)
			continue;
		if (number_parse(text, o->min, o->max, &v) < 0) {
			options_error(err, errlen, "invalid value '%s' for %s: expected a whole number from %ld to %ld",
			    text, o->name, o->min, o->max);
			return -1;
		}
		*(int *)((char *)cfg + o->offset) = (int)v;
		return 0;
	}
	options_error(err, errlen, "option %d is not handled", c);	/* getopt knows no other */
	return -1;
}

/* Keep a parsed listener in the configuration (which then owns it). 0 or -1. */
static int
options_add_listen(struct config *cfg, struct listen_spec *spec, char *err, size_t errlen)
{
	struct listen_spec *l = realloc(cfg->listens, (cfg->nlistens + 1) * sizeof(*l));

	if (l == NULL) {
		listener_spec_free(spec);
		options_error(err, errlen, "out of memory");
		return -1;
	}
	cfg->listens = l;
	l[cfg->nlistens++] = *spec;
	return 0;
}

/* -l TEXT: one listener, or one per port of a range. */
static int
options_listen(struct config *cfg, const char *text, char *err, size_t errlen)
{
	struct listen_spec spec, one;
	int i, rc = 0;

	if (listener_parse(text, &spec, err, errlen) < 0)
		return -1;
	if (spec.ports == 1)
		return options_add_listen(cfg, &spec, err, errlen);
	for (i = 0; i < spec.ports && rc == 0; i++)	/* a range: a listener per port */
		if ((rc = listener_spec_port(&spec, i, &one, err, errlen)) == 0)
			rc = options_add_listen(cfg, &one, err, errlen);
	listener_spec_free(&spec);
	return rc;
}

/* The classic forms: "mpechod PORT" and "mpechod ADDRESS PORT". */
static int
options_positional(struct config *cfg, int n, char **args, char *err, size_t errlen)
{
	struct listen_spec spec;

	if (n > 2) {
		options_error(err, errlen, "unexpected argument '%s'", args[2]);
		return -1;
	}
	if (listener_parse_pair(n == 2 ? args[0] : NULL, args[n - 1], &spec, err, errlen) < 0)
		return -1;
	return options_add_listen(cfg, &spec, err, errlen);
}

/* The position of text among the NULL-ended keywords, or -1. */
static int
options_pick(const char *text, ...)
{
	const char *word;
	va_list ap;
	int i = 0;

	va_start(ap, text);
	while ((word = va_arg(ap, const char *)) != NULL && strcmp(word, text) != 0)
		i++;
	va_end(ap);
	return word != NULL ? i : -1;
}

/* --allow, --deny and --proxy-from: an address or a network into its rule list. */
static int
options_rule(struct config *cfg, const char *text, int c, char *err, size_t errlen)
{
	const char *name = c == OPT_ALLOW ? "--allow" : c == OPT_DENY ? "--deny" :
	    c == OPT_PROXY_FROM ? "--proxy-from" : "--metrics-allow";
	struct acl *list = c == OPT_PROXY_FROM ? &cfg->proxy_from :
	    c == OPT_METRICS_ALLOW ? &cfg->metrics_allow : &cfg->acl;
	char net[INET6_ADDRSTRLEN] = "?";
	struct acl_rule rule;
	int rc = acl_parse(text, c != OPT_DENY, &rule);

	if (rc == ACL_HOST_BITS) {
		inet_ntop(rule.net.family, rule.net.bytes, net, sizeof(net));
		options_error(err, errlen, "invalid %s rule '%s': the address has bits set past /%d "
		    "(did you mean %s/%d?)", name, text, rule.prefix, net, rule.prefix);
		return -1;
	}
	if (rc < 0) {
		options_error(err, errlen, "invalid %s rule '%s': expected an address or ADDRESS/PREFIX",
		    name, text);
		return -1;
	}
	if (acl_add(list, &rule) < 0) {
		options_error(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Keep a path as an absolute one: a daemon works from /, and a log file is
 * reopened on SIGHUP long after start.
 */
static int
options_path(char **dst, const char *name, const char *text, char *err, size_t errlen)
{
	char *cwd = NULL, *abs;

	if (*text == '\0') {
		options_error(err, errlen, "empty path for %s", name);
		return -1;
	}
	if (text[0] == '/') {
		abs = strdup(text);
	} else if ((cwd = getcwd(NULL, 0)) == NULL) {
		log_errtext(err, errlen, "cannot make '%s' absolute", text);
		return -1;
	} else if ((abs = malloc(strlen(cwd) + strlen(text) + 2)) != NULL) {
		sprintf(abs, "%s/%s", cwd, text);
	}
	free(cwd);
	if (abs == NULL) {
		options_error(err, errlen, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = abs;
	return 0;
}

/* The options that name a file: --pidfile, --upgrade-socket, --tls-cert, --tls-key, --rules. */
static int
options_file(struct config *cfg, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case 'p':
		return options_path(&cfg->pidfile, "--pidfile", arg, err, errlen);
	case OPT_UPGRADE_SOCKET:
		return options_path(&cfg->upgrade_socket, "--upgrade-socket", arg, err, errlen);
	case OPT_TLS_CERT:
		return options_path(&cfg->tls_cert, "--tls-cert", arg, err, errlen);
	case OPT_RULES:
		return options_path(&cfg->rules, "--rules", arg, err, errlen);
	default:
		return options_path(&cfg->tls_key, "--tls-key", arg, err, errlen);
	}
}

static int
options_log(struct config *cfg, const char *text, char *err, size_t errlen)
{
	if (strcmp(text, "stderr") == 0) {
		cfg->log_target = LOG_TO_STDERR;
	} else if (strcmp(text, "syslog") == 0) {
		cfg->log_target = LOG_TO_SYSLOG;
	} else {
		cfg->log_target = LOG_TO_FILE;
		return options_path(&cfg->log_path, "--log", text, err, errlen);
	}
	return 0;
}


static int
options_service(struct config *cfg, const char *text, char *err, size_t errlen)
{
	if ((cfg->service = service_find(text)) != NULL)
		return 0;
	options_error(err, errlen, "unknown service '%s': expected %s", text, service_names());
	return -1;
}

/* --splice and --model: a keyword, its position the enum's value. */
static int
options_keywords(struct config *cfg, int c, const char *text, char *err, size_t errlen)
{
	int v;

	if (c == OPT_SPLICE) {
		/* in the order of enum splice_mode */
		if ((v = options_pick(text, "auto", "always", "never", NULL)) < 0) {
			options_error(err, errlen, "invalid value '%s' for --splice: expected auto, always or never",
			    text);
			return -1;
		}
		cfg->splice = v;
		return 0;
	}
	/* in the order of enum model_kind */
	if ((v = options_pick(text, "fork", "prefork", "loop", NULL)) < 0) {
		options_error(err, errlen, "unknown model '%s': expected fork, prefork or loop", text);
		return -1;
	}
	cfg->model = (enum model_kind)v;
	return 0;
}

/* -u USER[:GROUP], kept as given: it is resolved at start, once the log is open. */
static int
options_user(struct config *cfg, const char *text, char *err, size_t errlen)
{
	if (text[0] == '\0' || text[0] == ':' || text[strlen(text) - 1] == ':') {
		options_error(err, errlen, "invalid user '%s': expected USER[:GROUP]", text);
		return -1;
	}
	free(cfg->user);
	if ((cfg->user = strdup(text)) == NULL) {
		options_error(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* A value kept as given; an ADDR:PORT or :PORT (--metrics) must at least look like one. */
static int
options_string(char **dst, const char *name, const char *text, char *err, size_t errlen)
{
	char *host, *port;

	if (net_split_hostport(text, &host, &port) < 0) {
		options_error(err, errlen, "invalid value '%s' for %s: expected ADDR:PORT or :PORT", text,
		    name);
		return -1;
	}
	free(host);
	free(port);
	free(*dst);
	if ((*dst = strdup(text)) == NULL) {
		options_error(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* --banner TEXT: checked now, expanded in each session. */
static int
options_banner(struct config *cfg, const char *text, char *err, size_t errlen)
{
	if (banner_check(text, err, errlen) < 0)
		return -1;
	free(cfg->banner);
	if ((cfg->banner = strdup(text)) == NULL) {
		options_error(err, errlen, "out of memory");
		return -1;
	}
	if (gethostname(cfg->hostname, sizeof(cfg->hostname) - 1) < 0)
		snprintf(cfg->hostname, sizeof(cfg->hostname), "?");
	return 0;
}

/* --socket-mode: octal permissions, as chmod(1) takes them (660, 0600). 0, or -1 with err. */
static int
options_socket_mode(struct config *cfg, const char *text, char *err, size_t errlen)
{
	const char *p = text;
	int mode = 0;

	while (*p >= '0' && *p <= '7' && mode <= 07777)
		mode = mode * 8 + (*p++ - '0');
	if (p == text || *p != '\0' || mode > 0777) {
		options_error(err, errlen, "invalid value '%s' for --socket-mode: expected octal "
		    "permissions from 0 to 777, like 660", text);
		return -1;
	}
	cfg->socket_mode = mode;
	return 0;
}

static int
options_log_format(struct config *cfg, const char *text, char *err, size_t errlen)
{
	int v = options_pick(text, "text", "json", NULL);

	if (v < 0) {
		options_error(err, errlen, "invalid value '%s' for --log-format: expected text or json", text);
		return -1;
	}
	cfg->log_json = v == 1;
	return 0;
}

/* Apply one option that getopt returned with its value: 0, or -1 with err set. */
static int
options_apply(struct config *cfg, int c, const char *arg, struct options_seen *seen,
    char *err, size_t errlen)
{
	switch (c) {
	case 'l':
		return options_listen(cfg, arg, err, errlen);
	case 's':
		return options_service(cfg, arg, err, errlen);
	case OPT_ALLOW:
	case OPT_DENY:
	case OPT_PROXY_FROM:
	case OPT_METRICS_ALLOW:
		return options_rule(cfg, arg, c, err, errlen);
	case OPT_METRICS:
		return options_string(&cfg->metrics, "--metrics", arg, err, errlen);
	case OPT_AGENT:
		return options_string(&cfg->agent, "--agent", arg, err, errlen);
	case OPT_LOG_FORMAT:
		return options_log_format(cfg, arg, err, errlen);
	case OPT_SPLICE:
	case OPT_MODEL:
		return options_keywords(cfg, c, arg, err, errlen);
	case 'p':
	case OPT_UPGRADE_SOCKET:
	case OPT_TLS_CERT:
	case OPT_TLS_KEY:
	case OPT_RULES:
		return options_file(cfg, c, arg, err, errlen);
	case OPT_LOG:
		seen->log = true;
		return options_log(cfg, arg, err, errlen);
	case 'u':
		return options_user(cfg, arg, err, errlen);
	case 'd':
	case 'i':
	case OPT_REUSEPORT:
		*(c == 'd' ? &cfg->daemonize : c == 'i' ? &cfg->inetd : &cfg->reuseport) = true;
		return 0;
	case OPT_BANNER:
		return options_banner(cfg, arg, err, errlen);
	case OPT_SOCKET_MODE:
		return options_socket_mode(cfg, arg, err, errlen);
	case 'v':
	case 'q':
		*(c == 'v' ? &seen->verbose : &seen->quiet) = true;
		return 0;
	default:
		return options_number(cfg, c, arg, err, errlen);
	}
}

static void
options_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->service = service_find("echo");
	cfg->backlog = 4096;	/* a burst of 10,000 clients: 511 dropped SYNs, retried a second later */
	cfg->grace = 10;
	cfg->max_conns = 1000;
	cfg->idle_timeout = 300;
	cfg->min_rate = 1;
	cfg->start_workers = 5;
	cfg->min_spare = 5;
	cfg->max_spare = 10;
	cfg->proxy_timeout = 5;
	cfg->tls_timeout = 10;
	cfg->source_prefix6 = ADMISSION_PREFIX6;
	cfg->socket_mode = -1;
}

/* The message echoes what was typed: a control character in it must not break the one line. */
static enum options_result
options_failed(char *err)
{
	cli_one_line(err);
	return OPTIONS_ERROR;
}

enum options_result
options_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	struct options_seen seen = { false, false, false };
	int c;

	options_defaults(cfg);
	opterr = 0;
	optind = 0;	/* getopt's whole reset (see cli.h) */
	while ((c = getopt_long(argc, argv, ":l:s:c:m:dip:u:vqhV", options_long, NULL)) != -1) {
		if (c == 'h')
			return OPTIONS_HELP;
		if (c == 'V')
			return OPTIONS_VERSION;
		if (c == ':' || c == '?') {
			cli_complaint(c, argv, options_long, err, errlen);
			return options_failed(err);
		}
		if (c == 'm')
			c = OPT_MODEL;	/* -m is --model's short form */
		if (options_apply(cfg, c, optarg, &seen, err, errlen) < 0)
			return options_failed(err);
		if (c > 0 && c < OPTIONS_IDS)
			cfg->given[c] = true;
	}
	if (optind < argc && options_positional(cfg, argc - optind, argv + optind, err, errlen) < 0)
		return options_failed(err);
	return options_finish(cfg, &seen, err, errlen) < 0 ? options_failed(err) : OPTIONS_RUN;
}

struct session_params
options_session_params(const struct config *cfg)
{
	return (struct session_params){ .service = cfg->service, .tls = NULL,
	    .splice = cfg->splice, .max_time = cfg->max_time, .idle_timeout = cfg->idle_timeout,
	    .min_rate = cfg->min_rate, .banner = cfg->banner,
	    .hostname = cfg->hostname, .server_pid = (long)getpid() };
}

void
options_free(struct config *cfg)
{
	size_t i;

	acl_free(&cfg->acl);
	acl_free(&cfg->proxy_from);
	acl_free(&cfg->metrics_allow);
	free(cfg->metrics);
	free(cfg->agent);
	cfg->metrics = cfg->agent = NULL;
	privs_free(&cfg->privs);
	free(cfg->pidfile);
	free(cfg->log_path);
	free(cfg->user);
	free(cfg->upgrade_socket);
	free(cfg->banner);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->rules);
	cfg->banner = cfg->tls_cert = cfg->tls_key = cfg->rules = NULL;
	cfg->pidfile = cfg->log_path = cfg->user = cfg->upgrade_socket = NULL;

	for (i = 0; i < cfg->nlistens; i++)
		listener_spec_free(&cfg->listens[i]);
	free(cfg->listens);
	cfg->listens = NULL;
	cfg->nlistens = 0;
}
