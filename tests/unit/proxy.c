/* proxy: unit tests of the PROXY protocol parser: every field, every split, versions 1 and 2. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "peer.h"
#include "proxy.h"
#include "proxy_wait.h"
#include "unit.h"

/*
 * Every prefix shorter than `decide` bytes asks for more (0); from `decide` on, and for
 * the whole header, the answer is the header's length `want`.
 */
static bool
proxy_splits(const unsigned char *buf, size_t len, long want, size_t decide, struct proxy_header *h)
{
	const char *why;
	size_t cut;
	long n;

	for (cut = 0; cut < len; cut++) {
		n = proxy_parse(buf, cut, h, &why);
		if (n != (cut < decide ? 0 : want)) {
			printf("  prefix %zu of %zu gave %ld (%s)\n", cut, len, n, why ? why : "");
			return false;
		}
	}
	return proxy_parse(buf, len, h, &why) == want;
}

/* Headers whose every byte is needed before their length is known. */
static bool
proxy_every_split(const unsigned char *buf, size_t len, long want, struct proxy_header *h)
{
	return proxy_splits(buf, len, want, len, h);
}

static bool
proxy_v1_ok(const char *line, const char *src, int sport, const char *dst, int dport)
{
	struct proxy_header h;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const void *sa, *da;
	int fam, sp, dp;

	if (!proxy_every_split((const unsigned char *)line, strlen(line), (long)strlen(line), &h))
		return false;
	if (h.version != 1 || h.local != (src == NULL))
		return false;
	if (src == NULL)
		return true;
	fam = h.src.ss_family;
	sa = fam == AF_INET ? (const void *)&((struct sockaddr_in *)&h.src)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)&h.src)->sin6_addr;
	da = fam == AF_INET ? (const void *)&((struct sockaddr_in *)&h.dst)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)&h.dst)->sin6_addr;
	sp = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&h.src)->sin_port :
	    ((struct sockaddr_in6 *)&h.src)->sin6_port);
	dp = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&h.dst)->sin_port :
	    ((struct sockaddr_in6 *)&h.dst)->sin6_port);
	inet_ntop(fam, sa, a, sizeof(a));
	inet_ntop(fam, da, b, sizeof(b));
	return strcmp(a, src) == 0 && strcmp(b, dst) == 0 && sp == sport && dp == dport;
}

/* A header that is refused, naming why (a fragment of the reason). */
static bool
proxy_bad(const void *buf, size_t len, const char *reason)
{
	struct proxy_header h;
	const char *why = NULL;

	return proxy_parse(buf, len, &h, &why) == -1 && why != NULL && strstr(why, reason) != NULL;
}

static bool
proxy_bad1(const char *line, const char *reason)
{
	return proxy_bad(line, strlen(line), reason);
}

