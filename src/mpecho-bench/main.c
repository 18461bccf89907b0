/*
 * mpecho-bench: the load generator. One epoll loop per thread, non-blocking
 * connections, every byte received checked against what was sent.
 *
 * Each connection sends a slice of one shared pseudo-random pattern, starting
 * at its own offset, so checking a received chunk is one memcmp against the
 * pattern at the connection's receive position: nothing is stored per byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "number.h"
#include "mpecho.h"
#include "stats.h"

#define PATTERN_SIZE (1u << 20)
#define CHUNK (64 * 1024)		/* largest read or write */
#define STREAM_WINDOW (256 * 1024)	/* stream mode: bytes in flight per connection at most */
#define RETRY_MS 10			/* wait before reconnecting after a failure */
#define EXIT_CONN_ERRORS 3		/* connection errors, but every byte checked out */
#define EVENT_READS 64			/* reads for one event at most, then back to the loop */
#define JOIN_GRACE_S 10			/* a thread still running this long after the end is reported */

enum mode { MODE_CONNRATE, MODE_PINGPONG, MODE_STREAM, MODE_HOLD };
static const char *const mode_names[] = { "connrate", "pingpong", "stream", "hold" };

struct bench {
	enum mode mode;
	const char *host, *port;
	int conns, size, threads, sources, timeout_ms;
	double duration, warmup;
	uint64_t count;			/* stop after this many measured operations; 0: no bound */
	bool json, quiet;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

enum conn_state { C_IDLE, C_CONNECTING, C_ACTIVE, C_HELD };

struct conn {
	int fd;
	enum conn_state state;
	uint32_t events;		/* epoll interest now registered */
	uint64_t base;			/* where this connection starts in the pattern */
	uint64_t tx, rx;		/* bytes sent and received on this connection */
	uint64_t msg_end;		/* tx position where the current message ends */
	int64_t t_start;		/* ns: session (connrate) or message (pingpong) start */
	int64_t t_progress;		/* ns: last progress, for --timeout */
	int64_t retry_at;		/* ns: when an idle connection may reconnect */
	bool was_held;			/* hold mode: a held connection that closed stays closed */
	unsigned source;
};

struct errors {
	uint64_t connect, reset, closed, timeout, lost, extra, corrupt;
};

struct thread {
	pthread_t tid;
	const struct bench *b;
	int epfd;
	struct conn *conns;
	int nconns;
	unsigned first_id;
	struct stats lat;
	uint64_t ops;			/* measured operations */
	uint64_t bytes;			/* measured bytes echoed back */
	uint64_t held;			/* hold mode: connections that echoed and are held */
	struct errors err;
	uint64_t progress_ops;		/* all operations, read by the progress line */
	uint64_t progress_bytes;
};

/* 0: warm-up, 1: measuring, 2: stop. Written by the main thread, read by the workers. */
static int phase;
static uint64_t measured_ops;		/* summed over threads, for --count */
static unsigned char pattern[PATTERN_SIZE + CHUNK];

static const char usage_text[] =
"Usage: mpecho-bench [OPTIONS] MODE [HOST [PORT]]\n"
"Load an echo server (default 127.0.0.1 port " MPECHO_DEFAULT_PORT ") and check every byte it sends back.\n"
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
"                       error (default 10)\n"
"      --json           print the result as one JSON object\n"
"  -q, --quiet          no progress line\n"
"  -h, --help           show this help and exit\n"
"  -V, --version        show the version and exit\n"
"\n"
"Every received byte is compared with what was sent on that connection: lost bytes\n"
"(sent, never echoed before the server closed), extra bytes and corrupted bytes are\n"
"counted, as are connect failures, resets, early closes and timeouts.\n"
"Latency percentiles (p50, p90, p99, p99.9, max) come from a log-linear histogram\n"
"with 1.6% precision. A progress line is printed once a second on a terminal.\n"
"\n"
"Exit status: 0 no error; 1 lost, extra or corrupted bytes; 2 usage error;\n"
"3 connection errors (connect, reset, close, timeout) with every byte intact.\n";

static const struct option long_options[] = {
	{ "conns", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, 's' },
	{ "duration", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'n' },
	{ "warmup", required_argument, NULL, 'w' },
	{ "threads", required_argument, NULL, 't' },
	{ "sources", required_argument, NULL, 'S' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
load_phase(void)
{
	return __atomic_load_n(&phase, __ATOMIC_RELAXED);
}

/* xorshift64*: the same pattern on every run. The tail repeats the head so any slice is contiguous. */
static void
pattern_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < PATTERN_SIZE; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		pattern[i] = (unsigned char)((x * 2685821657736338717ull) >> 56);
	}
	memcpy(pattern + PATTERN_SIZE, pattern, CHUNK);
}

static const unsigned char *
pattern_at(const struct conn *c, uint64_t pos)
{
	return pattern + (c->base + pos) % PATTERN_SIZE;
}

static void
set_events(struct thread *t, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	epoll_ctl(t->epfd, c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
	c->events = events;
}

static void
conn_close(struct thread *t, struct conn *c, int64_t retry_ns)
{
	(void)t;
	if (c->fd >= 0)
		close(c->fd);	/* also leaves the epoll set */
	c->fd = -1;
	c->events = 0;
	c->state = C_IDLE;
	c->retry_at = now_ns() + retry_ns;
}

/* The connection broke while bytes were in flight: they are lost. */
static void
conn_fail(struct thread *t, struct conn *c, uint64_t *counter)
{
	(*counter)++;
	if (c->state == C_HELD)
		t->held--;
	if (c->tx > c->rx)
		t->err.lost += c->tx - c->rx;
	conn_close(t, c, (int64_t)RETRY_MS * 1000000);
}

static void
conn_open(struct thread *t, struct conn *c)
{
	const struct bench *b = t->b;
	int on = 1;

	c->tx = c->rx = c->msg_end = 0;
	c->fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (b->sources > 0) {
		struct sockaddr_in src = { .sin_family = AF_INET };

		/* The port is chosen at connect(), per destination: many sources, many ports. */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on));
		src.sin_addr.s_addr = htonl(0x7f010001u + c->source % (unsigned)b->sources);
		bind(c->fd, (struct sockaddr *)&src, sizeof(src));
		c->source++;
	}
	c->t_start = c->t_progress = now_ns();
	if (connect(c->fd, (const struct sockaddr *)&b->addr, b->addrlen) < 0 && errno != EINPROGRESS) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	c->state = C_CONNECTING;
	set_events(t, c, EPOLLOUT);
}

