/* lib: unit tests of src/lib: numbers, addresses, log quoting. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "log.h"
#include "net.h"
#include "number.h"

static void
test_number_parse(void)
{
	long v = -7;

	CHECK(number_parse("0", 0, 10, &v) == 0 && v == 0);
	CHECK(number_parse("10", 0, 10, &v) == 0 && v == 10);
	CHECK(number_parse("-3", -5, 5, &v) == 0 && v == -3);
	CHECK(number_parse("11", 0, 10, &v) < 0 && errno == ERANGE);
	CHECK(number_parse("-1", 0, 10, &v) < 0 && errno == ERANGE);
	CHECK(number_parse("99999999999999999999999", 0, 10, &v) < 0 && errno == ERANGE);
	CHECK(number_parse("", 0, 10, &v) < 0 && errno == EINVAL);
	CHECK(number_parse("12abc", 0, 100, &v) < 0 && errno == EINVAL);
	CHECK(number_parse(" 5", 0, 10, &v) < 0 && errno == EINVAL);
	CHECK(number_parse("+5", 0, 10, &v) < 0 && errno == EINVAL);
	CHECK(number_parse("0x10", 0, 100, &v) < 0 && errno == EINVAL);
	CHECK(number_parse("5 ", 0, 10, &v) < 0 && errno == EINVAL);
	CHECK(v == -3);	/* failures leave the output alone */
}

/* net_split_hostport() and net_parse_target() take the same arguments. */
typedef int (*split_fn)(const char *text, char **host, char **port);

static bool
same(const char *want, const char *got)
{
	return want == NULL ? got == NULL : got != NULL && strcmp(want, got) == 0;
}

/* text splits into exactly host and port (NULL: none). */
static bool
splits(split_fn split, const char *text, const char *host, const char *port)
{
	char *h, *p;
	bool ok;

	if (split(text, &h, &p) < 0)
		return false;
	ok = same(host, h) && same(port, p);
	free(h);
	free(p);
	return ok;
}

/* text is refused as malformed, and nothing is left allocated. */
static bool
refused(split_fn split, const char *text)
{
	char *h = (char *)1, *p = (char *)1;

	return split(text, &h, &p) < 0 && errno == EINVAL && h == NULL && p == NULL;
}

#define split_is(t, h, p) splits(net_split_hostport, t, h, p)
#define split_fails(t) refused(net_split_hostport, t)
#define target_is(t, h, p) splits(net_parse_target, t, h, p)
#define target_fails(t) refused(net_parse_target, t)

/* mpecho's server argument. */
static void
test_parse_target(void)
{
	CHECK(target_is("example.org", "example.org", NULL));
	CHECK(target_is("127.0.0.1:7", "127.0.0.1", "7"));
	CHECK(target_is("[::1]:7", "::1", "7"));
	CHECK(target_is("[::1]", "::1", NULL));
	CHECK(target_is("::1", "::1", NULL));
	CHECK(target_is("fe80::1%lo", "fe80::1%lo", NULL));
	CHECK(target_is("host:echo", "host", "echo"));
	CHECK(target_fails(""));
	CHECK(target_fails(":7"));
	CHECK(target_fails("host:"));
	CHECK(target_fails("[::1"));
	CHECK(target_fails("[]"));
	CHECK(target_fails("[::1]x"));
	CHECK(target_fails("[::1]:"));
}

static void
test_split_hostport(void)
{
	CHECK(split_is("127.0.0.1:8000", "127.0.0.1", "8000"));
	CHECK(split_is("[::1]:8000", "::1", "8000"));
	CHECK(split_is("[fe80::1%lo]:7", "fe80::1%lo", "7"));
	CHECK(split_is(":8000", NULL, "8000"));
	CHECK(split_is("localhost:0", "localhost", "0"));
	CHECK(split_is("host:echo", "host", "echo"));
	CHECK(split_fails("8000"));
	CHECK(split_fails("127.0.0.1"));
	CHECK(split_fails("127.0.0.1:"));
	CHECK(split_fails("::1:8000"));
	CHECK(split_fails("[::1]"));
	CHECK(split_fails("[::1]8000"));
	CHECK(split_fails("[]:8000"));
	CHECK(split_fails("[::1:8000"));
	CHECK(split_fails(""));
}

static void
test_check_port(void)
{
	CHECK(net_check_port("0") == 0);
	CHECK(net_check_port("65535") == 0);
	CHECK(net_check_port("8000") == 0);
	CHECK(net_check_port("65536") < 0);
	CHECK(net_check_port("-1") < 0);
	CHECK(net_check_port("") < 0);
	CHECK(net_check_port("80x") < 0);
	CHECK(net_check_port("99999999999999999999") < 0);
	CHECK(net_check_port("no-such-service-name") < 0);
}

