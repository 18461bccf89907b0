/* service_chargen: RFC 864 over TCP: the rotating lines, as fast as the client reads them. */
#include "chargen.h"

#include <errno.h>

#include "service.h"
#include "stream.h"

/*
 * The stream is generated once, a period longer than one write, so that every
 * write is one slice of it. What the client sends is not read (RFC 864: it is
 * discarded); the session ends when the client goes away (then: eof), stops
 * reading (idle), or at --max-time.
 */
static enum end
service_chargen_run(struct stream *st)
{
	static char text[SERVICE_BUF + CHARGEN_PERIOD];
	size_t at = 0;

	chargen_fill(text, sizeof(text), 0);
	for (;;) {
		if (stream_write(st, text + at, SERVICE_BUF) < 0)
			return errno == EPIPE || errno == ECONNRESET ? END_EOF : end_of_errno(errno);
		at = (at + SERVICE_BUF) % CHARGEN_PERIOD;
	}
}

const struct service service_chargen = { "chargen", service_chargen_run, true };
