/* mpechod: unit tests of the server's pure code: options, listeners, rules, limits, upper, the pool. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acl.h"
#include "admission.h"
#include "banner.h"
#include "child.h"
#include "end.h"
#include "limits.h"
#include "listener.h"
#include "udp.h"
#include "udp_guard.h"
#include "model.h"
#include "options.h"
#include "proctab.h"
#include "sandbox.h"
#include "service.h"
#include "chargen.h"
#include "service_upper.h"
#include "stream.h"
#include "transport.h"

/* Run the upper machine over input cut into pieces of `chunk` bytes. */
static size_t
upper_run(const char *in, size_t n, size_t chunk, char *out, bool *quit)
{
	struct upper_state st;
	size_t off = 0, o = 0, take;

	upper_init(&st);
	*quit = false;
	while (off < n && !*quit) {
		take = n - off < chunk ? n - off : chunk;
		o += upper_feed(&st, in + off, take, out + o, quit);
		off += take;
	}
	if (!*quit)
		o += upper_flush(&st, out + o);
	out[o] = '\0';
	return o;
}

/* The same result whatever the input is cut into. */
static bool
upper_is(const char *in, const char *want, bool want_quit)
{
	char out[256];
	size_t chunk, n = strlen(in);
	bool quit;

	for (chunk = 1; chunk <= n + 1; chunk++) {
		upper_run(in, n, chunk, out, &quit);
		if (strcmp(out, want) != 0 || quit != want_quit) {
			printf("  upper('%s', chunk %zu) gave '%s' quit=%d\n", in, chunk, out, quit);
			return false;
		}
	}
	return true;
}

static void
test_upper(void)
{
	CHECK(upper_is("hello\n", "HELLO\n", false));
	CHECK(upper_is("MiXeD 123 äß!\n", "MIXED 123 äß!\n", false));
	CHECK(upper_is("a\nb\nc\n", "A\nB\nC\n", false));
	CHECK(upper_is("quit\n", "", true));
	CHECK(upper_is("quit\r\n", "", true));
	CHECK(upper_is("one\nquit\ntwo\n", "ONE\n", true));
	CHECK(upper_is("one\r\nquit\r\nafter\n", "ONE\r\n", true));
	CHECK(upper_is("quitx\n", "QUITX\n", false));
	CHECK(upper_is("qui\n", "QUI\n", false));
	CHECK(upper_is(" quit\n", " QUIT\n", false));
	CHECK(upper_is("QUIT\n", "QUIT\n", false));
	CHECK(upper_is("xquit\n", "XQUIT\n", false));
	CHECK(upper_is("quit\rx\n", "QUIT\rX\n", false));
	CHECK(upper_is("quit", "QUIT", false));	/* no line end: not a quit line */
	CHECK(upper_is("qu", "QU", false));
	CHECK(upper_is("\n\nquit\n", "\n\n", true));
	CHECK(upper_is("", "", false));
}

static void
test_upper_binary(void)
{
	char in[3] = { 'q', '\0', 'a' }, out[16];
	struct upper_state st;
	bool quit = false;
	size_t n;

	upper_init(&st);
	n = upper_feed(&st, in, sizeof(in), out, &quit);
	CHECK(n == 3 && out[0] == 'Q' && out[1] == '\0' && out[2] == 'A' && !quit);
}

static enum options_result
parse(struct config *cfg, char *err, size_t errlen, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;
	enum options_result r;

	argv[argc++] = "mpechod";
	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	r = options_parse(cfg, argc, argv, err, errlen);
	return r;
}

static void
test_options_parse(void)
{
	struct config cfg;
	char err[256];

	CHECK(parse(&cfg, err, sizeof(err), NULL) == OPTIONS_RUN && cfg.nlistens == 0 &&
	    strcmp(cfg.service->name, "echo") == 0 && cfg.grace == 10);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "9190", NULL) == OPTIONS_RUN && cfg.nlistens == 1 &&
	    cfg.listens[0].host == NULL && strcmp(cfg.listens[0].port, "9190") == 0);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "127.0.0.1", "9190", NULL) == OPTIONS_RUN &&
	    cfg.nlistens == 1 && strcmp(cfg.listens[0].host, "127.0.0.1") == 0);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", "[::1]:0", "--listen=127.0.0.1:0", "-s", "upper",
	    "--grace", "0", "-c", "5", NULL) == OPTIONS_RUN && cfg.nlistens == 2 &&
	    strcmp(cfg.service->name, "upper") == 0 && cfg.grace == 0 && cfg.max_conns == 5);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", "unix:/u", "--socket-mode", "660", NULL) == OPTIONS_RUN &&
	    cfg.socket_mode == 0660);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", "unix:/u", "--socket-mode", "0600", NULL) == OPTIONS_RUN &&
	    cfg.socket_mode == 0600);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--socket-mode", "8", NULL) == OPTIONS_ERROR &&
	    strstr(err, "--socket-mode") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--socket-mode", "1777", NULL) == OPTIONS_ERROR);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--socket-mode", "", NULL) == OPTIONS_ERROR);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--backlog", "0", NULL) == OPTIONS_ERROR &&
	    strstr(err, "'0'") != NULL && strstr(err, "--backlog") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--bogus", NULL) == OPTIONS_ERROR &&
	    strstr(err, "'--bogus'") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-x", NULL) == OPTIONS_ERROR && strstr(err, "'-x'") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-s", "rot13", NULL) == OPTIONS_ERROR &&
	    strstr(err, "'rot13'") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "70000", NULL) == OPTIONS_ERROR && strstr(err, "'70000'") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", "nocolon", NULL) == OPTIONS_ERROR &&
	    strstr(err, "'nocolon'") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "a", "1", "2", NULL) == OPTIONS_ERROR && strstr(err, "'2'") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--grace", NULL) == OPTIONS_ERROR && strstr(err, "--grace") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-h", NULL) == OPTIONS_HELP);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", ":0,tls", "--tls-cert", "c.pem", "--tls-key", "k.pem",
	    NULL) == OPTIONS_RUN && cfg.listens[0].tls && cfg.tls_cert[0] == '/' &&
	    strstr(cfg.tls_key, "/k.pem") != NULL && cfg.tls_timeout == 10);	/* made absolute */
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-i", "--tls-cert", "/c", "--tls-key", "/k", NULL) ==
	    OPTIONS_RUN && cfg.inetd);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", ":0,deferred", "-s", "upper", NULL) == OPTIONS_RUN &&
	    cfg.listens[0].deferred);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", ":0,deferred", "-s", "chargen", NULL) == OPTIONS_ERROR &&
	    strstr(err, "-s chargen speaks first") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", ":0,deferred", "--banner", "%h", NULL) == OPTIONS_ERROR &&
	    strstr(err, "--banner speaks first") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", ":0,tls", NULL) == OPTIONS_ERROR &&
	    strstr(err, "--tls-cert FILE and --tls-key FILE") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "-l", ":0,tls", "--tls-key", "/k", NULL) == OPTIONS_ERROR &&
	    strstr(err, "--tls-key needs --tls-cert") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--tls-cert", "/c", "--tls-key", "/k", NULL) ==
	    OPTIONS_ERROR && strstr(err, "none has it") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--tls-cert", "", NULL) == OPTIONS_ERROR &&
	    strstr(err, "empty path for --tls-cert") != NULL);
	options_free(&cfg);
	CHECK(parse(&cfg, err, sizeof(err), "--tls-timeout", "3601", NULL) == OPTIONS_ERROR &&
	    strstr(err, "--tls-timeout") != NULL);
	options_free(&cfg);
}

