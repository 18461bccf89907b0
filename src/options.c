/* options: parsing the mpechod command line into struct config. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "service.h"

enum {
	OPT_BACKLOG = 256,
	OPT_GRACE
};

static const char usage_text[] =
"Usage: mpechod [OPTIONS] [[ADDRESS] PORT]\n"
"A multi-process TCP echo server: a supervisor accepts, one process serves each connection.\n"
"\n"
"  -l, --listen ADDR:PORT   listen there; repeatable. ADDR is a host name, an IPv4\n"
"                           address, an [IPv6] address, or empty for all addresses.\n"
"                           Port 0 picks a free port (logged at start).\n"
"  -s, --service NAME       echo: every byte back unchanged (RFC 862, the default)\n"
"                           upper: ASCII letters upper-cased; a line \"quit\" ends the session\n"
"  -c, --max-conns N        live sessions at most; more clients wait in the backlog\n"
"                           (1-100000, default 1000)\n"
"      --backlog N          listen backlog (1-65535, default 511)\n"
"      --grace SECS         on SIGTERM/SIGINT, time live sessions get to finish\n"
"                           (0-86400, default 10)\n"
"  -v, --verbose            log debug lines too\n"
"  -q, --quiet              do not log a line per connection\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"With no address: all IPv4 and IPv6 addresses, port " MPECHO_DEFAULT_PORT ".\n"
"Signals: TERM/INT stop accepting and drain (a second one ends sessions at once).\n"
"Exit status: 0 stopped cleanly, 1 run-time failure (cannot listen, ...), 2 usage error.\n";

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "service", required_argument, NULL, 's' },
	{ "max-conns", required_argument, NULL, 'c' },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

const char *
options_usage(void)
{
	return usage_text;
}

int
options_number(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	if (text[0] == '\0' || text[0] == ' ' || text[0] == '+')
		goto invalid;
	v = strtol(text, &end, 10);
	if (*end != '\0' || end == text)
		goto invalid;
	if (errno == ERANGE || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

static void
set_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A range-checked numeric option; on error fills err naming the option and its bounds. */
static int
number_option(const char *name, const char *text, long min, long max, int *out,
    char *err, size_t errlen)
{
	long v;

	if (options_number(text, min, max, &v) < 0) {
		set_error(err, errlen, "invalid value '%s' for %s: expected a whole number from %ld to %ld",
		    text, name, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
add_listen(struct config *cfg, char *host, char *port, char *err, size_t errlen)
{
	struct listen_spec *l;

	if (net_check_port(port) < 0) {
		set_error(err, errlen, "invalid port '%s': expected a number from 0 to 65535", port);
		goto fail;
	}
	l = realloc(cfg->listens, (cfg->nlistens + 1) * sizeof(*l));
	if (l == NULL) {
		set_error(err, errlen, "out of memory");
		goto fail;
	}
	cfg->listens = l;
	l[cfg->nlistens].host = host;
	l[cfg->nlistens].port = port;
	cfg->nlistens++;
	return 0;
fail:
	free(host);
	free(port);
	return -1;
}

static int
parse_listen(struct config *cfg, const char *text, char *err, size_t errlen)
{
	char *host, *port;

	if (net_split_hostport(text, &host, &port) < 0) {
		set_error(err, errlen, "invalid listen address '%s': expected HOST:PORT, [IPv6]:PORT or :PORT",
		    text);
		return -1;
	}
	return add_listen(cfg, host, port, err, errlen);
}

/* The classic forms: "mpechod PORT" and "mpechod ADDRESS PORT". */
static int
parse_positional(struct config *cfg, int n, char **args, char *err, size_t errlen)
{
	char *host = NULL, *port;

	if (n > 2) {
		set_error(err, errlen, "unexpected argument '%s'", args[2]);
		return -1;
	}
	if (n == 2 && (host = strdup(args[0])) == NULL) {
		set_error(err, errlen, "out of memory");
		return -1;
	}
	if ((port = strdup(args[n - 1])) == NULL) {
		free(host);
		set_error(err, errlen, "out of memory");
		return -1;
	}
	return add_listen(cfg, host, port, err, errlen);
}

/* How getopt's last complaint names the option: "--name" as typed, or "-c". */
static const char *
option_name(const char *arg, int opt)
{
	static char buf[64];

	if (strncmp(arg, "--", 2) == 0) {
		snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(arg, "="), arg);
		return buf;
	}
	snprintf(buf, sizeof(buf), "-%c", opt);
	return buf;
}

enum options_result
options_parse(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	int c, verbose = 0, quiet = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->service = service_find("echo");
	cfg->backlog = 511;
	cfg->grace = 10;
	cfg->max_conns = 1000;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":l:s:c:vqhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_listen(cfg, optarg, err, errlen) < 0)
				return OPTIONS_ERROR;
			break;
		case 's':
			if ((cfg->service = service_find(optarg)) == NULL) {
				set_error(err, errlen, "unknown service '%s': expected %s",
				    optarg, service_names());
				return OPTIONS_ERROR;
			}
			break;
		case 'c':
			if (number_option("--max-conns", optarg, 1, 100000, &cfg->max_conns, err, errlen) < 0)
				return OPTIONS_ERROR;
			break;
		case OPT_BACKLOG:
			if (number_option("--backlog", optarg, 1, 65535, &cfg->backlog, err, errlen) < 0)
				return OPTIONS_ERROR;
			break;
		case OPT_GRACE:
			if (number_option("--grace", optarg, 0, 86400, &cfg->grace, err, errlen) < 0)
				return OPTIONS_ERROR;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return OPTIONS_HELP;
		case 'V':
			return OPTIONS_VERSION;
		case ':':
			set_error(err, errlen, "option '%s' needs a value",
			    option_name(argv[optind - 1], optopt));
			return OPTIONS_ERROR;
		default:
			set_error(err, errlen, "unknown option '%s'",
			    option_name(argv[optind - 1], optopt));
			return OPTIONS_ERROR;
		}
	}
	if (optind < argc && parse_positional(cfg, argc - optind, argv + optind, err, errlen) < 0)
		return OPTIONS_ERROR;
	if (verbose && quiet) {
		set_error(err, errlen, "options -v and -q exclude each other");
		return OPTIONS_ERROR;
	}
	cfg->log_level = verbose ? LOG_LVL_DEBUG : quiet ? LOG_LVL_NOTICE : LOG_LVL_INFO;
	return OPTIONS_RUN;
}

void
options_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nlistens; i++) {
		free(cfg->listens[i].host);
		free(cfg->listens[i].port);
	}
	free(cfg->listens);
	cfg->listens = NULL;
	cfg->nlistens = 0;
}