static void
test_proxy_v1(void)
{
	char long_line[200];

	CHECK(proxy_v1_ok("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", "192.168.0.1", 56324,
	    "192.168.0.11", 443));
	CHECK(proxy_v1_ok("PROXY TCP4 255.255.255.255 0.0.0.0 65535 0\r\n", "255.255.255.255", 65535,
	    "0.0.0.0", 0));
	CHECK(proxy_v1_ok("PROXY TCP6 2001:db8::1 ::1 1 2\r\n", "2001:db8::1", 1, "::1", 2));
	CHECK(proxy_v1_ok("PROXY TCP6 FFFF:ffff:ffff:ffff:ffff:ffff:ffff:ffff ::ffff 65535 65535\r\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, "::ffff", 65535));
	/* RFC 4291's form with a dotted IPv4 part: what HAProxy sends for an IPv4 client on an IPv6 socket */
	CHECK(proxy_v1_ok("PROXY TCP6 ::ffff:192.0.2.7 ::ffff:127.0.0.1 5555 7\r\n", "::ffff:192.0.2.7",
	    5555, "::ffff:127.0.0.1", 7));
	CHECK(proxy_v1_ok("PROXY TCP6 64:ff9b::203.0.113.9 2001:db8::1 1 2\r\n", "64:ff9b::cb00:7109", 1,
	    "2001:db8::1", 2));
	CHECK(proxy_v1_ok("PROXY TCP6 0:0:0:0:0:FFFF:255.255.255.255 ::1 1 2\r\n",
	    "::ffff:255.255.255.255", 1, "::1", 2));
	CHECK(proxy_v1_ok("PROXY UNKNOWN\r\n", NULL, 0, NULL, 0));
	CHECK(proxy_v1_ok("PROXY UNKNOWN whatever is here 1 2\r\n", NULL, 0, NULL, 0));
	CHECK(proxy_bad1("PROXY TCP4 192.168.0.01 1.2.3.4 1 2\r\n", "source address"));	/* leading zero */
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3 1 2\r\n", "destination address"));
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.256 1 2\r\n", "destination address"));
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", "source port"));
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n", "destination port"));
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 -2\r\n", "destination port"));
	CHECK(proxy_bad1("PROXY TCP4 ::1 ::1 1 2\r\n", "source address"));		/* family mismatch */
	CHECK(proxy_bad1("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "source address"));
	CHECK(proxy_bad1("PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n", "source address"));	/* leading zero */
	CHECK(proxy_bad1("PROXY TCP6 ::ffff:1.2.3 ::1 1 2\r\n", "source address"));
	CHECK(proxy_bad1("PROXY TCP6 ::ffff:1.2.3.4.5 ::1 1 2\r\n", "source address"));
	CHECK(proxy_bad1("PROXY TCP6 ::ffff:1.2.3.256 ::1 1 2\r\n", "source address"));
	CHECK(proxy_bad1("PROXY TCP6 1.2.3.4::1 ::1 1 2\r\n", "source address"));	/* dotted part first */
	CHECK(proxy_bad1("PROXY TCP6 ::ffff:1.2.3.4:1 ::1 1 2\r\n", "source address"));
	CHECK(proxy_bad1("PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n", "source address")); /* 160 bits */
	CHECK(proxy_bad1("PROXY TCP6 ::1 ::ffff:1.2.3. 1 2\r\n", "destination address"));
	CHECK(proxy_bad1("PROXY TCP6 1::2::3 ::1 1 2\r\n", "source address"));
	CHECK(proxy_bad1("PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n", "fields"));		/* two spaces */
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", "fields"));
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", "fields"));
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n", "fields"));
	CHECK(proxy_bad1("PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", "protocol"));
	CHECK(proxy_bad1("PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n", "protocol"));
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", "line end"));		/* a lone LF */
	CHECK(proxy_bad1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX", "line end"));		/* a lone CR */
	CHECK(proxy_bad1("GET / HTTP/1.1\r\n", "signature"));
	CHECK(proxy_bad1("PROXYTCP4", "signature"));
	memset(long_line, 'a', sizeof(long_line));
	memcpy(long_line, "PROXY UNKNOWN ", 14);
	CHECK(proxy_bad(long_line, 107, "107"));					/* no CRLF in 107 bytes */
	memcpy(long_line + 105, "\r\n", 2);
	CHECK(proxy_v1_ok("PROXY UNKNOWN aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaa\r\n", NULL, 0, NULL, 0));			/* exactly 107: fine */
	long_line[105] = 'a';
	memcpy(long_line + 106, "\r\n", 2);
	CHECK(proxy_bad(long_line, 108, "107"));					/* 108 is one too many */
}

/* A v2 header: signature, ver_cmd, fam, then addr (alen bytes) and tlv_len bytes of TLVs. */
static size_t
proxy_v2_make(unsigned char *out, unsigned ver_cmd, unsigned fam, const void *addr, size_t alen,
    size_t tlv_len)
{
	static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55,
	    0x49, 0x54, 0x0a };

	memcpy(out, sig, 12);
	out[12] = (unsigned char)ver_cmd;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)((alen + tlv_len) >> 8);
	out[15] = (unsigned char)(alen + tlv_len);
	memcpy(out + 16, addr, alen);
	memset(out + 16 + alen, 0xee, tlv_len);
	return 16 + alen + tlv_len;
}

static void
test_proxy_v2(void)
{
	static unsigned char buf[16 + 65535];
	unsigned char v4[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0x1f, 0x90, 0x00, 0x50 }, v6[36];
	struct proxy_header h;
	size_t n;

	n = proxy_v2_make(buf, 0x21, 0x11, v4, 12, 0);
	CHECK(proxy_every_split(buf, n, (long)n, &h) && h.version == 2 && !h.local &&
	    h.src.ss_family == AF_INET && ntohs(((struct sockaddr_in *)&h.src)->sin_port) == 8080 &&
	    ((struct sockaddr_in *)&h.src)->sin_addr.s_addr == htonl(0x0a000001) &&
	    ntohs(((struct sockaddr_in *)&h.dst)->sin_port) == 80);
	memset(v6, 0, sizeof(v6));
	v6[15] = 1;
	v6[31] = 2;
	v6[33] = 7;
	n = proxy_v2_make(buf, 0x21, 0x21, v6, 36, 0);
	CHECK(proxy_every_split(buf, n, (long)n, &h) && !h.local && h.src.ss_family == AF_INET6 &&
	    ntohs(((struct sockaddr_in6 *)&h.src)->sin6_port) == 7 &&
	    ((struct sockaddr_in6 *)&h.dst)->sin6_addr.s6_addr[15] == 2);
	/* TLVs: the length counts them, and they are skipped, however long. */
	n = proxy_v2_make(buf, 0x21, 0x11, v4, 12, 65535 - 12);
	CHECK(proxy_parse(buf, 28, &h, &(const char *){ NULL }) == 16 + 65535 && !h.local);
	/* LOCAL (health checks), UNSPEC, UDP and UNIX: the connection's own addresses. */
	n = proxy_v2_make(buf, 0x20, 0x00, v4, 0, 0);
	CHECK(proxy_every_split(buf, n, 16, &h) && h.local);
	n = proxy_v2_make(buf, 0x20, 0x11, v4, 12, 0);			/* LOCAL with addresses: skipped */
	CHECK(proxy_splits(buf, n, 28, 16, &h) && h.local);
	n = proxy_v2_make(buf, 0x21, 0x00, v4, 0, 0);
	CHECK(proxy_every_split(buf, n, 16, &h) && h.local);
	n = proxy_v2_make(buf, 0x21, 0x12, v4, 12, 0);			/* UDP over IPv4 */
	CHECK(proxy_splits(buf, n, 28, 16, &h) && h.local);
	n = proxy_v2_make(buf, 0x21, 0x31, buf + 1000, 216, 0);		/* UNIX stream */
	CHECK(proxy_splits(buf, n, 232, 16, &h) && h.local);
	/* Faults, each by its field. */
	n = proxy_v2_make(buf, 0x11, 0x11, v4, 12, 0);
	CHECK(proxy_bad(buf, n, "v2 version"));
	n = proxy_v2_make(buf, 0x22, 0x11, v4, 12, 0);
	CHECK(proxy_bad(buf, n, "v2 command"));
	n = proxy_v2_make(buf, 0x21, 0x41, v4, 12, 0);
	CHECK(proxy_bad(buf, n, "v2 address family"));
	n = proxy_v2_make(buf, 0x21, 0x13, v4, 12, 0);
	CHECK(proxy_bad(buf, n, "v2 transport protocol"));
	n = proxy_v2_make(buf, 0x21, 0x11, v4, 11, 0);
	CHECK(proxy_bad(buf, n, "v2 address length"));
	n = proxy_v2_make(buf, 0x21, 0x21, v6, 12, 0);			/* IPv6 needs 36 */
	CHECK(proxy_bad(buf, n, "v2 address length"));
	n = proxy_v2_make(buf, 0x21, 0x11, v4, 12, 0);
	buf[11] = 0x0b;							/* one signature byte off */
	CHECK(proxy_bad(buf, n, "signature"));
}

/*
 * proxy_wait over a socket pair: the first `sent` bytes of buf, then the
 * sender closes. Steps until an answer (at most 20: with every byte in and
 * the sender gone, AGAIN would be a spin); *why gets the reason.
 */
static enum proxy_wait_result
proxy_wait_closed(const unsigned char *buf, size_t sent, const char **why)
{
	enum proxy_wait_result r = PROXY_WAIT_AGAIN;
	struct proxy_wait w;
	int sv[2], i;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[1], buf, sent) != (ssize_t)sent)
		return PROXY_WAIT_AGAIN;
	close(sv[1]);
	proxy_wait_init(&w);
	for (i = 0; i < 20 && r == PROXY_WAIT_AGAIN; i++)
		r = proxy_wait_step(&w, sv[0]);
	*why = w.why != NULL ? w.why : "";
	close(sv[0]);
	return r;
}

/* The same, blocking with a deadline of 3 s: an answer at once, not at the deadline. */
static bool
proxy_wait_blocking_closed(const unsigned char *buf, size_t sent, const char *reason)
{
	struct proxy_wait w;
	int sv[2];
	int64_t t0 = clock_ms();
	bool ok;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[1], buf, sent) != (ssize_t)sent)
		return false;
	close(sv[1]);
	proxy_wait_init(&w);
	ok = proxy_wait_blocking(&w, sv[0], 3000) == PROXY_WAIT_FAILED && w.why != NULL &&
	    strcmp(w.why, reason) == 0 && clock_ms() - t0 < 1000;
	close(sv[0]);
	return ok;
}

