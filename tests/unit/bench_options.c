/* bench_options: mpecho-bench's command line, table by table: values, ranges and the usage errors. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "unit.h"

/* argv after "mpecho-bench"; error: words the usage error must hold, or NULL: it parses. */
struct bench_case {
	const char *option;	/* "--conns" or "MODE": what the case is about */
	const char *argv[12];
	const char *error;
};

static const struct bench_case cases[] = {
	{ "--conns", { "-c", "1000000", "stream" }, NULL },
	{ "--conns", { "-c", "0", "stream" }, "invalid value '0' for --conns: expected a whole number from 1 to 1000000" },
	{ "--conns", { "--conns=x", "stream" }, "invalid value 'x' for --conns" },
	{ "--size", { "-s", "16777216", "pingpong" }, NULL },
	{ "--size", { "-s", "16777217", "pingpong" }, "invalid value '16777217' for --size" },
	{ "--duration", { "-d", "0.5", "connrate" }, NULL },
	{ "--duration", { "-d", "0.001", "connrate" }, "invalid value '0.001' for --duration: expected a number from 0.01 to 86400" },
	{ "--duration", { "-d", "1e", "connrate" }, "invalid value '1e' for --duration" },
	{ "--count", { "-n", "5", "connrate" }, NULL },
	{ "--count", { "-n", "-1", "connrate" }, "invalid value '-1' for --count" },
	{ "--warmup", { "-w", "0", "connrate" }, NULL },
	{ "--warmup", { "-w", "3601", "connrate" }, "invalid value '3601' for --warmup" },
	{ "--threads", { "-t", "2", "connrate" }, NULL },
	{ "--threads", { "-t", "257", "connrate" }, "invalid value '257' for --threads" },
	{ "--sources", { "-S", "4", "connrate" }, NULL },
	{ "--sources", { "-S", "4", "connrate", "unix:/x" }, "--sources needs an IPv4 loopback target" },
	{ "--timeout", { "-T", "0.1", "connrate" }, NULL },
	{ "--timeout", { "-T", "0", "connrate" }, "invalid value '0' for --timeout" },
	{ "--ramp", { "-R", "10", "hold" }, NULL },
	{ "--ramp", { "-R", "10", "udp" }, "udp mode cannot go with --ramp" },
	{ "--rate", { "--rate", "100", "pingpong" }, NULL },
	{ "--rate", { "--rate", "100", "stream" }, "--rate paces connrate, pingpong and udp, not stream" },
	{ "--rate", { "--rate", "0", "pingpong" }, "invalid value '0' for --rate" },
	{ "--start-at", { "--start-at", "1000000000.5", "connrate" }, NULL },
	{ "--start-at", { "--start-at", "99999999999", "connrate" }, "is more than a week ahead" },
	{ "--progress", { "--progress", "0.5", "connrate" }, NULL },
	{ "--progress", { "--progress", "0.01", "connrate" }, "invalid value '0.01' for --progress" },
	{ "--json", { "--json", "connrate" }, NULL },
	{ "--json", { "--json=1", "connrate" }, "option '--json' takes no value" },
	{ "--html", { "--html", "/nonexistent/dir/x.html", "stream" }, NULL },	/* opened by setup */
	{ "--html", { "stream", "--html" }, "option '--html' needs a value" },
	{ "--quiet", { "-q", "connrate" }, NULL },
	{ "--banner", { "--banner", "connrate" }, NULL },
	{ "--banner", { "--banner", "udp" }, "udp mode cannot go with --banner" },
	{ "--tls", { "--tls", "connrate", "localhost", "7" }, NULL },
	{ "--tls", { "--tls", "connrate", "unix:/x" }, "--tls is for TCP servers, not unix: sockets" },
	{ "--tls", { "--tls", "udp" }, "udp mode cannot go with --tls" },
	{ "--ca", { "--tls", "--ca", "/nonexistent", "connrate" }, NULL },
	{ "--ca", { "--ca", "/c", "connrate" }, "--ca is for TLS: add --tls" },
	{ "--ca", { "--tls", "--ca", "/c", "--insecure", "connrate" }, "--ca and --insecure exclude each other" },
	{ "--insecure", { "--tls", "--insecure", "connrate" }, NULL },
	{ "--insecure", { "--insecure", "connrate" }, "--insecure is for TLS: add --tls" },
	{ "--sockopt", { "-O", "keepalive,user-timeout=3000", "-O", "fastopen", "connrate" }, NULL },
	{ "--sockopt", { "-O", "rcvbuf=65536,mark=1", "udp" }, NULL },
	{ "--sockopt", { "-O", "mss=500", "udp" }, "-O: socket option mss=500 cannot take effect on a "
	    "UDP client socket: it is a TCP option" },
	{ "--sockopt", { "-O", "mark=1", "hold", "unix:/x" }, "-O cannot take effect: a unix: socket" },
	{ "--sockopt", { "-O", "tos=9000", "hold" }, "-O: invalid socket option 'tos=9000'" },
	{ "--procs", { "--procs", "4", "-c", "400", "hold" }, NULL },
	{ "--procs", { "--procs", "201", "hold" }, "invalid value '201' for --procs: expected a whole number from 1 to 200" },
	{ "--procs", { "--procs", "4", "-c", "3", "hold" }, "--procs is more than --conns" },
	{ "--procs", { "--procs", "2", "udp" }, "udp mode cannot go with --procs" },
	{ "--procs", { "--procs", "2", "-n", "5", "connrate" }, "--count cannot go with --procs" },
	{ "--procs", { "--procs", "2", "--rate", "5", "connrate" }, "--rate cannot go with --procs" },
	{ "--procs", { "--procs", "2", "--html", "x", "connrate" }, "--html cannot go with --procs" },
	{ "--procs", { "--procs", "2", "--progress", "1", "connrate" }, "--progress cannot go with --procs" },
	{ "--procs", { "--procs", "1", "--rate", "5", "connrate" }, NULL },
	{ "--server-pid", { "--server-pid", "1", "hold" }, NULL },
	{ "--server-pid", { "--server-pid", "1", "connrate" }, "--server-pid measures memory in hold mode only" },
	{ "--server-pid", { "--server-pid", "0", "hold" }, "invalid value '0' for --server-pid" },
	{ "--help", { "-h" }, NULL },
	{ "--version", { "-V" }, NULL },
	{ "MODE", { "connrate", "no.such.host.invalid", "7" }, NULL },	/* no lookup while parsing */
	{ "MODE", { "hold", "unix:/run/x.sock" }, NULL },
	{ "MODE", { NULL }, "no mode: expected connrate, pingpong, stream, hold, sink, source or udp" },
	{ "MODE", { "flood" }, "unknown mode 'flood'" },
	{ "MODE", { "udp", "-s", "7" }, "udp mode sends datagrams of 8 to 65507 bytes (-s 7)" },
	{ "MODE", { "connrate", "h", "7", "x" }, "unexpected argument 'x'" },
	{ "MODE", { "connrate", "unix:/x", "7" }, "unexpected argument '7': a unix: socket has no port" },
	{ "MODE", { "connrate", "h", "65536" }, "invalid port '65536'" },
	{ "MODE", { "connrate", "unix:" }, "invalid socket 'unix:'" },
	{ "MODE", { "--bogus", "connrate" }, "unknown option '--bogus' (see mpecho-bench --help)" },
	{ "MODE", { "connrate", "-c" }, "option '-c' needs a value" },
	{ NULL, { NULL }, NULL }
};

