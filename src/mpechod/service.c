/* service: echo (RFC 862) and upper. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* 64 KiB: large reads keep bulk echo cheap; on the stack, only the pages used are touched. */
#define SERVICE_BUF (64 * 1024)

/*
 * Zero-copy echo: the bytes go from the socket into a pipe and from the pipe
 * back to the socket without entering this process. Returns -1 (errno
 * EINVAL or from pipe2) before anything moved if this path cannot be used.
 */
static int
echo_splice(struct session *s, enum session_end *end)
{
	ssize_t n;
	int p[2];
	bool moved = false;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	for (;;) {
		n = session_splice_in(s, p[1], SERVICE_BUF);
		if (n < 0 && !moved && errno == EINVAL) {
			close(p[0]);
			close(p[1]);
			return -1;	/* no splice for this socket: copy instead */
		}
		moved = true;
		if (n == 0) {
			*end = SESSION_EOF;
			break;
		}
		if (n < 0 || session_splice_out(s, p[0], (size_t)n) < 0) {
			*end = session_failure(errno);
			break;
		}
	}
	close(p[0]);
	close(p[1]);
	return 0;
}

/*
 * RFC 862: every byte back, unchanged, until the client closes. Small
 * messages are copied (a read and a write, nothing to set up); once a read
 * fills the whole buffer the flow is bulk, and with --splice auto the
 * session moves on to zero-copy.
 */
static enum session_end
echo_run(struct session *s)
{
	char buf[SERVICE_BUF];
	enum session_end end;
	ssize_t n;

	if (s->splice == SPLICE_ALWAYS && echo_splice(s, &end) == 0)
		return end;
	for (;;) {
		n = session_read(s, buf, sizeof(buf));
		if (n == 0)
			return SESSION_EOF;
		if (n < 0 || session_write(s, buf, (size_t)n) < 0)
			return session_failure(errno);
		if (n == sizeof(buf) && s->splice == SPLICE_AUTO) {
			s->splice = SPLICE_NEVER;	/* if splice cannot be used, stay here */
			if (echo_splice(s, &end) == 0)
				return end;
		}
	}
}

static enum session_end
upper_run(struct session *s)
{
	char in[SERVICE_BUF], out[SERVICE_BUF + UPPER_HOLD];
	struct upper_state st;
	bool quit = false;
	size_t m;
	ssize_t n;

	upper_init(&st);
	for (;;) {
		n = session_read(s, in, sizeof(in));
		if (n < 0)
			return session_failure(errno);
		m = n == 0 ? upper_flush(&st, out) : upper_feed(&st, in, (size_t)n, out, &quit);
		if (m > 0 && session_write(s, out, m) < 0)
			return session_failure(errno);
		if (n == 0)
			return SESSION_EOF;
		if (quit)
			return SESSION_QUIT;
	}
}

static const struct service services[] = {
	{ "echo", echo_run },
	{ "upper", upper_run },
};

const struct service *
service_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(services[i].name, name) == 0)
			return &services[i];
	return NULL;
}

const char *
service_names(void)
{
	return "echo, upper";
}

static char
ascii_upper(char c)
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
		out[i] = ascii_upper(st->held[i]);
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
		out[o++] = ascii_upper(c);
		if (c == '\n')
			st->at_line_start = true;
	}
	return o;
}