/* The client a v1 line names, as the server logs it and judges it. */
static bool
proxy_v1_client(const char *line, const char *name, int family)
{
	struct peer balancer = { .name = "127.0.0.1:4000" }, client;
	struct proxy_wait w;
	int sv[2];
	bool ok;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return false;
	ok = write(sv[1], line, strlen(line)) == (ssize_t)strlen(line);
	proxy_wait_init(&w);
	ok = ok && proxy_wait_step(&w, sv[0]) == PROXY_WAIT_DONE &&
	    proxy_wait_peer(&w, &balancer, &client) == 0 && strcmp(client.name, name) == 0 &&
	    client.addr.family == family && strcmp(client.via, balancer.name) == 0;
	close(sv[0]);
	close(sv[1]);
	return ok;
}

/* A header whose sender closes before its end fails at once, with why; one that is whole is done. */
static void
test_proxy_wait(void)
{
	static unsigned char buf[16 + 300];
	unsigned char v4[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0x1f, 0x90, 0x00, 0x50 };
	const char *why = NULL;
	size_t n;

	n = proxy_v2_make(buf, 0x21, 0x11, v4, 12, 200);	/* declares 212 address and TLV bytes */
	CHECK(proxy_wait_closed(buf, n, &why) == PROXY_WAIT_DONE);
	CHECK(proxy_wait_closed(buf, 28, &why) == PROXY_WAIT_FAILED &&
	    strcmp(why, "connection closed in the header") == 0);	/* the TLVs never came */
	CHECK(proxy_wait_closed(buf, 100, &why) == PROXY_WAIT_FAILED);
	CHECK(proxy_wait_closed(buf, n - 1, &why) == PROXY_WAIT_FAILED);
	CHECK(proxy_wait_closed(buf, 20, &why) == PROXY_WAIT_FAILED);	/* in the fixed part */
	CHECK(proxy_wait_closed(buf, 0, &why) == PROXY_WAIT_CHECK);
	CHECK(proxy_wait_blocking_closed(buf, 28, "connection closed in the header"));
	CHECK(proxy_wait_blocking_closed(buf, 100, "connection closed in the header"));
	n = proxy_v2_make(buf, 0x20, 0x00, v4, 0, 40);		/* LOCAL, TLVs, then closed: a check */
	CHECK(proxy_wait_closed(buf, n, &why) == PROXY_WAIT_CHECK);
	CHECK(proxy_wait_closed(buf, n - 10, &why) == PROXY_WAIT_FAILED);
	/* An IPv4-mapped source is an IPv4 client: logged, and judged by rules, as one. */
	CHECK(proxy_v1_client("PROXY TCP6 ::ffff:192.0.2.7 ::ffff:127.0.0.1 5555 7\r\n",
	    "192.0.2.7:5555", AF_INET));
	CHECK(proxy_v1_client("PROXY TCP6 ::ffff:c000:208 ::1 5555 7\r\n", "192.0.2.8:5555", AF_INET));
	CHECK(proxy_v1_client("PROXY TCP6 2001:db8::7 ::1 5555 7\r\n", "[2001:db8::7]:5555", AF_INET6));
}

void
unit_proxy(void)
{
	test_proxy_v1();
	test_proxy_v2();
	test_proxy_wait();
}