/* Queue the next message: connrate and pingpong send `size` bytes, then wait for them. */
static void
next_message(struct thread *t, struct conn *c)
{
	c->msg_end = c->tx + (uint64_t)t->b->size;
	c->t_start = now_ns();
}

static void
count_op(struct thread *t, int64_t started, int64_t now)
{
	__atomic_store_n(&t->progress_ops, t->progress_ops + 1, __ATOMIC_RELAXED);
	if (load_phase() != 1)
		return;
	t->ops++;
	stats_add(&t->lat, (uint64_t)(now - started));
	if (t->b->count > 0 &&
	    __atomic_add_fetch(&measured_ops, 1, __ATOMIC_RELAXED) >= t->b->count)
		__atomic_store_n(&phase, 2, __ATOMIC_RELAXED);
}

/* Send what the mode allows now. False if the connection failed. */
static bool
conn_send(struct thread *t, struct conn *c)
{
	uint64_t limit = t->b->mode == MODE_STREAM ? c->rx + STREAM_WINDOW : c->msg_end;
	ssize_t n;

	while (c->tx < limit) {
		size_t len = limit - c->tx > CHUNK ? CHUNK : (size_t)(limit - c->tx);

		n = send(c->fd, pattern_at(c, c->tx), len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_events(t, c, EPOLLIN | EPOLLOUT);
				return true;
			}
			if (errno == EINTR)
				continue;
			conn_fail(t, c, errno == ECONNRESET || errno == EPIPE ? &t->err.reset : &t->err.closed);
			return false;
		}
		c->tx += (uint64_t)n;
		c->t_progress = now_ns();
	}
	set_events(t, c, EPOLLIN);
	return true;
}

/* Compare a received chunk with what was sent at that position; count differing bytes. */
static void
verify(struct thread *t, const struct conn *c, const unsigned char *buf, size_t n)
{
	const unsigned char *want = pattern_at(c, c->rx);
	size_t i;

	if (memcmp(buf, want, n) == 0)
		return;
	for (i = 0; i < n; i++)
		if (buf[i] != want[i])
			t->err.corrupt++;
}