static bool
format_is(int family, const char *ip, int port, const char *want)
{
	struct sockaddr_storage ss;
	char buf[NET_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &sin->sin_addr);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	}
	net_format((struct sockaddr *)&ss, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		printf("  net_format gave '%s', want '%s'\n", buf, want);
	return strcmp(buf, want) == 0 && net_port((struct sockaddr *)&ss) == port;
}

static void
test_format(void)
{
	CHECK(format_is(AF_INET, "127.0.0.1", 8000, "127.0.0.1:8000"));
	CHECK(format_is(AF_INET6, "::1", 7, "[::1]:7"));
	CHECK(format_is(AF_INET6, "::ffff:10.1.2.3", 65535, "10.1.2.3:65535"));
	CHECK(format_is(AF_INET6, "2001:db8::5", 0, "[2001:db8::5]:0"));
}

/* IPv4 is formatted without printf: it must give what inet_ntop and snprintf give, truncation included. */
static void
test_format_ipv4(void)
{
	static const unsigned char octets[] = { 0, 1, 9, 10, 99, 100, 199, 200, 255 };
	static const unsigned ports[] = { 0, 7, 10, 99, 100, 8000, 65535 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char got[32], want[32], ip[INET_ADDRSTRLEN];
	size_t i, j, len, bad = 0;
	unsigned char *b = (unsigned char *)&sin.sin_addr;

	for (i = 0; i < 4 * sizeof(octets); i++)
		for (j = 0; j < sizeof(ports) / sizeof(ports[0]); j++) {
			b[0] = octets[i % sizeof(octets)];
			b[1] = octets[(i * 5 + 1) % sizeof(octets)];
			b[2] = octets[(i * 7 + 2) % sizeof(octets)];
			b[3] = octets[(i + j) % sizeof(octets)];
			sin.sin_port = htons((uint16_t)ports[j]);
			inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
			for (len = 1; len <= sizeof(got); len++) {
				memset(got, 'x', sizeof(got));
				snprintf(want, len, "%s:%u", ip, ports[j]);
				net_format((struct sockaddr *)&sin, got, len);
				bad += strcmp(got, want) != 0;
			}
		}
	CHECK(bad == 0);
}

static void
test_quote(void)
{
	char buf[64];

	CHECK(strcmp(log_quote("127.0.0.1:80", buf, sizeof(buf)), "127.0.0.1:80") == 0);
	CHECK(strcmp(log_quote("two words", buf, sizeof(buf)), "\"two words\"") == 0);
	CHECK(strcmp(log_quote("a\nevent=x", buf, sizeof(buf)), "\"a\\x0aevent=x\"") == 0);
	CHECK(strcmp(log_quote("q\"b\\", buf, sizeof(buf)), "\"q\\\"b\\\\\"") == 0);
	CHECK(strcmp(log_quote("", buf, sizeof(buf)), "\"\"") == 0);
	CHECK(strlen(log_quote("0123456789012345678901234567890123456789 0123456789012345678901234567890",
	    buf, sizeof(buf))) < sizeof(buf));
}

/* The "text: strerror(errno)" of log_warn(), in a buffer and as a quoted value; errno is kept. */
static void
test_errtext(void)
{
	char buf[64], small[12];

	errno = ENOENT;
	log_errtext(buf, sizeof(buf), "cannot open %s", "x.pid");
	CHECK(strcmp(buf, "cannot open x.pid: No such file or directory") == 0 && errno == ENOENT);
	log_errtext(small, sizeof(small), "cannot open %s", "x.pid");
	CHECK(strlen(small) == sizeof(small) - 1 && strcmp(small + sizeof(small) - 4, "...") == 0);
	errno = EPERM;
	CHECK(strcmp(log_qerr(), "\"Operation not permitted\"") == 0 && errno == EPERM);
	errno = EBADF;
	CHECK(strcmp(log_qerrf("epoll"), "\"epoll: Bad file descriptor\"") == 0);
	errno = EACCES;
	CHECK(strcmp(log_qerrf("%s", "/run/a\"b"), "\"/run/a\\\"b: Permission denied\"") == 0);
}

static void
test_net_addr_of(void)
{
	struct sockaddr_in6 sin6;
	struct net_addr a;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &sin6.sin6_addr);
	CHECK(net_addr_of((struct sockaddr *)&sin6, &a) == 0 && a.family == AF_INET &&
	    a.bytes[0] == 192 && a.bytes[3] == 9 && a.bytes[4] == 0);
	inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr);
	CHECK(net_addr_of((struct sockaddr *)&sin6, &a) == 0 && a.family == AF_INET6 &&
	    a.bytes[0] == 0x20 && a.bytes[15] == 9);
}

void
unit_lib(void)
{
	test_number_parse();
	test_split_hostport();
	test_parse_target();
	test_check_port();
	test_format();
	test_format_ipv4();
	test_errtext();
	test_quote();
	test_net_addr_of();
}