static struct net_addr
addr(const char *text)
{
	struct net_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, text, a.bytes) == 1) {
		a.family = AF_INET;
	} else {
		a.family = AF_INET6;
		inet_pton(AF_INET6, text, a.bytes);
	}
	return a;
}

static bool
permits(const char *client, ...)
{
	struct acl acl = { NULL, 0, false };
	struct acl_rule rule;
	struct net_addr a = addr(client);
	const char *text;
	bool ok = true, result;
	va_list ap;

	va_start(ap, client);
	while ((text = va_arg(ap, const char *)) != NULL) {
		/* "+rule" allows, "-rule" denies */
		if (acl_parse(text + 1, text[0] == '+', &rule) < 0 || acl_add(&acl, &rule) < 0)
			ok = false;
	}
	va_end(ap);
	result = ok && acl_permits(&acl, &a);
	acl_free(&acl);
	return result;
}

static void
test_acl(void)
{
	struct acl_rule r;

	CHECK(acl_parse("10.0.0.0/8", true, &r) == 0 && r.prefix == 8 && r.net.family == AF_INET);
	CHECK(acl_parse("10.1.2.3/8", true, &r) == ACL_HOST_BITS && r.net.bytes[1] == 0);	/* host bits */
	CHECK(acl_parse("192.168.1.5/1", true, &r) == ACL_HOST_BITS && r.prefix == 1 && r.net.bytes[0] == 128);
	CHECK(acl_parse("2001:db8::1/32", true, &r) == ACL_HOST_BITS);
	CHECK(acl_parse("10.0.0.0/8", true, &r) == 0 && acl_parse("0.0.0.0/0", true, &r) == 0);
	CHECK(acl_parse("192.0.2.7", false, &r) == 0 && r.prefix == 32 && !r.allow);
	CHECK(acl_parse("::1", true, &r) == 0 && r.prefix == 128 && r.net.family == AF_INET6);
	CHECK(acl_parse("2001:db8::/32", true, &r) == 0 && r.prefix == 32);
	CHECK(acl_parse("::ffff:10.0.0.0/104", true, &r) == 0 && r.net.family == AF_INET &&
	    r.prefix == 8 && r.net.bytes[0] == 10);
	CHECK(acl_parse("0.0.0.0/0", true, &r) == 0 && r.prefix == 0);
	CHECK(acl_parse("10.0.0.0/33", true, &r) < 0 && errno == EINVAL);
	CHECK(acl_parse("::/129", true, &r) < 0);
	CHECK(acl_parse("10.0.0.0/", true, &r) < 0);
	CHECK(acl_parse("/8", true, &r) < 0);
	CHECK(acl_parse("10.0.0/8", true, &r) < 0);
	CHECK(acl_parse("host.example", true, &r) < 0);
	CHECK(acl_parse("10.0.0.0/8x", true, &r) < 0);
	CHECK(acl_parse("", true, &r) < 0);

	CHECK(permits("192.0.2.1", NULL));			/* no rules: everyone */
	CHECK(permits("10.9.8.7", "+10.0.0.0/8", NULL));
	CHECK(!permits("11.0.0.1", "+10.0.0.0/8", NULL));	/* an allow rule excludes the rest */
	CHECK(!permits("10.0.0.5", "+10.0.0.0/8", "-10.0.0.5", NULL));	/* deny wins */
	CHECK(!permits("10.0.0.5", "-10.0.0.5", "+10.0.0.0/8", NULL));	/* whatever the order */
	CHECK(permits("10.0.0.6", "-10.0.0.5", NULL));
	CHECK(!permits("::1", "+127.0.0.0/8", NULL));		/* families never cross */
	CHECK(permits("::1", "+::1", NULL));
	CHECK(permits("2001:db8:ffff::1", "+2001:db8::/32", NULL));
	CHECK(!permits("2001:db9::1", "+2001:db8::/32", NULL));
	CHECK(permits("172.16.5.4", "+172.16.0.0/12", NULL));
	CHECK(permits("172.31.255.255", "+172.16.0.0/12", NULL));
	CHECK(!permits("172.32.0.0", "+172.16.0.0/12", NULL));
	CHECK(!permits("127.0.0.1", "-0.0.0.0/0", NULL));
	CHECK(permits("127.0.0.1", "-::/0", NULL));
}

