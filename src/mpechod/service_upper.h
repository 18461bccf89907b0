/*
 * service_upper: the upper-casing line machine, pure and incremental (unit
 * tested over every split of its input). It holds back at most UPPER_HOLD
 * bytes of a line that could still turn out to be "quit" (LF or CRLF).
 */
#ifndef MPECHO_SERVICE_UPPER_H
#define MPECHO_SERVICE_UPPER_H

#include <stdbool.h>
#include <stddef.h>

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
