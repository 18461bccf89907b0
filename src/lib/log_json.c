/* log_json: a key=value event line as one JSON object (RFC 8259), for --log-format json. */
#include "log.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Append c to a JSON string being built, escaped as RFC 8259 asks. false if out of room. */
static bool
log_json_char(char *out, size_t cap, size_t *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (*o + 7 >= cap)
		return false;
	if (c == '"' || c == '\\') {
		out[(*o)++] = '\\';
		out[(*o)++] = (char)c;
	} else if (c < 0x20 || c >= 0x7f) {	/* bytes past ASCII need not be UTF-8: escaped */
		memcpy(out + *o, "\\u00", 4);
		out[*o + 4] = hex[c >> 4];
		out[*o + 5] = hex[c & 15];
		*o += 6;
	} else {
		out[(*o)++] = (char)c;
	}
	return true;
}

/* A bare value that JSON can take as a number: -?digits(.digits)?, no leading zeros. */
static bool
log_json_number(const char *v, size_t n)
{
	size_t i = v[0] == '-', digits = 0;

	if (i >= n || (v[i] == '0' && i + 1 < n && v[i + 1] != '.'))
		return false;
	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++)
		digits++;
	if (i < n && v[i] == '.')
		for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++)
			;
	return digits > 0 && i == n && v[n - 1] != '.';
}

static int
log_json_hex(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* One value (quoted or bare) at *p into out as JSON; *p moves past it. false if malformed. */
static bool
log_json_value(const char **p, char *out, size_t cap, size_t *o)
{
	const char *v = *p;
	size_t n;
	unsigned x;

	if (*v != '"') {
		n = strcspn(v, " ");
		*p = v + n;
		if (log_json_number(v, n) && *o + n < cap) {
			memcpy(out + *o, v, n);
			*o += n;
			return true;
		}
		out[(*o)++] = '"';
		while (v < *p)
			if (!log_json_char(out, cap, o, (unsigned char)*v++))
				return false;
		out[(*o)++] = '"';
		return true;
	}
	out[(*o)++] = '"';
	for (v++; *v != '"'; v++) {
		if (*v == '\0')
			return false;
		if (*v == '\\' && v[1] == 'x' && isxdigit((unsigned char)v[2]) &&
		    isxdigit((unsigned char)v[3])) {
			x = (unsigned)(log_json_hex(v[2]) << 4 | log_json_hex(v[3]));
			v += 3;
		} else if (*v == '\\' && (v[1] == '"' || v[1] == '\\')) {
			x = (unsigned char)*++v;
		} else {
			x = (unsigned char)*v;
		}
		if (!log_json_char(out, cap, o, (unsigned char)x))
			return false;
	}
	*p = v + 1;
	out[(*o)++] = '"';
	return true;
}

size_t
log_kv_json(const char *kv, char *out, size_t cap)
{
	const char *p = kv, *key;
	size_t o = 0, mark;

	out[o++] = '{';
	while (*p != '\0') {
		key = p;
		p += strcspn(p, "= ");
		if (*p != '=' || p == key)
			return 0;
		mark = o;
		if (o + 8 >= cap)	/* room for ,"": and what closes the object */
			break;
		if (o > 1)
			out[o++] = ',';
		out[o++] = '"';
		while (key < p && log_json_char(out, cap - 8, &o, (unsigned char)*key))
			key++;
		out[o++] = '"';
		out[o++] = ':';
		p++;
		if (key < p - 1 || !log_json_value(&p, out, cap - 2, &o)) {
			o = mark;	/* cut at the last whole field */
			break;
		}
		while (*p == ' ')
			p++;
	}
	out[o++] = '}';
	out[o] = '\0';
	return o;
}