static void
test_limits_per_source(void)
{
	struct limits *l = limits_new(8, 2, 0);
	struct net_addr a = addr("10.0.0.1"), b = addr("10.0.0.2"), c;
	int i;
	char text[32];

	CHECK(l != NULL);
	CHECK(limits_admit(l, &a, 0) == LIMITS_OK);
	CHECK(limits_admit(l, &a, 0) == LIMITS_OK);
	CHECK(limits_admit(l, &a, 0) == LIMITS_PER_SOURCE);
	CHECK(limits_admit(l, &b, 0) == LIMITS_OK);
	CHECK(limits_live(l, &a) == 2 && limits_live(l, &b) == 1);
	limits_release(l, &a);
	CHECK(limits_admit(l, &a, 0) == LIMITS_OK);
	/* Many other sources come and go: the table evicts idle entries, never live ones. */
	for (i = 0; i < 100; i++) {
		snprintf(text, sizeof(text), "10.1.0.%d", i);
		c = addr(text);
		CHECK(limits_admit(l, &c, 0) == LIMITS_OK);
		limits_release(l, &c);
	}
	CHECK(limits_live(l, &a) == 2 && limits_live(l, &b) == 1);
	CHECK(limits_admit(l, &a, 0) == LIMITS_PER_SOURCE);
	limits_free(l);
}

static void
test_limits_rate(void)
{
	struct limits *l = limits_new(8, 0, 4);
	struct net_addr a = addr("2001:db8::1"), b = addr("2001:db8::2");
	int i, ok = 0;

	for (i = 0; i < 10; i++)
		if (limits_admit(l, &a, 1000) == LIMITS_OK)
			ok++;
	CHECK(ok == 4);					/* a burst of rate */
	CHECK(limits_admit(l, &a, 1000) == LIMITS_RATE);
	CHECK(limits_admit(l, &b, 1000) == LIMITS_OK);	/* per source */
	CHECK(limits_admit(l, &a, 1249) == LIMITS_RATE);	/* 4/s: one token per 250 ms */
	CHECK(limits_admit(l, &a, 1250) == LIMITS_OK);
	CHECK(limits_admit(l, &a, 1250) == LIMITS_RATE);
	for (ok = 0, i = 0; i < 10; i++)
		if (limits_admit(l, &a, 100000) == LIMITS_OK)
			ok++;
	CHECK(ok == 4);					/* the bucket never holds more than rate */
	limits_free(l);
}

/*
 * Issue 24, defect 6: a full table used to drop every entry without live
 * sessions, so a flood of new sources handed a limited one a full bucket.
 */
/* A datagram, as admission_datagram() asks: nothing stays live. */
static enum limits_verdict
datagram(struct limits *l, const struct net_addr *a, int64_t now_ms)
{
	enum limits_verdict v = limits_admit(l, a, now_ms);

	if (v == LIMITS_OK)
		limits_release(l, a);
	return v;
}

/*
 * Issue 24, defect 6: a full table used to drop every entry without live
 * sessions, so a flood of new sources handed a limited one a full bucket.
 */
static void
test_limits_rate_survives_a_flood_of_sources(void)
{
	struct limits *l = limits_new(64, 0, 10);
	struct net_addr a = addr("10.0.0.1"), c;
	char text[32];
	int i, ok = 0, refused = 0;

	for (i = 0; i < 10; i++)
		CHECK(datagram(l, &a, 1000) == LIMITS_OK);
	CHECK(datagram(l, &a, 1000) == LIMITS_RATE);	/* its bucket is empty */
	for (i = 0; i < 5000; i++) {			/* 5000 forged sources, the same millisecond */
		snprintf(text, sizeof(text), "10.%d.%d.%d", 1 + i / 65536, (i / 256) % 256, i % 256);
		c = addr(text);
		if (datagram(l, &c, 1000) == LIMITS_RATE)
			refused++;
		if (i % 100 == 0 && datagram(l, &a, 1000) == LIMITS_OK)
			ok++;
	}
	CHECK(ok == 0);					/* never refilled by the flood */
	CHECK(refused == 5000 - 63);			/* the table full: new ones fail closed */
	CHECK(datagram(l, &a, 1099) == LIMITS_RATE);
	CHECK(datagram(l, &a, 1100) == LIMITS_OK);	/* 10/s: its one token, 100 ms later */
	/* 100 ms on, the flood's buckets are full again: they hold nothing and make room. */
	c = addr("10.200.0.1");
	CHECK(datagram(l, &c, 1099) == LIMITS_RATE);
	CHECK(datagram(l, &c, 1100) == LIMITS_OK);
	CHECK(datagram(l, &a, 1100) == LIMITS_RATE);	/* and a is still held back */
	limits_free(l);
}

/*
 * A full table whose sources all had live sessions, then a loop worker died
 * with them (limits_clear_live()): its entries hold nothing and make room for
 * new sources, though no session ends (limits_release()) to say so.
 */
static void
test_limits_room_after_clear_live(void)
{
	struct limits *l = limits_new(4, 0, 10);
	struct net_addr a;
	char text[32];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "10.0.0.%d", i + 1);
		a = addr(text);
		CHECK(limits_admit(l, &a, 1000) == LIMITS_OK);
	}
	a = addr("10.0.1.1");
	CHECK(limits_admit(l, &a, 1000) == LIMITS_RATE);	/* full of live sources: fails closed */
	limits_clear_live(l);
	CHECK(limits_admit(l, &a, 3000) == LIMITS_OK);		/* their buckets full again, nothing live */
	limits_free(l);
}

static bool
spec_is(const char *text, const char *host, const char *port)
{
	struct listen_spec spec;
	char err[128];
	bool ok;

	if (listener_parse(text, &spec, err, sizeof(err)) < 0)
		return false;
	ok = ((host == NULL && spec.host == NULL) || (host && spec.host && strcmp(host, spec.host) == 0)) &&
	    strcmp(port, spec.port) == 0;
	listener_spec_free(&spec);
	return ok;
}

