/* options: mpecho-bench's command line, parsed without a side effect (setup.c acts on it). */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mpecho.h"
#include "net.h"
#include "number.h"
#include "tls.h"

static const char usage_text[] =
"Usage: mpecho-bench [OPTIONS] MODE [HOST [PORT]]\n"
"       mpecho-bench merge [--json] FILE...   (see mpecho-bench merge --help)\n"
"Load an echo server (default 127.0.0.1 port " MPECHO_DEFAULT_PORT "; HOST may be unix:PATH, a\n"
"Unix-domain socket, without a port) and check every byte it sends back.\n"
"\n"
"Modes:\n"
"  connrate   C concurrent sessions, each: connect, send S bytes, read them back, close.\n"
"             Reports completed sessions a second and session latency.\n"
"  pingpong   C persistent connections with one S-byte message in flight on each.\n"
"             Reports messages a second and round-trip latency.\n"
"  stream     C connections sending continuously while reading the echo.\n"
"             Reports echoed MB/s (10^6 bytes).\n"
"  hold       Opens C connections, checks each echoes S bytes, holds them open.\n"
"             Reports how many are held; for scale and memory tests. With --procs\n"
"             or --server-pid, also the memory each held connection costs: the\n"
"             drop of MemAvailable (both ends, the kernel's share) and the growth\n"
"             of the server's PSS, from before the load to all held.\n"
"  sink       C connections sending continuously, expecting nothing back (a discard\n"
"             server, RFC 863). Reports sent MB/s.\n"
"  source     C connections reading RFC 864's character lines (a chargen server),\n"
"             every byte checked. Reports received MB/s.\n"
"  udp        C UDP sockets with one S-byte datagram in flight on each (S >= 8: a\n"
"             sequence number, then checked bytes). Reports datagrams a second and\n"
"             round-trip latency; datagrams not back within 1 s (or -T) are counted\n"
"             as dropped, late or out-of-order ones as reordered.\n"
"\n"
"Options:\n"
"  -c, --conns N        concurrent connections (1-1000000, default 16)\n"
"  -s, --size BYTES     message size (1-16777216, default 64; stream: bytes a write, 65536)\n"
"  -d, --duration SECS  measure this long (default 5; decimals allowed)\n"
"  -n, --count N        stop after N measured sessions or messages (0: no bound)\n"
"  -w, --warmup SECS    run this long first, not measured (default 1)\n"
"  -t, --threads N      event-loop threads (1-256, default: the number of CPUs)\n"
"  -S, --sources N      spread source addresses over N IPv4 loopback addresses from\n"
"                       127.1.0.1 (IPv4 loopback targets only), so that connection-rate\n"
"                       runs do not run out of ephemeral ports (default 0: one source);\n"
"                       the port is chosen at connect() (IP_BIND_ADDRESS_NO_PORT), so\n"
"                       each source has the whole ephemeral range to itself\n"
"      --procs N        split -c over N generator processes (1-200), each within its\n"
"                       own descriptor limit; generator K's sources start at\n"
"                       127.(1+K).0.1; their results are merged into one (runs=N);\n"
"                       each dies with this process, even one killed with SIGKILL\n"
"      --server-pid PID hold: also measure the server's memory, the PSS of PID and\n"
"                       its descendants (/proc/PID/smaps_rollup), before the load\n"
"                       and with every connection held\n"
"  -T, --timeout SECS   a connection waiting longer than this without progress is an\n"
"                       error (default 10); after the measured time nothing new is\n"
"                       sent and the echoes still owed are awaited this long\n"
"  -R, --ramp N         at most N connections opening at once (TCP modes): one opens\n"
"                       from connect() until its first message is echoed (stream,\n"
"                       sink, source: until it is connected); the rest wait their turn\n"
"                       in the client, not in the server's listen queue (default 0:\n"
"                       all at once)\n"
"      --rate N         open loop: N operations a second in all (connrate, pingpong,\n"
"                       udp), each connection's due at fixed times; one that falls\n"
"                       due while its connection is busy goes once it is free, and\n"
"                       its latency counts from when it was due (as wrk2 does)\n"
"      --start-at TIME  begin the load at this Unix time (decimals allowed), so that\n"
"                       generators on several machines start together\n"
"      --progress SECS  a key=value line on standard error every SECS (0.05-3600),\n"
"                       whatever standard error is\n"
"      --json           print the result as one JSON object: the target, every\n"
"                       setting, the times, the figures (null where one does not\n"
"                       apply), the whole latency histogram, and each interval\n"
"                       (a second, or --progress) with its own histogram, for merge\n"
"      --html FILE      also write the run as one self-contained web page: the\n"
"                       settings, the figures, charts of each second (operations,\n"
"                       connections, MB, latency percentiles; errors and bad bytes\n"
"                       marked) and the latency distribution\n"
"      --banner         the server sends a line first (mpechod --banner): each\n"
"                       connection reads it before its echo is checked\n"
"  -O, --sockopt LIST   socket options set on every socket before it connects\n"
"                       (comma-separated; -O may be repeated): keepalive[=IDLE:\n"
"                       INTVL:CNT], user-timeout=MS, rcvbuf=BYTES, sndbuf=BYTES,\n"
"                       tos=N|DSCP, mark=N, device=IFNAME, freebind, transparent,\n"
"                       fastopen, mss=BYTES (see mpecho-bench(1)); udp: the UDP ones\n"
"      --tls            speak TLS; each connection does a full handshake (connrate:\n"
"                       handshakes a second); the certificate is checked for HOST\n"
"                       against the system's CAs, or --ca FILE; --insecure: no check\n"
"  -q, --quiet          no progress line\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"Every received byte is compared with what was sent on that connection: lost bytes\n"
"(sent, never echoed before the server closed), extra bytes and corrupted bytes are\n"
"counted, as are connect failures, resets, early closes and timeouts.\n"
"Latency percentiles (p50, p90, p99, p99.9, max) come from a log-linear histogram\n"
"(HdrHistogram's layout, within 0.8%). A progress line is redrawn once a second\n"
"on a terminal (without --progress).\n"
"\n"
"Exit status: 0 no error; 1 lost, extra or corrupted bytes; 2 usage error;\n"
"3 connection errors (connect, failed TLS handshakes, reset, close, timeout: an\n"
"echo still missing -T after the end is one) with every byte intact, the target\n"
"refusing the first connection or its handshake (checked before the load starts),\n"
"or nothing back in the whole run (sink: nothing sent); 4 no load: the target's\n"
"name does not resolve, the CA file cannot be loaded, the --html file cannot be\n"
"written, a socket option of -O the system refuses (device=nope), no memory or\n"
"threads.\n";

