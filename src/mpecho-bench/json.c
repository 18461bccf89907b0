/*
 * json: a strict JSON reader. Recursive descent over the text with a depth
 * bound; values come from blocks allocated as needed, strings are unescaped
 * into one buffer as long as the text (never longer than their escaped form).
 */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_VALUES 1024

struct json_block {
	struct json_block *next;
	int used;
	struct json values[BLOCK_VALUES];
};

struct parser {
	const char *p, *start, *end;
	char *out;			/* where the next unescaped string goes */
	struct json_doc *doc;
	int depth;
	char *why;
	size_t whylen;
};

static int parse_value(struct parser *ps, struct json *v);

/* The error, with its line and column; always -1. */
static int
fail(struct parser *ps, const char *what)
{
	const char *q;
	int line = 1, col = 1;

	for (q = ps->start; q < ps->p && q < ps->end; q++, col++)
		if (*q == '\n') {
			line++;
			col = 0;
		}
	snprintf(ps->why, ps->whylen, "line %d, column %d: %s", line, col, what);
	return -1;
}

static struct json *
new_value(struct parser *ps)
{
	struct json_block *b = ps->doc->blocks;

	if (b == NULL || b->used == BLOCK_VALUES) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return NULL;
		b->next = ps->doc->blocks;
		ps->doc->blocks = b;
	}
	return &b->values[b->used++];
}

static void
skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* A literal word: true, false, null. */
static int
parse_word(struct parser *ps, struct json *v)
{
	static const struct { const char *word; enum json_type type; } words[] = {
		{ "true", JSON_TRUE }, { "false", JSON_FALSE }, { "null", JSON_NULL } };
	size_t i, n;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		n = strlen(words[i].word);
		if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i].word, n) == 0) {
			ps->p += n;
			v->type = words[i].type;
			return 0;
		}
	}
	return fail(ps, "expected a value");
}

