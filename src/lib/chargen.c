/* chargen: the RFC 864 stream, computed for any offset (the server sends it, the bench checks it). */
#include "chargen.h"

void
chargen_fill(char *out, size_t len, size_t at)
{
	size_t i, pos, line, col;

	for (i = 0; i < len; i++) {
		pos = (at + i) % CHARGEN_PERIOD;
		line = pos / (CHARGEN_LINE + 2);
		col = pos % (CHARGEN_LINE + 2);
		out[i] = col == CHARGEN_LINE ? '\r' : col == CHARGEN_LINE + 1 ? '\n' :
		    (char)(' ' + (line + col) % CHARGEN_CHARS);
	}
}