/* A whole message (or session) came back: account for it and go on. */
static void
message_done(struct thread *t, struct conn *c, int64_t now)
{
	switch (t->b->mode) {
	case MODE_CONNRATE:
		count_op(t, c->t_start, now);
		conn_close(t, c, 0);
		conn_open(t, c);
		break;
	case MODE_PINGPONG:
		count_op(t, c->t_start, now);
		next_message(t, c);
		conn_send(t, c);
		break;
	case MODE_HOLD:
		c->state = C_HELD;
		c->was_held = true;
		t->held++;
		__atomic_store_n(&t->progress_ops, t->held, __ATOMIC_RELAXED);
		break;
	case MODE_STREAM:
		break;
	}
}

static void
conn_receive(struct thread *t, struct conn *c, unsigned char *buf)
{
	ssize_t n;
	int64_t now;
	int reads;

	/* Bounded: a server that always has the next reply ready cannot keep this loop from the stop flag. */
	for (reads = 0; reads < EVENT_READS; reads++) {
		n = recv(c->fd, buf, CHUNK, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			conn_fail(t, c, &t->err.reset);
			return;
		}
		if (n == 0) {
			/* The server closed: an error unless a held connection is what it closed. */
			conn_fail(t, c, &t->err.closed);
			return;
		}
		now = now_ns();
		c->t_progress = now;
		if (c->rx + (uint64_t)n > c->tx) {
			t->err.extra += c->rx + (uint64_t)n - c->tx;
			n = (ssize_t)(c->tx - c->rx);
			verify(t, c, buf, (size_t)n);
			c->rx = c->tx;
			conn_fail(t, c, &t->err.closed);
			return;
		}
		verify(t, c, buf, (size_t)n);
		c->rx += (uint64_t)n;
		if (t->b->mode == MODE_STREAM) {
			__atomic_store_n(&t->progress_bytes, t->progress_bytes + (uint64_t)n, __ATOMIC_RELAXED);
			if (load_phase() == 1)
				t->bytes += (uint64_t)n;
			if (!conn_send(t, c))
				return;
		} else if (c->rx == c->msg_end) {
			message_done(t, c, now);
			if (c->state != C_ACTIVE)
				return;
		}
	}
}

static void
conn_connected(struct thread *t, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		t->err.connect++;
		conn_close(t, c, (int64_t)RETRY_MS * 1000000);
		return;
	}
	c->state = C_ACTIVE;
	c->t_progress = now_ns();
	if (t->b->mode != MODE_STREAM)
		c->msg_end = (uint64_t)t->b->size;	/* connrate: t_start stays the connect time */
	if (t->b->mode == MODE_PINGPONG)
		c->t_start = c->t_progress;
	conn_send(t, c);
}

/* Reconnect idle connections, and fail those that waited too long without progress. */
static void
sweep(struct thread *t, int64_t now)
{
	int64_t limit = (int64_t)t->b->timeout_ms * 1000000;
	int i;

	for (i = 0; i < t->nconns; i++) {
		struct conn *c = &t->conns[i];

		if (c->state == C_IDLE && now >= c->retry_at && !c->was_held)
			conn_open(t, c);
		else if ((c->state == C_CONNECTING || c->state == C_ACTIVE) && now - c->t_progress > limit)
			conn_fail(t, c, &t->err.timeout);
	}
}

static void *
thread_run(void *arg)
{
	struct thread *t = arg;
	struct epoll_event ev[256];
	unsigned char *buf = malloc(CHUNK);
	int64_t last_sweep = 0, now;
	int i, n;

	if (buf == NULL)
		return NULL;
	for (i = 0; i < t->nconns; i++)
		conn_open(t, &t->conns[i]);
	while (load_phase() != 2) {
		n = epoll_wait(t->epfd, ev, 256, 50);
		for (i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (c->fd < 0)
				continue;
			if (c->state == C_CONNECTING) {
				conn_connected(t, c);
				continue;
			}
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_receive(t, c, buf);
			if (c->fd >= 0 && c->state == C_ACTIVE && (ev[i].events & EPOLLOUT))
				conn_send(t, c);
		}
		now = now_ns();
		if (now - last_sweep > 20000000) {
			sweep(t, now);
			last_sweep = now;
		}
	}
	for (i = 0; i < t->nconns; i++)
		if (t->conns[i].fd >= 0)
			close(t->conns[i].fd);
	free(buf);
	return NULL;
}

