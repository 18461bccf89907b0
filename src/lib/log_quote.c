/* log_quote: values made safe for one key=value line: quoted and escaped when they must be. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The longest value log_qf() returns, quotes included: half of a line (log.c's 1024). */
#define LOG_VALUE_MAX 512

const char *
log_quote(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t o = 0;
	int plain = *s != '\0';

	for (p = (const unsigned char *)s; *p && plain; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '=')
			plain = 0;
	if (plain && strlen(s) < len)
		return memcpy(buf, s, strlen(s) + 1);
	if (len < 3)
		return "\"\"";
	buf[o++] = '"';
	for (p = (const unsigned char *)s; *p && o + 5 < len; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p < ' ' || *p >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void
log_verrtext(char *buf, size_t len, const char *fmt, va_list ap)
{
	int err = errno, n, m = 0;

	if (len == 0)
		return;
	if ((n = vsnprintf(buf, len, fmt, ap)) < 0)
		n = 0, buf[0] = '\0';
	if ((size_t)n < len)
		m = snprintf(buf + n, len - (size_t)n, ": %s", strerror(err));
	if ((size_t)n + (size_t)m >= len && len >= 4)
		memcpy(buf + len - 4, "...", 3);	/* cut: say so */
	errno = err;
}

void
log_errtext(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrtext(buf, len, fmt, ap);
	va_end(ap);
}

/* The next of the few rotating buffers the quoted values live in. */
static char *
log_qbuf(void)
{
	static char quoted[4][LOG_VALUE_MAX];
	static int next;
	char *out = quoted[next];

	next = (next + 1) % 4;
	return out;
}

/* The formatted text (followed by ": strerror(errno)" if with_errno), quoted. */
static const char * __attribute__((format(printf, 2, 0)))
log_vqf(bool with_errno, const char *fmt, va_list ap)
{
	char raw[LOG_VALUE_MAX];

	if (with_errno)
		log_verrtext(raw, sizeof(raw), fmt, ap);
	else
		vsnprintf(raw, sizeof(raw), fmt, ap);
	return log_quote(raw, log_qbuf(), LOG_VALUE_MAX);
}

const char *
log_qf(const char *fmt, ...)
{
	const char *q;
	va_list ap;

	va_start(ap, fmt);
	q = log_vqf(false, fmt, ap);
	va_end(ap);
	return q;
}

const char *
log_qerrf(const char *fmt, ...)
{
	const char *q;
	va_list ap;

	va_start(ap, fmt);
	q = log_vqf(true, fmt, ap);
	va_end(ap);
	return q;
}

const char *
log_qerr(void)
{
	return log_quote(strerror(errno), log_qbuf(), LOG_VALUE_MAX);
}
