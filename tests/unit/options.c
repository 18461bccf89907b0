/* options: the one rule, table by table: every mpechod option where it cannot take effect, and where it can. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "options.h"
#include "unit.h"

/*
 * One case: argv (after "mpechod") and, for a usage error, words the message
 * must hold (NULL: the command line runs).
 */
struct effect_case {
	const char *option;	/* the long name the case is about */
	const char *argv[10];
	const char *error;
};

#define UDP "-l", "udp:127.0.0.1:0"
#define NOT(opt) "--" opt " cannot take effect"

/*
 * Every option, each at least once where it can take effect; where it cannot
 * (at start, from the command line alone), a case that fails with its name.
 * What only the sockets tell (-i with a connection, socket activation, an
 * upgrade) is in tests/e2e/test_effect.py.
 */
static const struct effect_case cases[] = {
	{ "listen", { "-l", "127.0.0.1:0" }, NULL },
	{ "listen", { "-i", "-l", "127.0.0.1:0" }, "-i serves the socket on standard input" },
	{ "service", { "-s", "upper" }, NULL },
	{ "service", { "-s", "upper", UDP }, NOT("service") ": it needs a stream listener" },
	{ "max-conns", { "-c", "5", UDP, "-l", ":0" }, NULL },
	{ "max-conns", { "-c", "5", UDP }, NOT("max-conns") },
	{ "max-per-source", { "--max-per-source", "2" }, NULL },
	{ "max-per-source", { "--max-per-source", "0", "--model", "prefork" }, NULL },
	{ "max-per-source", { "--max-per-source", "2", "--model", "prefork" }, "--model fork" },
	{ "rate", { "--rate", "2" }, NULL },
	{ "rate", { "--rate", "2", "--model", "prefork" }, NOT("rate") ": it needs --model fork" },
	{ "allow", { "--allow", "10.0.0.0/8", "--deny", "10.1.0.0/16" }, NULL },
	{ "allow", { "--deny", "10.0.0.0/8", "--allow", "10.1.0.0/16" },
	    "--allow 10.1.0.0/16 cannot take effect: --deny 10.0.0.0/8 covers it (deny wins)" },
	{ "allow", { "--allow", "10.1.0.0/16", "--deny", "10.1.0.0/16" }, "(deny wins)" },
	{ "allow", { "--allow", "10.0.0.0/8", "--allow", "10.1.0.0/16" },
	    "--allow 10.1.0.0/16 cannot take effect: --allow 10.0.0.0/8 covers it" },
	{ "rules", { "--rules", "/etc/mpechod.rules" }, NULL },
	{ "rules", { "--rules", "" }, "empty path for --rules" },
	{ "deny", { "--deny", "10.0.0.0/8" }, NULL },
	{ "deny", { "--deny", "10.0.0.0/8", "--deny", "10.0.0.0/8" },
	    "--deny 10.0.0.0/8 cannot take effect: --deny 10.0.0.0/8 covers it" },
	{ "deny", { "--allow", "10.0.0.0/8", "--deny", "192.168.0.0/16" },
	    "--deny 192.168.0.0/16 cannot take effect: it is outside every --allow" },
	{ "proxy-from", { "-l", ":0,proxy", "--proxy-from", "10.0.0.1" }, NULL },
	{ "proxy-from", { "--proxy-from", "10.0.0.1" }, NOT("proxy-from") ": it needs a listener with ,proxy" },
	{ "proxy-from", { "-l", ":0,proxy", "--proxy-from", "10.0.0.0/8", "--proxy-from", "10.0.0.1" },
	    "--proxy-from 10.0.0.1/32 cannot take effect: --proxy-from 10.0.0.0/8 covers it" },
	{ "proxy-timeout", { "-l", ":0,proxy", "--proxy-timeout", "2" }, NULL },
	{ "proxy-timeout", { "--proxy-timeout", "2" }, NOT("proxy-timeout") },
	{ "idle-timeout", { "--idle-timeout", "5" }, NULL },
	{ "idle-timeout", { "--idle-timeout", "0", UDP }, NULL },
	{ "idle-timeout", { "--idle-timeout", "5", UDP }, NOT("idle-timeout") },
	{ "max-time", { "--max-time", "5" }, NULL },
	{ "max-time", { "--max-time", "5", UDP }, NOT("max-time") },
	{ "min-rate", { "--min-rate", "5" }, NULL },
	{ "min-rate", { "--min-rate", "0", "--idle-timeout", "0" }, NULL },
	{ "min-rate", { "--min-rate", "5", "--idle-timeout", "0" }, NOT("min-rate") ": it needs --idle-timeout" },
	{ "socket-mode", { "-l", "unix:/u", "--socket-mode", "660" }, NULL },
	{ "socket-mode", { "--socket-mode", "660" }, NOT("socket-mode") ": it needs a unix: listener" },
	{ "tls-cert", { "-l", ":0,tls", "--tls-cert", "/c", "--tls-key", "/k" }, NULL },
	{ "tls-cert", { "--tls-cert", "/c", "--tls-key", "/k" }, "are for a listener with ,tls" },
	{ "tls-key", { "-i", "--tls-cert", "/c", "--tls-key", "/k" }, NULL },
	{ "tls-key", { "-l", ":0", "--tls-key", "/k", "--tls-cert", "/c" }, "are for a listener with ,tls" },
	{ "tls-timeout", { "-l", ":0,tls", "--tls-cert", "/c", "--tls-key", "/k", "--tls-timeout", "3" }, NULL },
	{ "tls-timeout", { "--tls-timeout", "3" }, NOT("tls-timeout") ": it needs TLS" },
	{ "udp-rate", { UDP, "--udp-rate", "5" }, NULL },
	{ "udp-rate", { "--udp-rate", "5" }, NOT("udp-rate") ": it needs a udp: listener" },
	{ "backlog", { "--backlog", "5" }, NULL },
	{ "backlog", { "--backlog", "5", UDP }, NOT("backlog") },
	{ "grace", { "--grace", "5" }, NULL },
	{ "grace", { "--grace", "5", UDP }, NOT("grace") },
	{ "daemon", { "-d" }, NULL },
	{ "daemon", { "-d", "-i" }, "-i serves the socket on standard input: it cannot go with -d" },
	{ "inetd", { "-i" }, NULL },	/* always: what is on standard input is served */
	{ "reuseport", { "--reuseport" }, NULL },	/* where it cannot: only the sockets tell */
	{ "upgrade-socket", { "--upgrade-socket", "/u" }, NULL },	/* the same */
	{ "banner", { "--banner", "%h" }, NULL },
	{ "banner", { "--banner", "%h", UDP }, NOT("banner") },
	{ "metrics", { "--metrics", "127.0.0.1:0" }, NULL },	/* the same */
	{ "metrics-allow", { "--metrics", "127.0.0.1:0", "--metrics-allow", "10.0.0.1" }, NULL },
	{ "metrics-allow", { "--metrics-allow", "10.0.0.1" }, NOT("metrics-allow") ": it needs --metrics" },
	{ "log-format", { "--log-format", "json" }, NULL },	/* always */
	{ "source-prefix6", { "--max-per-source", "2", "--source-prefix6", "48" }, NULL },
	{ "source-prefix6", { UDP, "--udp-rate", "9", "--source-prefix6", "48" }, NULL },
	{ "source-prefix6", { "--source-prefix6", "48" }, NOT("source-prefix6") },
	{ "pidfile", { "-p", "/p" }, NULL },	/* where it cannot: -i with a connection */
	{ "log", { "--log", "/l" }, NULL },	/* always */
	{ "user", { "-u", "nobody" }, NULL },	/* always: sessions, even -i's, run as that user */
	{ "model", { "--model", "prefork" }, NULL },
	{ "model", { "--model", "prefork", UDP }, NOT("model") },
	{ "start", { "--model", "prefork", "--start", "3" }, NULL },
	{ "start", { "--start", "3" }, NOT("start") ": it needs --model prefork" },
	{ "start", { "--model", "prefork", "-c", "10", "--start", "50" },
	    "--start 50 cannot take effect: the pool has at most -c 10 workers" },
	{ "min-spare", { "--model", "prefork", "--min-spare", "2" }, NULL },
	{ "min-spare", { "--min-spare", "2" }, NOT("min-spare") },
	{ "min-spare", { "--model", "prefork", "-c", "10", "--min-spare", "11", "--max-spare", "12" },
	    "--min-spare 11 cannot take effect" },
	{ "max-spare", { "--model", "prefork", "--max-spare", "20" }, NULL },
	{ "max-spare", { "--max-spare", "20" }, NOT("max-spare") },
	{ "max-spare", { "--model", "prefork", "-c", "10", "--max-spare", "10" },
	    "--max-spare 10 cannot take effect" },
	{ "max-requests", { "--model", "prefork", "--max-requests", "9" }, NULL },
	{ "max-requests", { "--max-requests", "9" }, NOT("max-requests") ": it needs --model prefork or loop" },
	{ "max-requests", { "-m", "loop", "--max-requests", "9" }, NULL },
	{ "model", { "-m", "loop", "-c", "2000000" }, NULL },
	{ "model", { "-c", "100001" }, "-c 100001: a process per session holds at most 100000" },
	{ "model", { "-m", "loop", "-l", "127.0.0.1:1,tls", "--tls-cert", "/c", "--tls-key", "/k" },
	    NULL },
	{ "model", { "-m", "threads" }, "expected fork, prefork or loop" },
	{ "workers", { "-m", "loop", "--workers", "3" }, NULL },
	{ "workers", { "--workers", "3" }, NOT("workers") ": it needs --model loop" },
	{ "workers", { "-m", "loop", "-c", "2", "--workers", "3" }, "--workers 3 cannot take effect" },
	{ "splice", { "-m", "loop", "--splice", "never" }, NOT("splice") ": it needs --model fork or prefork" },
	{ "splice", { "--splice", "never" }, NULL },
	{ "splice", { "--splice", "never", "-s", "upper" }, NOT("splice") ": it needs -s echo" },
	{ "verbose", { "-v" }, NULL },
	{ "verbose", { "-v", "-q" }, "-v and -q exclude each other" },
	{ "quiet", { "-q" }, NULL },
	{ "shutdown-delay", { "--shutdown-delay", "5" }, NULL },	/* where it cannot: -i with a connection */
	{ "agent", { "--agent", "127.0.0.1:0" }, NULL },	/* the same */
	{ "help", { "-h" }, NULL },
	{ "version", { "-V" }, NULL },
	{ NULL, { NULL }, NULL }
};