static double
number_arg(const char *name, const char *text, double min, double max)
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
whole_arg(const char *name, const char *text, long min, long max)
{
	long v;

	if (number_parse(text, min, max, &v) < 0)
		log_die(EXIT_USAGE, "invalid value '%s' for %s: expected a whole number from %ld to %ld",
		    text, name, min, max);
	return v;
}

static void
parse_args(struct bench *b, int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int c, i, size_given = 0;

	*b = (struct bench){ .host = "127.0.0.1", .port = MPECHO_DEFAULT_PORT, .conns = 16,
	    .size = 64, .threads = ncpu > 0 ? (int)ncpu : 1, .timeout_ms = 10000,
	    .duration = 5, .warmup = 1 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:s:d:n:w:t:S:T:qhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'c': b->conns = (int)whole_arg("--conns", optarg, 1, 1000000); break;
		case 's': b->size = (int)whole_arg("--size", optarg, 1, 16777216); size_given = 1; break;
		case 'd': b->duration = number_arg("--duration", optarg, 0.01, 86400); break;
		case 'n': b->count = (uint64_t)whole_arg("--count", optarg, 0, 1000000000000L); break;
		case 'w': b->warmup = number_arg("--warmup", optarg, 0, 3600); break;
		case 't': b->threads = (int)whole_arg("--threads", optarg, 1, 256); break;
		case 'S': b->sources = (int)whole_arg("--sources", optarg, 0, 65534); break;
		case 'T': b->timeout_ms = (int)(number_arg("--timeout", optarg, 0.01, 3600) * 1000); break;
		case 'j': b->json = true; break;
		case 'q': b->quiet = true; break;
		case 'h': fputs(usage_text, stdout); exit(EXIT_OK);
		case 'V': printf("mpecho-bench %s\n", MPECHO_VERSION); exit(EXIT_OK);
		case ':':
			log_die(EXIT_USAGE, "option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt != 0)
				log_die(EXIT_USAGE, "unknown option '-%c' (see mpecho-bench --help)", optopt);
			log_die(EXIT_USAGE, "unknown option '%s' (see mpecho-bench --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		log_die(EXIT_USAGE, "no mode: expected connrate, pingpong, stream or hold");
	for (i = 0; i < 4 && strcmp(argv[optind], mode_names[i]) != 0; i++)
		;
	if (i == 4)
		log_die(EXIT_USAGE, "unknown mode '%s': expected connrate, pingpong, stream or hold",
		    argv[optind]);
	b->mode = (enum mode)i;
	if (b->mode == MODE_STREAM && !size_given)
		b->size = CHUNK;
	if (argc - optind > 3)
		log_die(EXIT_USAGE, "unexpected argument '%s'", argv[optind + 3]);
	if (argc - optind > 1)
		b->host = argv[optind + 1];
	if (argc - optind > 2)
		b->port = argv[optind + 2];
	if (net_check_port(b->port) < 0)
		log_die(EXIT_USAGE, "invalid port '%s': expected a number from 1 to 65535", b->port);
	if (b->threads > b->conns)
		b->threads = b->conns;
}

static void
resolve(struct bench *b)
{
	struct addrinfo *ai;
	int gai = net_resolve(b->host, b->port, 0, AF_UNSPEC, &ai);

	if (gai != 0)
		log_die(EXIT_FAIL, "cannot resolve '%s': %s", b->host, gai_strerror(gai));
	memcpy(&b->addr, ai->ai_addr, ai->ai_addrlen);
	b->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (b->sources > 0 && (b->addr.ss_family != AF_INET ||
	    (ntohl(((struct sockaddr_in *)&b->addr)->sin_addr.s_addr) >> 24) != 127))
		log_die(EXIT_USAGE, "--sources needs an IPv4 loopback target (127.0.0.0/8)");
}

/* Room for every connection's descriptor: raise the soft limit to the hard one if needed. */
static void
raise_fd_limit(const struct bench *b)
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

struct totals {
	double seconds;
	uint64_t ops, bytes, held;
	struct errors err;
	struct stats *lat;
};

static void
sum_threads(struct thread *th, int n, struct totals *tot)
{
	int i;

	for (i = 0; i < n; i++) {
		tot->ops += th[i].ops;
		tot->bytes += th[i].bytes;
		tot->held += th[i].held;
		tot->err.connect += th[i].err.connect;
		tot->err.reset += th[i].err.reset;
		tot->err.closed += th[i].err.closed;
		tot->err.timeout += th[i].err.timeout;
		tot->err.lost += th[i].err.lost;
		tot->err.extra += th[i].err.extra;
		tot->err.corrupt += th[i].err.corrupt;
		stats_merge(tot->lat, &th[i].lat);
	}
}

static double
us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void
report_text(const struct bench *b, const struct totals *t)
{
	const struct errors *e = &t->err;

	printf("mode=%s conns=%d size=%d threads=%d seconds=%.2f\n", mode_names[b->mode],
	    b->conns, b->size, b->threads, t->seconds);
	switch (b->mode) {
	case MODE_CONNRATE:
	case MODE_PINGPONG:
		printf("%s: %llu (%.1f/s)\n", b->mode == MODE_CONNRATE ? "sessions" : "messages",
		    (unsigned long long)t->ops, (double)t->ops / t->seconds);
		printf("latency_us: p50=%.1f p90=%.1f p99=%.1f p99.9=%.1f max=%.1f\n",
		    us(stats_quantile(t->lat, 0.5)), us(stats_quantile(t->lat, 0.9)),
		    us(stats_quantile(t->lat, 0.99)), us(stats_quantile(t->lat, 0.999)),
		    us(t->lat->count ? t->lat->max : 0));
		break;
	case MODE_STREAM:
		printf("echoed: %llu bytes (%.1f MB/s)\n", (unsigned long long)t->bytes,
		    (double)t->bytes / t->seconds / 1e6);
		break;
	case MODE_HOLD:
		printf("held: %llu of %d\n", (unsigned long long)t->held, b->conns);
		break;
	}
	printf("errors: connect=%llu reset=%llu closed=%llu timeout=%llu lost=%llu extra=%llu corrupt=%llu\n",
	    (unsigned long long)e->connect, (unsigned long long)e->reset,
	    (unsigned long long)e->closed, (unsigned long long)e->timeout,
	    (unsigned long long)e->lost, (unsigned long long)e->extra, (unsigned long long)e->corrupt);
}

static void
report_json(const struct bench *b, const struct totals *t)
{
	const struct errors *e = &t->err;

	printf("{\"mode\":\"%s\",\"conns\":%d,\"size\":%d,\"threads\":%d,\"seconds\":%.3f,"
	    "\"ops\":%llu,\"ops_per_s\":%.1f,\"bytes\":%llu,\"mb_per_s\":%.2f,\"held\":%llu,"
	    "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p99.9\":%.1f,\"max\":%.1f},"
	    "\"errors\":{\"connect\":%llu,\"reset\":%llu,\"closed\":%llu,\"timeout\":%llu,"
	    "\"lost\":%llu,\"extra\":%llu,\"corrupt\":%llu}}\n",
	    mode_names[b->mode], b->conns, b->size, b->threads, t->seconds,
	    (unsigned long long)t->ops, (double)t->ops / t->seconds, (unsigned long long)t->bytes,
	    (double)t->bytes / t->seconds / 1e6, (unsigned long long)t->held,
	    us(stats_quantile(t->lat, 0.5)), us(stats_quantile(t->lat, 0.9)),
	    us(stats_quantile(t->lat, 0.99)), us(stats_quantile(t->lat, 0.999)),
	    us(t->lat->count ? t->lat->max : 0),
	    (unsigned long long)e->connect, (unsigned long long)e->reset,
	    (unsigned long long)e->closed, (unsigned long long)e->timeout,
	    (unsigned long long)e->lost, (unsigned long long)e->extra, (unsigned long long)e->corrupt);
}

/* Sleep until `until` (ns), printing a progress line each second on a terminal. */
static void
wait_phase(const struct bench *b, struct thread *th, int64_t start, int64_t until)
{
	bool tty = !b->quiet && isatty(STDERR_FILENO);
	uint64_t ops, bytes;
	int64_t now;
	int i;

	while ((now = now_ns()) < until && load_phase() != 2) {
		int64_t step = until - now < 1000000000 ? until - now : 1000000000;
		struct timespec ts = { step / 1000000000, step % 1000000000 };

		nanosleep(&ts, NULL);
		if (!tty)
			continue;
		for (ops = bytes = 0, i = 0; i < b->threads; i++) {
			ops += __atomic_load_n(&th[i].progress_ops, __ATOMIC_RELAXED);
			bytes += __atomic_load_n(&th[i].progress_bytes, __ATOMIC_RELAXED);
		}
		fprintf(stderr, "\r%6.1fs %s %s: %llu ops, %.1f MB echoed   ",
		    (double)(now_ns() - start) / 1e9, mode_names[b->mode],
		    load_phase() == 0 ? "warm-up" : "measuring", (unsigned long long)ops,
		    (double)bytes / 1e6);
	}
	if (tty)
		fprintf(stderr, "\r%60s\r", "");
}

/*
 * Wait for the threads to see the stop flag; one that has not stopped
 * JOIN_GRACE_S seconds later is reported, and the process exits regardless.
 */
static int
join_threads(struct thread *th, int n)
{
	struct timespec deadline;
	int i, rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += JOIN_GRACE_S;
	for (i = 0; i < n; i++) {
		if (pthread_timedjoin_np(th[i].tid, NULL, &deadline) != 0) {
			log_plain("thread %d did not stop; its figures may be incomplete", i);
			rc = -1;
		}
	}
	return rc;
}

int
main(int argc, char **argv)
{
	static struct stats lat;
	struct totals tot = { .lat = &lat };
	struct thread *th;
	struct bench b;
	int64_t start, measure_start, end;
	int i, per, rest, rc = EXIT_OK;
	bool stuck = false;

	/* 1. Options, target, descriptors, pattern. */
	log_init("mpecho-bench", LOG_LVL_INFO);
	parse_args(&b, argc, argv);
	resolve(&b);
	raise_fd_limit(&b);
	signal(SIGPIPE, SIG_IGN);
	pattern_init();
	stats_init(&lat);

	/* 2. Threads, each with its share of the connections and its own epoll loop. */
	th = calloc((size_t)b.threads, sizeof(*th));
	if (th == NULL)
		log_die(EXIT_FAIL, "out of memory");
	per = b.conns / b.threads;
	rest = b.conns % b.threads;
	for (i = 0; i < b.threads; i++) {
		struct thread *t = &th[i];
		int j;

		t->b = &b;
		t->nconns = per + (i < rest);
		t->first_id = (unsigned)(i * per + (i < rest ? i : rest));
		t->conns = calloc((size_t)t->nconns, sizeof(*t->conns));
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (t->conns == NULL || t->epfd < 0)
			log_die(EXIT_FAIL, "cannot set up thread %d: %s", i, strerror(errno));
		stats_init(&t->lat);
		for (j = 0; j < t->nconns; j++) {
			unsigned id = t->first_id + (unsigned)j;

			t->conns[j].fd = -1;
			t->conns[j].base = (uint64_t)id * 7919u * 64u;
			t->conns[j].source = id;
		}
	}
	start = now_ns();
	for (i = 0; i < b.threads; i++)
		if (pthread_create(&th[i].tid, NULL, thread_run, &th[i]) != 0)
			log_die(EXIT_FAIL, "cannot start a thread");

	/* 3. Warm up, measure, stop. */
	wait_phase(&b, th, start, start + (int64_t)(b.warmup * 1e9));
	measure_start = now_ns();
	__atomic_store_n(&phase, 1, __ATOMIC_RELAXED);
	wait_phase(&b, th, start, measure_start + (int64_t)(b.duration * 1e9));
	end = now_ns();
	__atomic_store_n(&phase, 2, __ATOMIC_RELAXED);
	if (join_threads(th, b.threads) < 0) {
		rc = EXIT_CONN_ERRORS;
		stuck = true;
	}

	/* 4. Report. */
	tot.seconds = (double)(end - measure_start) / 1e9;
	sum_threads(th, b.threads, &tot);
	if (b.json)
		report_json(&b, &tot);
	else
		report_text(&b, &tot);
	if (tot.err.lost || tot.err.extra || tot.err.corrupt)
		rc = EXIT_FAIL;
	else if (rc != EXIT_OK)
		;
	else if (tot.err.connect || tot.err.reset || tot.err.closed || tot.err.timeout ||
	    (b.mode == MODE_HOLD && tot.held < (uint64_t)b.conns))
		rc = EXIT_CONN_ERRORS;
	if (stuck) {
		fflush(stdout);
		_exit(rc);	/* a thread still runs: leave without freeing what it uses */
	}
	for (i = 0; i < b.threads; i++) {
		close(th[i].epfd);
		free(th[i].conns);
	}
	free(th);
	return rc;
}