/* Parse a case's argv: its result, with b and err filled. */
static enum bench_parsed
case_parse(const struct bench_case *c, struct bench *b, char *err, size_t errlen)
{
	char *argv[14] = { "mpecho-bench" };
	int argc = 1;

	while (c->argv[argc - 1] != NULL) {
		memcpy(&argv[argc], &c->argv[argc - 1], sizeof(argv[0]));	/* getopt's argv is not const */
		argc++;
	}
	*err = '\0';
	return bench_parse(b, argc, argv, err, errlen);
}

static bool
bench_case_holds(const struct bench_case *c)
{
	char err[512];
	struct bench b;
	enum bench_parsed r = case_parse(c, &b, err, sizeof(err));

	if (c->error == NULL ? r != BENCH_USAGE : r == BENCH_USAGE && strstr(err, c->error) != NULL)
		return true;
	printf("case %s %s: %s\n", c->option, c->argv[0] ? c->argv[0] : "", r == BENCH_USAGE ? err :
	    "it parses");
	return false;
}

static bool
bench_covered(const char *option)
{
	const struct bench_case *c;

	for (c = cases; c->option != NULL; c++)
		if (strcmp(c->option, option) == 0 && c->error == NULL)
			return true;
	printf("no case for %s\n", option);
	return false;
}

/* The values land where the run reads them; the defaults hold; help and version are results. */
static void
test_values(void)
{
	static const struct bench_case all = { "", { "-c", "300", "-s", "100", "-T", "0.25", "-t", "4",
	    "pingpong", "example.invalid" }, NULL };
	static const struct bench_case stream = { "", { "stream", "127.0.0.1", "7007" }, NULL };
	static const struct bench_case help = { "", { "connrate", "-h" }, NULL };
	static const struct bench_case version = { "", { "--version", "--bogus" }, NULL };
	char err[512];
	struct bench b;

	CHECK(case_parse(&all, &b, err, sizeof(err)) == BENCH_RUN);
	CHECK(b.conns == 300 && b.size == 100 && b.timeout_ms == 250 && b.threads == 4 &&
	    b.mode == MODE_PINGPONG && strcmp(b.host, "example.invalid") == 0 &&
	    strcmp(b.port, "8000") == 0 && b.duration == 5 && b.warmup == 1 && !b.tls);
	CHECK(case_parse(&stream, &b, err, sizeof(err)) == BENCH_RUN);
	CHECK(b.procs == 1 && b.proc_index == 0 && b.server_pid == 0);
	CHECK(b.mode == MODE_STREAM && b.size == CHUNK && b.conns == 16 && b.threads <= 16 &&
	    strcmp(b.port, "7007") == 0 && b.tls_ctx == NULL && b.addrlen == 0);
	CHECK(case_parse(&help, &b, err, sizeof(err)) == BENCH_HELP);
	CHECK(case_parse(&version, &b, err, sizeof(err)) == BENCH_VERSION);
	CHECK(strstr(bench_usage(), "Exit status:") != NULL);
}

void
unit_bench_options(void)
{
	const struct option *o;
	const struct bench_case *c;
	char name[32];

	for (o = bench_long; o->name != NULL; o++) {
		snprintf(name, sizeof(name), "--%s", o->name);
		CHECK(bench_covered(name));
	}
	for (c = cases; c->option != NULL; c++)
		CHECK(bench_case_holds(c));
	test_values();
}
