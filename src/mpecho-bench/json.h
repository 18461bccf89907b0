/*
 * json: a strict JSON reader (RFC 8259) for what mpecho-bench reads from
 * outside: results written by other runs, for merge. A document becomes a tree
 * of values held in one allocation set, freed at once.
 */
#ifndef MPECHO_BENCH_JSON_H
#define MPECHO_BENCH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32
#define JSON_MAX_SIZE (64u << 20)	/* bytes of text at most */

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	const char *key;		/* a member of an object: its name; else NULL */
	const char *str;		/* JSON_STRING: the text, unescaped, NUL-free */
	double num;			/* JSON_NUMBER */
	bool whole;			/* JSON_NUMBER: a whole number from 0 to 2^64-1, exactly u */
	uint64_t u;
	struct json *child;		/* an array's or object's first member */
	struct json *next;		/* the next member of the same array or object */
};

struct json_block;

struct json_doc {
	struct json *root;
	char *strings;			/* the unescaped strings, one after another */
	struct json_block *blocks;	/* the values */
};

/*
 * Parse len bytes of text into doc: 0, or -1 with why set to one line
 * ("line 3, column 7: expected ':' after a member's name"). doc is freed by
 * json_free() either way.
 */
int json_parse(const char *text, size_t len, struct json_doc *doc, char *why, size_t whylen);
void json_free(struct json_doc *doc);

/* An object's member by name (the first if repeated), or NULL. */
const struct json *json_get(const struct json *object, const char *key);

#endif