const struct option bench_long[] = {
	{ "conns", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, 's' },
	{ "duration", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'n' },
	{ "warmup", required_argument, NULL, 'w' },
	{ "threads", required_argument, NULL, 't' },
	{ "sources", required_argument, NULL, 'S' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "ramp", required_argument, NULL, 'R' },
	{ "rate", required_argument, NULL, 'r' },
	{ "start-at", required_argument, NULL, 'A' },
	{ "procs", required_argument, NULL, 'o' },
	{ "server-pid", required_argument, NULL, 'I' },
	{ "progress", required_argument, NULL, 'P' },
	{ "json", no_argument, NULL, 'j' },
	{ "html", required_argument, NULL, 'H' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "banner", no_argument, NULL, 'b' },
	{ "tls", no_argument, NULL, 'L' },
	{ "ca", required_argument, NULL, 'C' },
	{ "insecure", no_argument, NULL, 'k' },
	{ "sockopt", required_argument, NULL, 'O' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* A decimal number from min to max into *v: BENCH_RUN, or BENCH_USAGE with err. */
static enum bench_parsed
options_real(const char *name, const char *text, double min, double max, double *v, char *err,
    size_t errlen)
{
	char *end;

	errno = 0;
	*v = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || errno != 0 || !(*v >= min && *v <= max))
		return cli_error(BENCH_USAGE, err, errlen, "invalid value '%s' for %s: expected a number from "
		    "%g to %g", text, name, min, max);
	return BENCH_RUN;
}

/* A whole number from min to max into *v: BENCH_RUN, or BENCH_USAGE with err. */
static enum bench_parsed
options_whole(const char *name, const char *text, long min, long max, long *v, char *err,
    size_t errlen)
{
	if (number_parse(text, min, max, v) < 0)
		return cli_error(BENCH_USAGE, err, errlen, "invalid value '%s' for %s: expected a whole number "
		    "from %ld to %ld", text, name, min, max);
	return BENCH_RUN;
}

/* The options with a number: their name, range, and where the value goes. */
struct numeric {
	int c;
	const char *name;
	double min, max;
	bool whole;
};

static const struct numeric numerics[] = {
	{ 'c', "--conns", 1, 1000000, true },
	{ 's', "--size", 1, 16777216, true },
	{ 'd', "--duration", 0.01, 86400, false },
	{ 'n', "--count", 0, 1000000000000.0, true },
	{ 'w', "--warmup", 0, 3600, false },
	{ 't', "--threads", 1, 256, true },
	{ 'S', "--sources", 0, 65534, true },
	{ 'R', "--ramp", 0, 1000000, true },
	{ 'T', "--timeout", 0.01, 3600, false },
	{ 'r', "--rate", 0.001, 1e9, false },
	{ 'A', "--start-at", 1, 1e11, false },
	{ 'P', "--progress", 0.05, 3600, false },
	{ 'o', "--procs", 1, PROCS_MAX, true },
	{ 'I', "--server-pid", 1, 4194304, true },
};

/* The value of a numeric option into its place in *b. */
static void
options_store(struct bench *b, int c, double v)
{
	switch (c) {
	case 'c': b->conns = (int)v; break;
	case 's': b->size = (int)v; break;
	case 'd': b->duration = v; break;
	case 'n': b->count = (uint64_t)v; break;
	case 'w': b->warmup = v; break;
	case 't': b->threads = (int)v; break;
	case 'S': b->sources = (int)v; break;
	case 'R': b->ramp = (int)v; break;
	case 'T': b->timeout_ms = (int)(v * 1000); break;
	case 'r': b->rate = v; break;
	case 'A': b->start_at = v; break;
	case 'o': b->procs = (int)v; break;
	case 'I': b->server_pid = (long)v; break;
	default: b->progress = v; break;
	}
}

/* One option with its value. */
static enum bench_parsed
options_apply(struct bench *b, int c, const char *arg, char **argv, bool *size_given, char *err,
    size_t errlen)
{
	const struct numeric *n;
	char msg[256];
	double v = 0;
	long w = 0;

	for (n = numerics; n < numerics + sizeof(numerics) / sizeof(numerics[0]); n++) {
		if (n->c != c)
			continue;
		if (n->whole ? options_whole(n->name, arg, (long)n->min, (long)n->max, &w, err,
		    errlen) != BENCH_RUN : options_real(n->name, arg, n->min, n->max, &v, err,
		    errlen) != BENCH_RUN)
			return BENCH_USAGE;
		options_store(b, c, n->whole ? (double)w : v);
		*size_given |= c == 's';
		return BENCH_RUN;
	}
	switch (c) {
	case 'j': b->json = true; break;
	case 'H': b->html = arg; break;
	case 'q': b->quiet = true; break;
	case 'b': b->banner = true; break;
	case 'L': b->tls = true; break;
	case 'C': b->ca = arg; break;
	case 'k': b->insecure = true; break;
	case 'O':
		if (sockopt_parse_list(arg, &b->so, msg, sizeof(msg)) < 0)
			return cli_error(BENCH_USAGE, err, errlen, "-O: %s", msg);
		break;
	case 'h': return BENCH_HELP;
	case 'V': return BENCH_VERSION;
	default:
		return cli_error(BENCH_USAGE, err, errlen, "%s (see mpecho-bench --help)",
		    cli_complaint(c, argv, bench_long, msg, sizeof(msg)));
	}
	return BENCH_RUN;
}

/* MODE [HOST [PORT]] after the options. */
static enum bench_parsed
options_operands(struct bench *b, int n, char **args, bool size_given, char *err, size_t errlen)
{
	int i;

	if (n < 1)
		return cli_error(BENCH_USAGE, err, errlen, "no mode: expected connrate, pingpong, stream, hold, "
		    "sink, source or udp");
	for (i = 0; i < MODES && strcmp(args[0], mode_names[i]) != 0; i++)
		;
	if (i == MODES)
		return cli_error(BENCH_USAGE, err, errlen, "unknown mode '%s': expected connrate, pingpong, "
		    "stream, hold, sink, source or udp", args[0]);
	b->mode = (enum mode)i;
	if ((b->mode == MODE_STREAM || b->mode == MODE_SINK) && !size_given)
		b->size = CHUNK;
	if (b->mode == MODE_UDP && (b->size < 8 || b->size > 65507))
		return cli_error(BENCH_USAGE, err, errlen, "udp mode sends datagrams of 8 to 65507 bytes (-s %d)",
		    b->size);
	if (n > 3)
		return cli_error(BENCH_USAGE, err, errlen, "unexpected argument '%s'", args[3]);
	if (n > 1)
		b->host = args[1];
	if (n > 2 && bench_unix(b))
		return cli_error(BENCH_USAGE, err, errlen, "unexpected argument '%s': a unix: socket has no port",
		    args[2]);
	if (n > 2)
		b->port = args[2];
	if (!bench_unix(b) && net_check_port(b->port) < 0)
		return cli_error(BENCH_USAGE, err, errlen, "invalid port '%s': expected a number from 1 to 65535",
		    b->port);
	if (bench_unix(b) && net_unix_addr(b->host, &b->addr, &b->addrlen) < 0)
		return cli_error(BENCH_USAGE, err, errlen, "invalid socket '%s': %s", b->host, strerror(errno));
	if (b->threads > b->conns)
		b->threads = b->conns;
	return BENCH_RUN;
}

/* What --procs and --server-pid cannot go with, or NULL. */
static const char *
options_procs(const struct bench *b)
{
	if (b->server_pid > 0 && b->mode != MODE_HOLD)
		return "--server-pid measures memory in hold mode only";
	if (b->procs == 1)
		return NULL;
	if (b->mode == MODE_UDP)
		return "udp mode cannot go with --procs";
	if (b->procs > b->conns)
		return "--procs is more than --conns: a generator would have no connection";
	if (b->count > 0 || b->rate > 0 || b->html != NULL || b->progress > 0)
		return b->count > 0 ? "--count cannot go with --procs" : b->rate > 0 ?
		    "--rate cannot go with --procs" : b->html != NULL ? "--html cannot go with --procs" :
		    "--progress cannot go with --procs";
	return NULL;
}

/* What only the whole command line tells: TLS, udp's limits, pacing, generators. */
static enum bench_parsed
options_check(const struct bench *b, char *err, size_t errlen)
{
	struct timespec now;
	const char *why;
	char msg[256];

	if ((why = cli_tls_check(b->tls, b->ca, b->insecure, bench_unix(b))) != NULL)
		return cli_error(BENCH_USAGE, err, errlen, "%s", why);
	if (b->sources > 0 && bench_unix(b))
		return cli_error(BENCH_USAGE, err, errlen, "--sources needs an IPv4 loopback target (127.0.0.0/8)");
	if (b->mode == MODE_UDP && (bench_unix(b) || b->tls || b->banner || b->sources > 0 ||
	    b->ramp > 0))
		return cli_error(BENCH_USAGE, err, errlen, "udp mode cannot go with %s", bench_unix(b) ?
		    "a unix: socket" : b->tls ? "--tls" : b->banner ? "--banner" :
		    b->sources > 0 ? "--sources" : "--ramp");
	if (b->so.set != 0 && bench_unix(b))
		return cli_error(BENCH_USAGE, err, errlen, "-O cannot take effect: a unix: socket takes no "
		    "socket options");
	if (sockopt_check(&b->so, b->mode == MODE_UDP ? SOCKOPT_AT_CLIENT_UDP : SOCKOPT_AT_CLIENT,
	    msg, sizeof(msg)) < 0)
		return cli_error(BENCH_USAGE, err, errlen, "-O: %s", msg);
	if (b->rate > 0 && !(b->mode == MODE_CONNRATE || b->mode == MODE_PINGPONG || b->mode == MODE_UDP))
		return cli_error(BENCH_USAGE, err, errlen, "--rate paces connrate, pingpong and udp, not %s",
		    mode_names[b->mode]);
	if ((why = options_procs(b)) != NULL)
		return cli_error(BENCH_USAGE, err, errlen, "%s", why);
	clock_gettime(CLOCK_REALTIME, &now);
	if (b->start_at > (double)now.tv_sec + 7 * 86400)
		return cli_error(BENCH_USAGE, err, errlen, "--start-at %.0f is more than a week ahead", b->start_at);
	return BENCH_RUN;
}

bool
bench_unix(const struct bench *b)
{
	return strncmp(b->host, "unix:", 5) == 0;
}

const char *
bench_usage(void)
{
	return usage_text;
}

enum bench_parsed
bench_parse(struct bench *b, int argc, char **argv, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool size_given = false;
	enum bench_parsed r;
	int c;

	*b = (struct bench){ .host = "127.0.0.1", .port = MPECHO_DEFAULT_PORT, .conns = 16,
	    .size = 64, .threads = ncpu > 0 ? (int)ncpu : 1, .timeout_ms = 10000,
	    .duration = 5, .warmup = 1, .procs = 1 };
	opterr = 0;
	optind = 0;	/* getopt's whole reset (see cli.h) */
	while ((c = getopt_long(argc, argv, ":c:s:d:n:w:t:S:T:R:O:qhV", bench_long, NULL)) != -1)
		if ((r = options_apply(b, c, optarg, argv, &size_given, err, errlen)) != BENCH_RUN)
			return r;
	if ((r = options_operands(b, argc - optind, argv + optind, size_given, err, errlen)) !=
	    BENCH_RUN)
		return r;
	return options_check(b, err, errlen);
}