static size_t
digits(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

/* A number as RFC 8259 writes it; a whole one from 0 to 2^64-1 is also kept exactly. */
static int
parse_number(struct parser *ps, struct json *v)
{
	const char *s = ps->p, *q = s + (s < ps->end && *s == '-');
	char tmp[64];
	size_t n = digits(q, ps->end), i;
	bool whole = *s != '-';

	if (n == 0 || (q[0] == '0' && n > 1))
		return fail(ps, "malformed number");
	q += n;
	if (q < ps->end && *q == '.') {
		whole = false;
		if ((n = digits(q + 1, ps->end)) == 0)
			return fail(ps, "malformed number: no digit after the point");
		q += 1 + n;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		whole = false;
		q += 1 + (q + 1 < ps->end && (q[1] == '+' || q[1] == '-'));
		if ((n = digits(q, ps->end)) == 0)
			return fail(ps, "malformed number: no digit in the exponent");
		q += n;
	}
	if ((size_t)(q - s) >= sizeof(tmp))
		return fail(ps, "number too long");
	memcpy(tmp, s, (size_t)(q - s));
	tmp[q - s] = '\0';
	v->type = JSON_NUMBER;
	v->num = strtod(tmp, NULL);
	for (v->whole = whole, v->u = 0, i = 0; whole && tmp[i] != '\0'; i++) {
		if (v->u > (UINT64_MAX - (uint64_t)(tmp[i] - '0')) / 10)
			v->whole = whole = false;
		else
			v->u = v->u * 10 + (uint64_t)(tmp[i] - '0');
	}
	ps->p = q;
	return 0;
}

static int
hex4(const char *p, const char *end, unsigned *out)
{
	int i;

	*out = 0;
	for (i = 0; i < 4; i++) {
		if (p + i >= end)
			return -1;
		if (p[i] >= '0' && p[i] <= '9')
			*out = *out * 16 + (unsigned)(p[i] - '0');
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			*out = *out * 16 + (unsigned)((p[i] | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/* \uXXXX (a surrogate pair: two of them) as UTF-8; ps->p is on the 'u'. */
static int
parse_unicode(struct parser *ps)
{
	unsigned c, low;

	if (hex4(ps->p + 1, ps->end, &c) < 0)
		return fail(ps, "malformed \\u escape");
	ps->p += 5;
	if (c >= 0xdc00 && c <= 0xdfff)
		return fail(ps, "a lone low surrogate");
	if (c >= 0xd800 && c <= 0xdbff) {
		if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
		    hex4(ps->p + 2, ps->end, &low) < 0 || low < 0xdc00 || low > 0xdfff)
			return fail(ps, "a high surrogate without its low one");
		ps->p += 6;
		c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
	}
	if (c == 0)
		return fail(ps, "\\u0000 in a string");
	if (c < 0x80) {
		*ps->out++ = (char)c;
	} else if (c < 0x800) {
		*ps->out++ = (char)(0xc0 | (c >> 6));
		*ps->out++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*ps->out++ = (char)(0xe0 | (c >> 12));
		*ps->out++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*ps->out++ = (char)(0x80 | (c & 0x3f));
	} else {
		*ps->out++ = (char)(0xf0 | (c >> 18));
		*ps->out++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*ps->out++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*ps->out++ = (char)(0x80 | (c & 0x3f));
	}
	return 0;
}

/* One escape after a backslash (ps->p on the character after it). */
static int
parse_escape(struct parser *ps)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (ps->p >= ps->end)
		return fail(ps, "unterminated string");
	if (*ps->p == 'u')
		return parse_unicode(ps);
	if ((e = memchr(from, *ps->p, sizeof(from) - 1)) == NULL || *ps->p == '\0')
		return fail(ps, "unknown escape in a string");
	*ps->out++ = to[e - from];
	ps->p++;
	return 0;
}

/* A string (ps->p on its opening quote), unescaped into the strings buffer; *out is it. */
static int
parse_string(struct parser *ps, const char **out)
{
	*out = ps->out;
	ps->p++;
	for (;;) {
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		if (*ps->p == '"')
			break;
		if ((unsigned char)*ps->p < 0x20)
			return fail(ps, "a control character in a string");
		if (*ps->p == '\\') {
			ps->p++;
			if (parse_escape(ps) < 0)
				return -1;
			continue;
		}
		*ps->out++ = *ps->p++;
	}
	ps->p++;
	*ps->out++ = '\0';
	return 0;
}

/* The members of an array or an object (ps->p on its opening bracket). */
static int
parse_members(struct parser *ps, struct json *v, bool object)
{
	struct json **link = &v->child, *m;
	char close = object ? '}' : ']';

	ps->p++;
	skip_blanks(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		if ((m = new_value(ps)) == NULL)
			return fail(ps, "out of memory");
		*link = m;
		link = &m->next;
		skip_blanks(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a member's name");
			if (parse_string(ps, &m->key) < 0)
				return -1;
			skip_blanks(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				return fail(ps, "expected ':' after a member's name");
		}
		if (parse_value(ps, m) < 0)
			return -1;
		skip_blanks(ps);
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return 0;
		}
		if (ps->p >= ps->end || *ps->p++ != ',')
			return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int
parse_value(struct parser *ps, struct json *v)
{
	int rc;

	skip_blanks(ps);
	if (ps->p >= ps->end)
		return fail(ps, "expected a value, found the end");
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > JSON_MAX_DEPTH)
			return fail(ps, "nested too deep");
		v->type = *ps->p == '{' ? JSON_OBJECT : JSON_ARRAY;
		rc = parse_members(ps, v, v->type == JSON_OBJECT);
		ps->depth--;
		return rc;
	case '"':
		v->type = JSON_STRING;
		return parse_string(ps, &v->str);
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(ps, v);
	default:
		return parse_word(ps, v);
	}
}

int
json_parse(const char *text, size_t len, struct json_doc *doc, char *why, size_t whylen)
{
	struct parser ps = { .p = text, .start = text, .end = text + len, .doc = doc,
	    .why = why, .whylen = whylen };

	memset(doc, 0, sizeof(*doc));
	if (len > JSON_MAX_SIZE) {
		snprintf(why, whylen, "larger than %u bytes", JSON_MAX_SIZE);
		return -1;
	}
	if ((ps.out = doc->strings = malloc(len + 1)) == NULL || (doc->root = new_value(&ps)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (parse_value(&ps, doc->root) < 0)
		return -1;
	skip_blanks(&ps);
	if (ps.p != ps.end)
		return fail(&ps, "text after the value");
	return 0;
}

void
json_free(struct json_doc *doc)
{
	struct json_block *b, *next;

	for (b = doc->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(doc->strings);
	memset(doc, 0, sizeof(*doc));
}

const struct json *
json_get(const struct json *object, const char *key)
{
	const struct json *m;

	if (object == NULL || object->type != JSON_OBJECT)
		return NULL;
	for (m = object->child; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}
