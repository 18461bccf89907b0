/* options: mpecho-bench's command line, its target and its descriptor limit. */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
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
"             Reports how many are held; for scale and memory tests.\n"
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
"                       runs do not run out of ephemeral ports (default 0: one source)\n"
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
"                       apply) and the whole latency histogram, for merge\n"
"      --banner         the server sends a line first (mpechod --banner): each\n"
"                       connection reads it before its echo is checked\n"
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
"name does not resolve, the CA file cannot be loaded, no memory or threads.\n";

static const struct option long_options[] = {
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
	{ "progress", required_argument, NULL, 'P' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "banner", no_argument, NULL, 'b' },
	{ "tls", no_argument, NULL, 'L' },
	{ "ca", required_argument, NULL, 'C' },
	{ "insecure", no_argument, NULL, 'k' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static double
options_real(const char *name, const char *text, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || errno != 0 || !(v >= min && v <= max))
		log_die(EXIT_USAGE, "invalid value '%s' for %s: expected a number from %g to %g",
		    text, name, min, max);
	return v;
}

static long
options_whole(const char *name, const char *text, long min, long max)
{
	long v;

	if (number_parse(text, min, max, &v) < 0)
		log_die(EXIT_USAGE, "invalid value '%s' for %s: expected a whole number from %ld to %ld",
		    text, name, min, max);
	return v;
}

/* One option with its value; a bad value ends the program with a usage error. */
static void
options_apply(struct bench *b, int c, const char *arg, char **argv, bool *size_given)
{
	char msg[128];

	switch (c) {
	case 'c': b->conns = (int)options_whole("--conns", arg, 1, 1000000); break;
	case 's': b->size = (int)options_whole("--size", arg, 1, 16777216); *size_given = true; break;
	case 'd': b->duration = options_real("--duration", arg, 0.01, 86400); break;
	case 'n': b->count = (uint64_t)options_whole("--count", arg, 0, 1000000000000L); break;
	case 'w': b->warmup = options_real("--warmup", arg, 0, 3600); break;
	case 't': b->threads = (int)options_whole("--threads", arg, 1, 256); break;
	case 'S': b->sources = (int)options_whole("--sources", arg, 0, 65534); break;
	case 'R': b->ramp = (int)options_whole("--ramp", arg, 0, 1000000); break;
	case 'T': b->timeout_ms = (int)(options_real("--timeout", arg, 0.01, 3600) * 1000); break;
	case 'r': b->rate = options_real("--rate", arg, 0.001, 1e9); break;
	case 'A': b->start_at = options_real("--start-at", arg, 1, 1e11); break;
	case 'P': b->progress = options_real("--progress", arg, 0.05, 3600); break;
	case 'j': b->json = true; break;
	case 'q': b->quiet = true; break;
	case 'b': b->banner = true; break;
	case 'L': b->tls = true; break;
	case 'C': b->ca = arg; break;
	case 'k': b->insecure = true; break;
	case 'h': fputs(usage_text, stdout); exit(EXIT_OK);
	case 'V': printf("mpecho-bench %s\n", MPECHO_VERSION); exit(EXIT_OK);
	default:
		log_die(EXIT_USAGE, "%s (see mpecho-bench --help)",
		    cli_complaint(c, argv, long_options, msg, sizeof(msg)));
	}
}

/* MODE [HOST [PORT]] after the options. */
static void
options_operands(struct bench *b, int n, char **args, bool size_given)
{
	int i;

	if (n < 1)
		log_die(EXIT_USAGE, "no mode: expected connrate, pingpong, stream, hold, sink, source or udp");
	for (i = 0; i < MODES && strcmp(args[0], mode_names[i]) != 0; i++)
		;
	if (i == MODES)
		log_die(EXIT_USAGE, "unknown mode '%s': expected connrate, pingpong, stream, hold, sink, "
		    "source or udp", args[0]);
	b->mode = (enum mode)i;
	if ((b->mode == MODE_STREAM || b->mode == MODE_SINK) && !size_given)
		b->size = CHUNK;
	if (b->mode == MODE_UDP && (b->size < 8 || b->size > 65507))
		log_die(EXIT_USAGE, "udp mode sends datagrams of 8 to 65507 bytes (-s %d)", b->size);
	if (n > 3)
		log_die(EXIT_USAGE, "unexpected argument '%s'", args[3]);
	if (n > 1)
		b->host = args[1];
	if (n > 2 && strncmp(b->host, "unix:", 5) == 0)
		log_die(EXIT_USAGE, "unexpected argument '%s': a unix: socket has no port", args[2]);
	if (n > 2)
		b->port = args[2];
	if (net_check_port(b->port) < 0)
		log_die(EXIT_USAGE, "invalid port '%s': expected a number from 1 to 65535", b->port);
	if (b->threads > b->conns)
		b->threads = b->conns;
}

static void
options_resolve(struct bench *b)
{
	struct addrinfo *ai;
	int gai;

	if (strncmp(b->host, "unix:", 5) == 0) {
		if (net_unix_addr(b->host, &b->addr, &b->addrlen) < 0)
			log_die(EXIT_USAGE, "invalid socket '%s': %s", b->host, strerror(errno));
		if (b->sources > 0)
			log_die(EXIT_USAGE, "--sources needs an IPv4 loopback target (127.0.0.0/8)");
		return;
	}
	gai = net_resolve(b->host, b->port, 0, AF_UNSPEC, &ai);
	if (gai != 0)
		log_die(EXIT_NOT_RUN, "cannot resolve '%s': %s", b->host, gai_strerror(gai));
	memcpy(&b->addr, ai->ai_addr, ai->ai_addrlen);
	b->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (b->sources > 0 && (b->addr.ss_family != AF_INET ||
	    (ntohl(((struct sockaddr_in *)&b->addr)->sin_addr.s_addr) >> 24) != 127))
		log_die(EXIT_USAGE, "--sources needs an IPv4 loopback target (127.0.0.0/8)");
}

/* --tls, --ca, --insecure: the one client context every connection shares. */
static void
options_tls(struct bench *b)
{
	char err[512];

	if ((b->ca != NULL || b->insecure) && !b->tls)
		log_die(EXIT_USAGE, "%s is for TLS: add --tls", b->ca != NULL ? "--ca" : "--insecure");
	if (b->ca != NULL && b->insecure)
		log_die(EXIT_USAGE, "--ca and --insecure exclude each other");
	if (b->tls && b->addr.ss_family == AF_UNIX)
		log_die(EXIT_USAGE, "--tls is for TCP servers, not unix: sockets");
	if (b->tls && (b->tls_ctx = tls_client_context(b->ca, b->insecure, err, sizeof(err))) == NULL)
		log_die(EXIT_NOT_RUN, "%s", err);
}

/* --rate paces operations; --start-at is at most a week ahead. */
static void
options_pacing(const struct bench *b)
{
	struct timespec now;

	if (b->rate > 0 && !(b->mode == MODE_CONNRATE || b->mode == MODE_PINGPONG || b->mode == MODE_UDP))
		log_die(EXIT_USAGE, "--rate paces connrate, pingpong and udp, not %s", mode_names[b->mode]);
	clock_gettime(CLOCK_REALTIME, &now);
	if (b->start_at > (double)now.tv_sec + 7 * 86400)
		log_die(EXIT_USAGE, "--start-at %.0f is more than a week ahead", b->start_at);
}

/* The udp mode's limits: IP only, no TLS, no banner, one source address, no ramp. */
static void
options_udp(const struct bench *b)
{
	if (b->mode != MODE_UDP)
		return;
	if (b->addr.ss_family == AF_UNIX || b->tls || b->banner || b->sources > 0 || b->ramp > 0)
		log_die(EXIT_USAGE, "udp mode cannot go with %s", b->addr.ss_family == AF_UNIX ?
		    "a unix: socket" : b->tls ? "--tls" : b->banner ? "--banner" :
		    b->sources > 0 ? "--sources" : "--ramp");
}

/* Room for every connection's descriptor: raise the soft limit to the hard one if needed. */
static void
options_fd_limit(const struct bench *b)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)b->conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		log_die(EXIT_USAGE, "%d connections need %llu descriptors; the limit is %llu",
		    b->conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
}

void
options_parse(struct bench *b, int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool size_given = false;
	int c;

	*b = (struct bench){ .host = "127.0.0.1", .port = MPECHO_DEFAULT_PORT, .conns = 16,
	    .size = 64, .threads = ncpu > 0 ? (int)ncpu : 1, .timeout_ms = 10000,
	    .duration = 5, .warmup = 1 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:s:d:n:w:t:S:T:R:qhV", long_options, NULL)) != -1)
		options_apply(b, c, optarg, argv, &size_given);
	options_operands(b, argc - optind, argv + optind, size_given);
	options_resolve(b);
	options_tls(b);
	options_udp(b);
	options_pacing(b);
	options_fd_limit(b);
}
