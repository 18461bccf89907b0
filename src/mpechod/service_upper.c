/* service_upper: ASCII letters upper-cased; a line that is exactly "quit" ends the session. */
#include "service_upper.h"

#include <errno.h>
#include <sys/types.h>

#include "service.h"
#include "stream.h"

static char
upper_ascii(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

void
upper_init(struct upper_state *st)
{
	st->nheld = 0;
	st->at_line_start = true;
}

size_t
upper_flush(struct upper_state *st, char *out)
{
	size_t i, n = st->nheld;

	for (i = 0; i < n; i++)
		out[i] = upper_ascii(st->held[i]);
	st->nheld = 0;
	st->at_line_start = false;
	return n;
}

size_t
upper_feed(struct upper_state *st, const char *in, size_t n, char *out, bool *quit)
{
	static const char pattern[] = "quit\r";
	size_t i, o = 0;
	char c;

	for (i = 0; i < n; i++) {
		c = in[i];
		if (st->at_line_start) {
			/* "quit" then LF, or "quit\r" then LF, ends the session. */
			if (c == '\n' && (st->nheld == 4 || st->nheld == 5)) {
				st->nheld = 0;
				*quit = true;
				return o;
			}
			if (st->nheld < sizeof(pattern) - 1 && c == pattern[st->nheld]) {
				st->held[st->nheld++] = c;
				continue;
			}
			o += upper_flush(st, out + o);
		}
		out[o++] = upper_ascii(c);
		if (c == '\n')
			st->at_line_start = true;
	}
	return o;
}

static enum end
upper_run(struct stream *stm)
{
	char in[SERVICE_BUF], out[SERVICE_BUF + UPPER_HOLD];
	struct upper_state st;
	bool quit = false;
	size_t m;
	ssize_t n;

	upper_init(&st);
	for (;;) {
		n = stream_read(stm, in, sizeof(in));
		if (n < 0)
			return end_of_errno(errno);
		m = n == 0 ? upper_flush(&st, out) : upper_feed(&st, in, (size_t)n, out, &quit);
		if (m > 0 && stream_write(stm, out, m) < 0)
			return end_of_errno(errno);
		if (n == 0)
			return END_EOF;
		if (quit)
			return END_QUIT;
	}
}

const struct service service_upper = { "upper", upper_run, false };
