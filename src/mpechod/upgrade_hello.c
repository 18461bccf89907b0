/* upgrade_hello: the upgrade conversation's lines, written and read. */
#include "upgrade_hello.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char upgrade_prefix[] = "mpechod-upgrade ";

/* s[0..n) is word exactly. */
static bool
hello_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(s, word, n) == 0;
}

/* An endpoint's name: 1 to UPGRADE_NAME_MAX - 1 lowercase letters. */
static bool
hello_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= UPGRADE_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return false;
	return true;
}

/* A pid: a decimal number without a leading zero, 1 to 2^31 - 1. -1 if not. */
static long
hello_pid(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 10 || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 2147483647L ? v : -1;
}

/* After "2": names, each after one space. */
static void
hello_names(const char *s, size_t n, struct upgrade_hello *h)
{
	size_t i = 0, end;

	while (i < n) {
		if (s[i] != ' ' || h->nextra == UPGRADE_EXTRAS)
			goto bad;
		for (end = ++i; end < n && s[end] != ' '; end++)
			;
		if (!hello_name_ok(s + i, end - i))
			goto bad;
		memcpy(h->extra[h->nextra], s + i, end - i);
		h->extra[h->nextra++][end - i] = '\0';
		i = end;
	}
	h->kind = UPGRADE_OFFER;
	return;
bad:
	h->nextra = 0;
}

void
upgrade_hello_parse(const char *buf, size_t len, struct upgrade_hello *h)
{
	size_t plen = sizeof(upgrade_prefix) - 1, n;
	const char *s = buf + plen;

	memset(h, 0, sizeof(*h));
	h->kind = UPGRADE_BAD;
	if (len <= plen + 1 || len > UPGRADE_HELLO_MAX || memchr(buf, '\n', len) != buf + len - 1 ||
	    memcmp(buf, upgrade_prefix, plen) != 0)
		return;
	n = len - plen - 1;	/* the words, without the LF */
	if (hello_is(s, n, "1"))
		h->kind = UPGRADE_OFFER;
	else if (hello_is(s, n, "stopping"))
		h->kind = UPGRADE_STOPPING;
	else if (hello_is(s, n, "timeout"))
		h->kind = UPGRADE_TIMEOUT;
	else if (n > 5 && memcmp(s, "busy ", 5) == 0 && (h->holder = hello_pid(s + 5, n - 5)) > 0)
		h->kind = UPGRADE_BUSY;
	else if (s[0] == '2')
		hello_names(s + 1, n - 1, h);
	if (h->kind != UPGRADE_BUSY)
		h->holder = 0;
}

int
upgrade_hello_offer(char *buf, size_t len, const char *const *names, size_t n)
{
	size_t i, at;
	int w;

	if (n > UPGRADE_EXTRAS || (w = snprintf(buf, len, "%s%s", upgrade_prefix, n == 0 ? "1" : "2")) < 0)
		return -1;
	for (at = (size_t)w, i = 0; i < n; i++, at += (size_t)w) {
		if (!hello_name_ok(names[i], strlen(names[i])) ||
		    (w = snprintf(buf + at, at < len ? len - at : 0, " %s", names[i])) < 0 || at + (size_t)w >= len)
			return -1;
	}
	if (at + 1 >= len || at + 1 > UPGRADE_HELLO_MAX)
		return -1;
	buf[at] = '\n';
	buf[at + 1] = '\0';
	return (int)at + 1;
}