/* Run one case: it runs, or fails with its words. */
static bool
effect_case_holds(const struct effect_case *c)
{
	char *argv[12] = { "mpechod" }, err[512] = "";
	struct config cfg;
	enum options_result r;
	int argc = 1;

	while (c->argv[argc - 1] != NULL) {
		memcpy(&argv[argc], &c->argv[argc - 1], sizeof(argv[0]));	/* getopt's argv is not const */
		argc++;
	}
	r = options_parse(&cfg, argc, argv, err, sizeof(err));
	options_free(&cfg);
	if (c->error == NULL && r != OPTIONS_ERROR)
		return true;
	if (c->error != NULL && r == OPTIONS_ERROR && strstr(err, c->error) != NULL)
		return true;
	printf("case --%s %s: %s\n", c->option, c->argv[0], r == OPTIONS_ERROR ? err : "it runs");
	return false;
}

/* Every long option has a case that runs; the table names no option that does not exist. */
static void
test_every_option_has_cases(void)
{
	const struct option *o;
	const struct effect_case *c;
	bool runs, known;

	for (o = options_long; o->name != NULL; o++) {
		for (c = cases, runs = false; c->option != NULL; c++)
			runs |= strcmp(c->option, o->name) == 0 && c->error == NULL;
		if (!runs)
			printf("no case for --%s\n", o->name);
		CHECK(runs);
	}
	for (c = cases; c->option != NULL; c++) {
		for (o = options_long, known = false; o->name != NULL; o++)
			known |= strcmp(c->option, o->name) == 0;
		CHECK(known);
		CHECK(effect_case_holds(c));
	}
}

void
unit_options(void)
{
	test_every_option_has_cases();
}
