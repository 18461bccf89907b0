/* service: what a session does with the bytes, as a table {name, function}. */
#ifndef MPECHO_SERVICE_H
#define MPECHO_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "session.h"

struct service {
	const char *name;
	enum session_end (*run)(struct session *s);
};

/* The service called name, or NULL. */
const struct service *service_find(const char *name);

/* "echo, upper": the names, for messages. */
const char *service_names(void);

/*
 * The upper-casing line machine, pure and incremental. It holds back at most
 * UPPER_HOLD bytes of a line that could still turn out to be "quit" (LF or CRLF).
 */
#define UPPER_HOLD 5

struct upper_state {
	char held[UPPER_HOLD];	/* the start of the current line while it matches "quit\r" */
	size_t nheld;
	bool at_line_start;	/* true while the current line can still be "quit" */
};

void upper_init(struct upper_state *st);

/*
 * Feed n input bytes; writes at most n + UPPER_HOLD bytes to out and returns
 * how many. If a "quit" line is found, *quit becomes true, and what follows it
 * in the input is not transformed: nothing after it must be sent.
 */
size_t upper_feed(struct upper_state *st, const char *in, size_t n, char *out, bool *quit);

/* At end of input: the held bytes, upper-cased (a last line without newline is not "quit"). */
size_t upper_flush(struct upper_state *st, char *out);

#endif
