/* proxy: parsing PROXY protocol headers, version 1 (text) and version 2 (binary). */
#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const unsigned char proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A decimal number without leading zeros in [0, max]; -1 if not. */
static long
proxy_decimal(const char *s, size_t n, long max)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* A canonical IPv4 address: four numbers 0-255, no leading zeros. 0 or -1. */
static int
proxy_ipv4(const char *s, size_t n, struct in_addr *out)
{
	unsigned char b[4];
	size_t i, start = 0, part = 0;
	long v;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (part == 4 || (v = proxy_decimal(s + start, i - start, 255)) < 0)
			return -1;
		b[part++] = (unsigned char)v;
		start = i + 1;
	}
	if (part != 4)
		return -1;
	memcpy(out, b, 4);
	return 0;
}

/*
 * An IPv6 address in a text form of RFC 4291 (2.2): hex groups with at most
 * one "::", the last 32 bits perhaps as a dotted IPv4 address, held to the
 * TCP4 rules (HAProxy writes ::ffff:a.b.c.d for an IPv4 client on an IPv6
 * socket). 0 or -1.
 */
static int
proxy_ipv6(const char *s, size_t n, struct in6_addr *out)
{
	char text[INET6_ADDRSTRLEN];
	struct in_addr v4;
	size_t i, hex = n;

	if (n == 0 || n >= sizeof(text))
		return -1;
	if (memchr(s, '.', n) != NULL) {	/* then a dotted address after the last colon */
		while (hex > 0 && s[hex - 1] != ':')
			hex--;
		if (hex == 0 || proxy_ipv4(s + hex, n - hex, &v4) < 0)
			return -1;
	}
	for (i = 0; i < hex; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':'))
			return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

/* Fill one endpoint from its text address and port. 0, or -1 with *why. */
static int
proxy_v1_endpoint(int v6, const char *a, size_t alen, const char *p, size_t plen,
    struct sockaddr_storage *ss, const char **why, const char *which)
{
	long port = proxy_decimal(p, plen, 65535);

	memset(ss, 0, sizeof(*ss));
	if (port < 0) {
		*why = which[0] == 's' ? "v1 source port" : "v1 destination port";
		return -1;
	}
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (proxy_ipv6(a, alen, &sin6->sin6_addr) == 0)
			return 0;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (proxy_ipv4(a, alen, &sin->sin_addr) == 0)
			return 0;
	}
	*why = which[0] == 's' ? "v1 source address" : "v1 destination address";
	return -1;
}

/* Split the line after "PROXY TCPx " into exactly four single-space-separated fields. */
static int
proxy_v1_fields(const char *s, size_t n, const char *f[4], size_t fl[4])
{
	size_t i, k = 0, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != ' ')
			continue;
		if (k == 4 || i == start)
			return -1;
		f[k] = s + start;
		fl[k++] = i - start;
		start = i + 1;
	}
	return k == 4 ? 0 : -1;
}

static long
proxy_v1(const unsigned char *buf, size_t len, struct proxy_header *h, const char **why)
{
	const char *s = (const char *)buf, *f[4];
	size_t n, fl[4], i;
	int v6;

	/* The line must end in CRLF within its first 107 bytes; a lone CR or LF is a fault. */
	for (i = 0; i < len && i < PROXY_V1_MAX && s[i] != '\r' && s[i] != '\n'; i++)
		;
	if (i == PROXY_V1_MAX || (i < len && s[i] == '\r' && i + 1 == PROXY_V1_MAX)) {
		*why = "v1 line longer than 107 bytes";
		return -1;
	}
	if (i == len)
		return 0;
	if (s[i] == '\r' && i + 1 == len)
		return 0;
	if (s[i] != '\r' || s[i + 1] != '\n') {
		*why = "v1 line end";
		return -1;
	}
	n = i;	/* the line without CRLF */
	h->version = 1;
	if (n >= 13 && memcmp(s, "PROXY UNKNOWN", 13) == 0 && (n == 13 || s[13] == ' ')) {
		h->local = true;	/* the rest of the line is ignored */
		return (long)n + 2;
	}
	if (n < 11 || (memcmp(s, "PROXY TCP4 ", 11) != 0 && memcmp(s, "PROXY TCP6 ", 11) != 0)) {
		*why = "v1 protocol";
		return -1;
	}
	v6 = s[9] == '6';
	if (proxy_v1_fields(s + 11, n - 11, f, fl) < 0) {
		*why = "v1 fields";
		return -1;
	}
	h->local = false;
	if (proxy_v1_endpoint(v6, f[0], fl[0], f[2], fl[2], &h->src, why, "source") < 0 ||
	    proxy_v1_endpoint(v6, f[1], fl[1], f[3], fl[3], &h->dst, why, "destination") < 0)
		return -1;
	return (long)n + 2;
}

/* The address block of a v2 PROXY command over TCP, IPv4 or IPv6. */
static void
proxy_v2_addresses(const unsigned char *a, int v6, struct proxy_header *h)
{
	memset(&h->src, 0, sizeof(h->src));
	memset(&h->dst, 0, sizeof(h->dst));
	if (v6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src, *d = (struct sockaddr_in6 *)&h->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&h->src, *d = (struct sockaddr_in *)&h->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
	}
}

static long
proxy_v2(const unsigned char *buf, size_t len, struct proxy_header *h, const char **why)
{
	unsigned cmd, fam, proto;
	size_t alen, need;

	if (len < PROXY_V2_FIXED)
		return 0;
	cmd = buf[12] & 0x0f;
	fam = buf[13] >> 4;
	proto = buf[13] & 0x0f;
	alen = (size_t)buf[14] << 8 | buf[15];
	h->version = 2;
	if (buf[12] >> 4 != 2 || cmd > 1) {
		*why = buf[12] >> 4 != 2 ? "v2 version" : "v2 command";
		return -1;
	}
	if (fam > 3 || proto > 2) {
		*why = fam > 3 ? "v2 address family" : "v2 transport protocol";
		return -1;
	}
	/* LOCAL (health checks), UNSPEC and what is not TCP over IP: the connection's own addresses. */
	h->command_local = cmd == 0;
	h->local = cmd == 0 || proto != 1 || (fam != 1 && fam != 2);
	need = h->local ? 0 : fam == 1 ? 12 : 36;
	if (alen < need) {
		*why = "v2 address length";
		return -1;
	}
	if (!h->local) {
		if (len < PROXY_V2_FIXED + need)
			return 0;
		proxy_v2_addresses(buf + PROXY_V2_FIXED, fam == 2, h);
	}
	return (long)(PROXY_V2_FIXED + alen);	/* TLVs after the addresses are skipped */
}

long
proxy_parse(const unsigned char *buf, size_t len, struct proxy_header *h, const char **why)
{
	size_t n = len < sizeof(proxy_v2_sig) ? len : sizeof(proxy_v2_sig);

	*why = NULL;
	memset(h, 0, sizeof(*h));
	if (len == 0)
		return 0;
	if (memcmp(buf, proxy_v2_sig, n) == 0)
		return proxy_v2(buf, len, h, why);
	n = len < 6 ? len : 6;
	if (memcmp(buf, "PROXY ", n) == 0)
		return n < 6 ? 0 : proxy_v1(buf, len, h, why);
	*why = "no PROXY signature";
	return -1;
}
