/*
 * chargen: RFC 864's character generator, the pure part: lines of 72
 * printable ASCII characters (0x20 to 0x7e) and CRLF, each line starting one
 * character further on than the one before, so the stream repeats every 95 lines.
 */
#ifndef MPECHO_CHARGEN_H
#define MPECHO_CHARGEN_H

#include <stddef.h>

#define CHARGEN_LINE 72			/* characters in a line, before CRLF */
#define CHARGEN_CHARS 95		/* the printable characters, ' ' to '~' */
#define CHARGEN_PERIOD (CHARGEN_CHARS * (CHARGEN_LINE + 2))	/* bytes before it repeats */

/* Write len bytes of the stream into out, from byte offset at of the stream. */
void chargen_fill(char *out, size_t len, size_t at);

#endif