/* Parsing fails, and the message names what was wrong. */
static bool
spec_fails(const char *text, const char *named)
{
	struct listen_spec spec;
	char err[256] = "";

	return listener_parse(text, &spec, err, sizeof(err)) < 0 && strstr(err, named) != NULL &&
	    spec.host == NULL && spec.port == NULL;
}

/*
 * The one wildcard TCP and UDP bind: "::" on port where an IPv6 socket can be
 * made (this machine's answer, asked the same way), else "0.0.0.0".
 */
static void
test_listener_wildcard(void)
{
	struct addrinfo *ai = NULL;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), want = fd >= 0 ? AF_INET6 : AF_INET;
	char name[NET_ADDRSTRLEN];

	if (fd >= 0)
		close(fd);
	CHECK(listener_wildcard("7007", &ai) == 0 && ai->ai_family == want &&
	    strcmp(net_format(ai->ai_addr, name, sizeof(name)),
	    want == AF_INET6 ? "[::]:7007" : "0.0.0.0:7007") == 0);
	if (ai != NULL)
		freeaddrinfo(ai);
	CHECK(listener_wildcard("no-such-service-name", &ai) != 0);
}

/* child_close_except() in a child of its own: the kept descriptors stay, any order; the rest go. */
static void
test_child_close_except(void)
{
	int st = -1, fd[4], i;
	pid_t pid;

	for (i = 0; i < 4; i++)
		fd[i] = open("/dev/null", O_RDONLY);
	if ((pid = fork()) == 0) {
		int keep[3] = { fd[3], -1, fd[1] };

		_exit(child_close_except(keep, 3) == 0 && fcntl(fd[1], F_GETFD) >= 0 &&
		    fcntl(fd[3], F_GETFD) >= 0 && fcntl(fd[0], F_GETFD) < 0 && fcntl(fd[2], F_GETFD) < 0 &&
		    fcntl(STDERR_FILENO, F_GETFD) >= 0 ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (i = 0; i < 4; i++)
		close(fd[i]);
}

/* -l HOST:FIRST-LAST: one spec holding the range, then a spec per port. */
static void
test_listener_range(void)
{
	struct listen_spec spec, one;
	char err[256];

	CHECK(listener_parse("127.0.0.1:9600-9602,proxy", &spec, err, sizeof(err)) == 0 &&
	    spec.ports == 3 && strcmp(spec.port, "9600") == 0 && spec.proxy);
	CHECK(listener_spec_port(&spec, 2, &one, err, sizeof(err)) == 0 && one.ports == 1 &&
	    strcmp(one.port, "9602") == 0 && strcmp(one.host, "127.0.0.1") == 0 && one.proxy &&
	    one.host != spec.host);
	listener_spec_free(&one);
	listener_spec_free(&spec);
	CHECK(listener_parse("udp::7000-7000", &spec, err, sizeof(err)) == 0 && spec.udp &&
	    spec.ports == 1 && spec.host == NULL && strcmp(spec.port, "7000") == 0);
	listener_spec_free(&spec);
	CHECK(listener_parse("[::1]:1-1024", &spec, err, sizeof(err)) == 0 && spec.ports == 1024);
	listener_spec_free(&spec);
	CHECK(listener_parse("127.0.0.1:7", &spec, err, sizeof(err)) == 0 && spec.ports == 1);
	listener_spec_free(&spec);
	CHECK(spec_is("127.0.0.1:http-alt", "127.0.0.1", "http-alt"));	/* a service's dash */
	CHECK(spec_fails("127.0.0.1:9602-9600", "'9602-9600': the first port is above the last"));
	CHECK(spec_fails("127.0.0.1:1-1025", "1025 ports, at most 1024"));
	CHECK(spec_fails("127.0.0.1:0-3", "invalid port range '0-3'"));
	CHECK(spec_fails("127.0.0.1:5-", "invalid port range '5-'"));
	CHECK(spec_fails("127.0.0.1:5-65536", "invalid port range '5-65536'"));
	CHECK(spec_fails("127.0.0.1:5-6-7", "invalid port range '5-6-7'"));
	CHECK(spec_fails("127.0.0.1:5--6", "invalid port range '5--6'"));
	CHECK(spec_fails("udp:127.0.0.1:9-x", "invalid port range '9-x'"));
}

static void
test_listener_parse(void)
{
	struct listen_spec spec;
	char err[256];

	CHECK(spec_is("127.0.0.1:8000", "127.0.0.1", "8000"));
	CHECK(spec_is("[::1]:0", "::1", "0"));
	CHECK(spec_is(":7", NULL, "7"));
	CHECK(spec_is("localhost:echo", "localhost", "echo"));
	CHECK(spec_fails("127.0.0.1:8000,bogus", "'bogus'"));
	CHECK(spec_fails("127.0.0.1", "'127.0.0.1'"));
	CHECK(spec_fails("127.0.0.1:70000", "'70000'"));
	CHECK(spec_fails("::1:80", "'::1:80'"));
	CHECK(listener_parse_pair(NULL, "9190", &spec, err, sizeof(err)) == 0 && spec.host == NULL &&
	    strcmp(spec.port, "9190") == 0);
	listener_spec_free(&spec);
	CHECK(listener_parse_pair("10.0.0.1", "x-no-such-port", &spec, err, sizeof(err)) < 0 &&
	    strstr(err, "'x-no-such-port'") != NULL && spec.host == NULL);
	CHECK(listener_parse("unix:/run/echo.sock", &spec, err, sizeof(err)) == 0 &&
	    strcmp(spec.path, "/run/echo.sock") == 0 && spec.host == NULL && spec.port == NULL);
	listener_spec_free(&spec);
	CHECK(listener_parse("unix:rel.sock", &spec, err, sizeof(err)) == 0 &&
	    spec.path[0] == '/' && strstr(spec.path, "/rel.sock") != NULL);	/* made absolute */
	listener_spec_free(&spec);
	CHECK(spec_fails("unix:", "unix:PATH"));
	CHECK(spec_fails("unix:/x.sock,proxy", "no options"));
	CHECK(spec_fails("unix:/x.sock,tls", "no options"));
	CHECK(listener_parse("127.0.0.1:8443,tls", &spec, err, sizeof(err)) == 0 && spec.tls &&
	    !spec.proxy && strcmp(spec.port, "8443") == 0);
	listener_spec_free(&spec);
	CHECK(listener_parse("[::1]:8443,proxy,tls", &spec, err, sizeof(err)) == 0 && spec.tls &&
	    spec.proxy && strcmp(spec.host, "::1") == 0);
	listener_spec_free(&spec);
	CHECK(listener_parse(":8443,tls,proxy", &spec, err, sizeof(err)) == 0 && spec.tls && spec.proxy);
	listener_spec_free(&spec);
	CHECK(spec_fails("127.0.0.1:8443,tlsx", "'tlsx'"));
	CHECK(spec_fails("127.0.0.1:8443,tls,", "HOST:PORT[,proxy][,tls][,deferred]"));
	CHECK(listener_parse(":7,deferred", &spec, err, sizeof(err)) == 0 && spec.deferred &&
	    !spec.tls && !spec.proxy);
	listener_spec_free(&spec);
	CHECK(listener_parse(":7,proxy,deferred,tls", &spec, err, sizeof(err)) == 0 && spec.deferred &&
	    spec.tls && spec.proxy);
	listener_spec_free(&spec);
	CHECK(listener_parse(":7,tls", &spec, err, sizeof(err)) == 0 && !spec.deferred);
	listener_spec_free(&spec);
	CHECK(spec_fails(":7,defer", "expected proxy, tls, deferred or a socket option"));
	CHECK(spec_fails("unix:/x.sock,deferred", "no options"));
	CHECK(spec_fails("127.0.0.1:8443,,tls", "empty option"));
	CHECK(listener_parse("udp:127.0.0.1:7", &spec, err, sizeof(err)) == 0 && spec.udp &&
	    strcmp(spec.host, "127.0.0.1") == 0 && strcmp(spec.port, "7") == 0 && !spec.tls);
	listener_spec_free(&spec);
	CHECK(listener_parse("udp:[::1]:7007", &spec, err, sizeof(err)) == 0 && spec.udp &&
	    strcmp(spec.host, "::1") == 0);
	listener_spec_free(&spec);
	CHECK(listener_parse("udp::7007", &spec, err, sizeof(err)) == 0 && spec.udp && spec.host == NULL);
	listener_spec_free(&spec);
	CHECK(spec_fails("udp:127.0.0.1:7,proxy", "a udp: listener takes socket options only"));
	CHECK(spec_fails("udp:", "udp:HOST:PORT"));
	CHECK(spec_fails("udp:127.0.0.1:65536", "'65536'"));
	CHECK(udp_port_reflects(19) && udp_port_reflects(7) && udp_port_reflects(53) &&
	    udp_port_reflects(0) && udp_port_reflects(123) && udp_port_reflects(11211));
	CHECK(!udp_port_reflects(8000) && !udp_port_reflects(40000) && !udp_port_reflects(443));
}

static struct sockaddr_in
sin_of(const char *ip, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* Issue 24, defect 2: a datagram that would loop is never answered. */
static void
test_udp_guard(void)
{
	int ports[] = { 7007, 8000 }, i, passed = 0;
	struct udp_guard *g = udp_guard_new(ports, 2);
	struct sockaddr_in own = sin_of("127.0.0.1", 7007), fleet = sin_of("10.0.0.9", 7007),
	    tcp = sin_of("10.0.0.9", 8000), echo = sin_of("10.0.0.2", 5000), client = sin_of("10.0.0.3", 40000);
	enum udp_guard_verdict v;
	char seq[16];

	CHECK(g != NULL);
	/* its own address and port, another instance on its port, a port it listens on in TCP */
	CHECK(udp_guard_check(g, (struct sockaddr *)&own, "x", 1, 1) == UDP_GUARD_PORT);
	CHECK(udp_guard_check(g, (struct sockaddr *)&fleet, "x", 1, 1) == UDP_GUARD_PORT);
	CHECK(udp_guard_check(g, (struct sockaddr *)&tcp, "x", 1, 1) == UDP_GUARD_PORT);
	/* another echo on a port nobody listed: the same datagram back at once, for ever */
	for (i = 0, v = UDP_GUARD_PASS; i < 5000 && v == UDP_GUARD_PASS; i++)
		v = udp_guard_check(g, (struct sockaddr *)&echo, "loop", 4, 1000 + i / 100);
	CHECK(v == UDP_GUARD_LOOP_FOUND && i == UDP_GUARD_REPEATS + 1);
	CHECK(udp_guard_check(g, (struct sockaddr *)&echo, "new", 3, 2000) == UDP_GUARD_LOOP);	/* muted */
	CHECK(udp_guard_check(g, (struct sockaddr *)&echo, "new", 3, 1010 + UDP_GUARD_MUTE_MS) ==
	    UDP_GUARD_PASS);
	/* a client: new datagrams, fast, or the same one sent again slowly, is never muted */
	for (i = 0; i < 5000; i++) {
		snprintf(seq, sizeof(seq), "%d", i);
		passed += udp_guard_check(g, (struct sockaddr *)&client, seq, strlen(seq), 5000 + i / 1000) ==
		    UDP_GUARD_PASS;
	}
	for (i = 0; i < 3000; i++)
		passed += udp_guard_check(g, (struct sockaddr *)&client, "ping", 4,
		    10000 + (int64_t)i * (UDP_GUARD_GAP_MS + 1)) == UDP_GUARD_PASS;
	CHECK(passed == 8000);
	/* a flood of new sources does not push the counted loop out of its table */
	for (i = 0; i < UDP_GUARD_REPEATS / 2; i++)
		udp_guard_check(g, (struct sockaddr *)&echo, "again", 5, 200000);
	for (i = 0; i < 100000; i++) {
		struct sockaddr_in forged = sin_of("10.1.0.0", 1024 + i % 60000);

		forged.sin_addr.s_addr = htonl(0x0a010000u + (uint32_t)i);
		udp_guard_check(g, (struct sockaddr *)&forged, "f", 1, 200000);
	}
	for (i = 0, v = UDP_GUARD_PASS; i < UDP_GUARD_REPEATS && v == UDP_GUARD_PASS; i++)
		v = udp_guard_check(g, (struct sockaddr *)&echo, "again", 5, 200000);
	CHECK(v == UDP_GUARD_LOOP_FOUND && i <= UDP_GUARD_REPEATS / 2 + 1);
	udp_guard_free(g);
}

static bool
described(int wstatus, const char *want)
{
	char buf[64];

	return strcmp(end_describe(wstatus, buf, sizeof(buf)), want) == 0;
}

static void
test_end(void)
{
	CHECK(strcmp(end_name(END_EOF), "eof") == 0 && strcmp(end_name(END_MAX_TIME), "max-time") == 0);
	CHECK(end_name(END_COUNT) == NULL && end_name(-1) == NULL);
	CHECK(end_of_errno(ECONNRESET) == END_RESET && end_of_errno(EPIPE) == END_RESET);
	CHECK(end_of_errno(ETIMEDOUT) == END_IDLE && end_of_errno(EIO) == END_ERROR);
	CHECK(end_of_errno(ETIME) == END_SLOW && strcmp(end_name(END_SLOW), "slow") == 0);
	CHECK(described(W_EXITCODE(END_SLOW, 0), "exit=6 reason=slow"));
	CHECK(end_of_errno(EPROTO) == END_TLS && described(W_EXITCODE(END_TLS, 0), "exit=7 reason=tls"));
	CHECK(described(W_EXITCODE(END_QUIT, 0), "exit=3 reason=quit"));
	CHECK(described(W_EXITCODE(0, 0), "exit=0 reason=eof"));
	CHECK(described(W_EXITCODE(42, 0), "exit=42 reason=unknown"));
	CHECK(described(W_EXITCODE(0, SIGKILL), "signal=KILL reason=killed"));
	CHECK(described(W_EXITCODE(0, SIGTERM), "signal=TERM reason=killed"));
}

static void
test_proctab(void)
{
	static bool seen[32769];
	struct proctab t;
	pid_t pids[1000];
	int slots[1000], i, ok = 1;
	unsigned x = 1;

	CHECK(proctab_init(&t, 3) == 0);
	slots[0] = proctab_claim(&t);
	slots[1] = proctab_claim(&t);
	slots[2] = proctab_claim(&t);
	CHECK(proctab_claim(&t) == -1);			/* full */
	CHECK(slots[0] != slots[1] && slots[1] != slots[2] && slots[0] != slots[2]);
	proctab_unclaim(&t, slots[2]);			/* a fork that failed */
	proctab_bind(&t, slots[0], 100);
	proctab_bind(&t, slots[1], 200);
	CHECK(t.live == 2 && proctab_reap(&t, 300) == -1);
	CHECK(proctab_reap(&t, 200) == slots[1] && t.live == 1 && proctab_reap(&t, 200) == -1);
	CHECK(proctab_reap(&t, 100) == slots[0] && t.live == 0);
	proctab_free(&t);
	/* A half-full map of random pids forms clusters: every pid is found, removed in any order. */
	CHECK(proctab_init(&t, 1000) == 0);
	for (i = 0; i < 1000; i++) {
		do {
			x = x * 1103515245u + 12345u;
			pids[i] = (pid_t)((x >> 16) % 32768 + 1);
		} while (seen[pids[i]]);
		seen[pids[i]] = true;
		slots[i] = proctab_claim(&t);
		proctab_bind(&t, slots[i], pids[i]);
	}
	for (i = 0; i < 1000; i += 3)
		ok &= proctab_reap(&t, pids[i]) == slots[i];
	for (i = 999; i >= 0; i--)
		if (i % 3 != 0)
			ok &= proctab_reap(&t, pids[i]) == slots[i];
	CHECK(ok && t.live == 0 && t.nfree == 1000);
	proctab_free(&t);
}

static void
test_prefork_plan(void)
{
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.min_spare = 5;
	cfg.max_spare = 10;
	cfg.max_conns = 20;
	CHECK(prefork_plan(0, 0, &cfg) == 5);		/* fill up to --min-spare */
	CHECK(prefork_plan(3, 10, &cfg) == 2);
	CHECK(prefork_plan(3, 19, &cfg) == 1);		/* never above -c */
	CHECK(prefork_plan(0, 20, &cfg) == 0);
	CHECK(prefork_plan(7, 12, &cfg) == 0);		/* between the spares: nothing */
	CHECK(prefork_plan(11, 15, &cfg) == -1);	/* retire one at a time */
	cfg.min_spare = 100;
	cfg.max_spare = 200;
	cfg.max_conns = 1000;
	CHECK(prefork_plan(0, 0, &cfg) == 32);		/* at most 32 a step */
}

static struct peer
peer_of(const char *ip)
{
	struct peer p;

	memset(&p, 0, sizeof(p));
	p.addr = addr(ip);
	snprintf(p.name, sizeof(p.name), "%s:1", ip);
	return p;
}

static void
test_admission(void)
{
	struct acl acl = { NULL, 0, false };
	struct admission a;
	struct acl_rule rule;
	struct peer one = peer_of("192.0.2.1"), other = peer_of("192.0.2.2"), bad = peer_of("198.51.100.7");
	uint64_t shared[REFUSAL_COUNT] = { 0 };

	CHECK(acl_parse("198.51.100.0/24", false, &rule) == 0 && acl_add(&acl, &rule) == 0);
	CHECK(admission_init(&a, &acl, 1, 0, 10) == 0);
	CHECK(admission_check(&a, &one, 0) == ADMITTED);
	CHECK(admission_check(&a, &one, 0) == REFUSED_PER_SOURCE);
	CHECK(admission_check(&a, &other, 0) == ADMITTED);
	CHECK(admission_check(&a, &bad, 0) == REFUSED_ACL);	/* the rules come first */
	admission_release(&a, &one);
	CHECK(admission_check(&a, &one, 0) == ADMITTED);
	CHECK(a.refused[REFUSED_PER_SOURCE] == 1 && a.refused[REFUSED_ACL] == 1 && a.refused[REFUSED_RATE] == 0);
	/* IPv6: one host is a /64; a client hopping addresses inside it counts once (item 5). */
	one = peer_of("2001:db8:0:1::1");
	other = peer_of("2001:db8:0:1:ffff::2");
	bad = peer_of("2001:db8:0:2::1");
	CHECK(admission_check(&a, &one, 0) == ADMITTED && admission_check(&a, &other, 0) == REFUSED_PER_SOURCE);
	CHECK(admission_check(&a, &bad, 0) == ADMITTED);			/* another /64 */
	admission_release(&a, &one);
	CHECK(admission_check(&a, &other, 0) == ADMITTED);
	a.prefix6 = 128;							/* per address */
	other = peer_of("2001:db8:0:2::2");
	CHECK(admission_check(&a, &other, 0) == ADMITTED);
	admission_free(&a);
	CHECK(admission_init(&a, &acl, 0, 0, 10) == 0 && a.limits == NULL);	/* rules only */
	CHECK(admission_check(&a, &one, 0) == ADMITTED && admission_check(&a, &one, 0) == ADMITTED);
	a.shared_refused = shared;	/* a prefork worker's: the pool's totals, counted at once */
	CHECK(admission_check(&a, &bad, 0) == ADMITTED && admission_check(&a, &one, 0) == ADMITTED);
	bad = peer_of("198.51.100.9");
	CHECK(admission_check(&a, &bad, 0) == REFUSED_ACL && admission_check(&a, &bad, 0) == REFUSED_ACL);
	CHECK(shared[REFUSED_ACL] == 2 && shared[ADMITTED] == 0 && a.refused[REFUSED_ACL] == 2);
	admission_free(&a);
	acl_free(&acl);
}

static void
test_banner(void)
{
	char out[BANNER_MAX], err[128];
	size_t n;

	n = banner_expand("backend %h/%p at %a 100%%", "web1", 4242, "10.0.0.5:7", out, sizeof(out));
	CHECK(n == strlen("backend web1/4242 at 10.0.0.5:7 100%\r\n") &&
	    memcmp(out, "backend web1/4242 at 10.0.0.5:7 100%\r\n", n) == 0);
	n = banner_expand("", "h", 1, "a", out, sizeof(out));
	CHECK(n == 2 && memcmp(out, "\r\n", 2) == 0);
	n = banner_expand("%h%h%h%h", "0123456789", 1, "a", out, 16);	/* cut to fit, CRLF kept */
	CHECK(n <= 16 && memcmp(out + n - 2, "\r\n", 2) == 0);
	CHECK(banner_check("backend %h %p %a %%", err, sizeof(err)) == 0);
	CHECK(banner_check("bad %x", err, sizeof(err)) < 0 && strstr(err, "'%x'") != NULL);
	CHECK(banner_check("ends in %", err, sizeof(err)) < 0);
	CHECK(banner_check("two\nlines", err, sizeof(err)) < 0 && strstr(err, "control") != NULL);
}

/* Read what the peer wrote within ms, through a stream paced at rate bytes a second over 1 s windows. */
static ssize_t
paced_read(int rate, const char *first, int ms, const char *then, int *err)
{
	struct stream_counters ctr = { 0, 0, 0 };
	struct transport t;
	struct stream st;
	char buf[64];
	ssize_t n;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || transport_plain.open(&t, sv[0], NULL) < 0)
		return -2;
	stream_init(&st, &t, &ctr, SPLICE_NEVER);
	stream_pace(&st, rate, 1);
	n = write(sv[1], first, strlen(first)) > 0 ? stream_read(&st, buf, sizeof(buf)) : -2;
	if (n > 0) {
		usleep((useconds_t)ms * 1000);
		n = write(sv[1], then, strlen(then)) > 0 ? stream_read(&st, buf, sizeof(buf)) : -2;
	}
	*err = errno;
	transport_close(&t);
	close(sv[1]);
	return n;
}

/* --min-rate: judged when a window has closed, over the time since it began. */
static void
test_stream_pace(void)
{
	int err;

	CHECK(paced_read(5, "abc", 200, "d", &err) == 1);		/* inside the window: not judged */
	CHECK(paced_read(5, "abc", 1100, "d", &err) == -1 && err == ETIME);	/* 4 in 1.1 s < 5 */
	CHECK(paced_read(5, "abcd", 1100, "efgh", &err) == 4);	/* 8 in 1.1 s */
	CHECK(paced_read(0, "a", 1100, "b", &err) == 1);		/* rate 0: no minimum */
}

/* RFC 864: 72 characters and CRLF a line, each line one character on; it repeats every 95 lines. */
static void
test_chargen(void)
{
	char a[CHARGEN_PERIOD * 2 + 10], b[100];
	size_t i;
	bool ok = true;

	chargen_fill(a, sizeof(a), 0);
	CHECK(a[0] == ' ' && a[71] == 'g' && a[72] == '\r' && a[73] == '\n' && a[74] == '!');
	CHECK(a[94 * 74] == '~' && a[94 * 74 + 1] == ' ');	/* the last line wraps round */
	for (i = 0; i < CHARGEN_PERIOD + 10; i++)
		ok = ok && a[i] == a[i + CHARGEN_PERIOD];
	CHECK(ok);	/* periodic */
	chargen_fill(b, sizeof(b), 1000);	/* any offset is a slice of the same stream */
	CHECK(memcmp(b, a + 1000, sizeof(b)) == 0);
	chargen_fill(b, sizeof(b), CHARGEN_PERIOD + 73);
	CHECK(memcmp(b, a + 73, sizeof(b)) == 0);
}

/* Every field of a peer is set from the socket, whatever the memory held before. */
static void
test_peer_of(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(4242) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct peer p;
	int sv[2];
	char text[PEER_TEXT_MAX];

	in.sin_addr.s_addr = htonl(0x7f000001);
	memset(&p, 0xa5, sizeof(p));
	CHECK(listener_peer_of(-1, (struct sockaddr *)&in, &p) == 0);
	CHECK(strcmp(p.name, "127.0.0.1:4242") == 0 && p.via[0] == '\0');
	CHECK(!p.check && !p.local && !p.tls);
	CHECK(strcmp(peer_text(&p, text, sizeof(text)), "peer=127.0.0.1:4242") == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	memset(&p, 0xa5, sizeof(p));
	CHECK(listener_peer_of(sv[0], (struct sockaddr *)&un, &p) == 0);
	CHECK(p.local && p.via[0] == '\0' && !p.check && !p.tls);
	CHECK(p.uid == (unsigned long)getuid() && p.pid == (long)getpid());
	close(sv[0]);
	close(sv[1]);
	un.sun_family = AF_PACKET;
	errno = 0;
	CHECK(listener_peer_of(-1, (struct sockaddr *)&un, &p) == -1 && errno == EAFNOSUPPORT);
}

/*
 * In a child (the sandbox cannot be left): what the filter refuses fails with
 * EPERM, what a server does still works. The child's exit status counts the
 * checks that failed.
 */
static int
sandbox_child(void)
{
	char *argv[] = { "false", NULL }, *envp[] = { NULL }, a = 'a', b = 'b';
	struct iovec local = { &b, 1 }, remote = { &a, 1 };
	int bad = 0, p[2];

	if (sandbox_enter() < 0)
		return 100;
	errno = 0;
	bad += execve("/bin/false", argv, envp) != -1 || errno != EPERM;
	errno = 0;
	bad += process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != -1 || errno != EPERM;
	errno = 0;
	bad += unshare(CLONE_NEWNET) != -1 || errno != EPERM;
	bad += pipe(p) != 0 || write(p[1], "x", 1) != 1 || close(p[0]) != 0 || close(p[1]) != 0;
	bad += getppid() <= 0;
	return bad;
}

static volatile sig_atomic_t sandbox_raised;

static void
sandbox_on_usr2(int sig)
{
	(void)sig;
	sandbox_raised = 1;
}

/* What a session can signal under the supervisor's shield; then, confined to itself, a worker's. */
static int
sandbox_session(pid_t supervisor, pid_t outsider)
{
	int bad = 0;

	signal(SIGUSR2, sandbox_on_usr2);
	errno = 0;
	bad += kill(supervisor, SIGTERM) != -1 || errno != EPERM;
	errno = 0;
	bad += syscall(SYS_tgkill, supervisor, supervisor, SIGTERM) != -1 || errno != EPERM;
	errno = 0;
	bad += kill(0, SIGTERM) != -1 || errno != EPERM;	/* the process group */
	errno = 0;
	bad += kill(-1, SIGTERM) != -1 || errno != EPERM;	/* everyone it may signal */
	bad += raise(SIGUSR2) != 0 || !sandbox_raised;		/* itself: abort() and raise() work */
	bad += kill(outsider, 0) != 0;				/* a sibling: still allowed here */
	if (sandbox_signal_self_only() < 0)
		return bad + 100;
	errno = 0;
	bad += kill(outsider, 0) != -1 || errno != EPERM;
	sandbox_raised = 0;
	bad += raise(SIGUSR2) != 0 || !sandbox_raised;
	return bad;
}

/* The supervisor's side: its own pid and groups shielded, no descriptor owner to set. */
static int
sandbox_supervisor(pid_t outsider)
{
	int bad = 0, sv[2], me = getpid(), st = -1, n;
	pid_t pid;

	if (sandbox_enter() < 0 || sandbox_shield(getpid()) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 100;
	errno = 0;
	bad += fcntl(sv[0], F_SETOWN, me) != -1 || errno != EPERM;
	errno = 0;
	bad += ioctl(sv[0], FIOSETOWN, &me) != -1 || errno != EPERM;
	bad += fcntl(sv[0], F_GETFL) < 0 || ioctl(sv[0], FIONREAD, &n) != 0;	/* other commands pass */
	bad += kill(outsider, 0) != 0;		/* its children's pids are not its own */
	if ((pid = fork()) == 0)
		_exit(sandbox_session(me, outsider));
	bad += pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	return bad;
}

/* The signal filters in a child of their own (they cannot be left). */
static void
test_sandbox_signals(void)
{
	pid_t outsider = getpid(), pid = fork();
	int st = -1;

	if (pid == 0)
		_exit(sandbox_supervisor(outsider));
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		printf("  %d sandbox signal checks failed\n", WEXITSTATUS(st));
}

static void
test_sandbox(void)
{
	pid_t pid = fork();
	int st = -1;

	if (pid == 0)
		_exit(sandbox_child());
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

void
unit_mpechod(void)
{
	test_sandbox();
	test_sandbox_signals();
	test_upper();
	test_upper_binary();
	test_options_parse();
	test_acl();
	test_limits_per_source();
	test_limits_rate();
	test_limits_rate_survives_a_flood_of_sources();
	test_limits_room_after_clear_live();
	test_udp_guard();
	test_listener_parse();
	test_listener_range();
	test_listener_wildcard();
	test_child_close_except();
	test_end();
	test_stream_pace();
	test_chargen();
	test_proctab();
	test_prefork_plan();
	test_admission();
	test_banner();
	test_peer_of();
}
