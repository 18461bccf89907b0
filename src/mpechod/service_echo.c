/* service_echo: RFC 862, every byte back unchanged; copied when small, spliced when bulk. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "stream.h"

/*
 * Zero-copy echo: the bytes go from the socket into a pipe and from the pipe
 * back to the socket without entering this process. Returns -1 (errno
 * EINVAL or from pipe2) before anything moved if this path cannot be used.
 */
static int
echo_splice(struct stream *st, enum end *end)
{
	char buf[64];
	ssize_t n;
	int p[2], at_end;
	bool moved = false;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	for (;;) {
		n = stream_splice_in(st, p[1], SERVICE_BUF);
		if (n < 0 && !moved && errno == EINVAL) {
			close(p[0]);
			close(p[1]);
			return -1;	/* no splice for this socket: copy instead */
		}
		moved = true;
		if (n == 0 && (at_end = stream_at_end(st)) != 0) {
			*end = at_end > 0 ? END_EOF : end_of_errno(errno);
			break;
		}
		if (n == 0) {	/* an urgent byte stopped splice: one copy takes it, in its place */
			if ((n = stream_read(st, buf, sizeof(buf))) <= 0 || stream_write(st, buf, (size_t)n) < 0) {
				*end = n == 0 ? END_EOF : end_of_errno(errno);
				break;
			}
			continue;
		}
		if (n < 0 || stream_splice_out(st, p[0], (size_t)n) < 0) {
			*end = end_of_errno(errno);
			break;
		}
	}
	close(p[0]);
	close(p[1]);
	return 0;
}

/*
 * Small messages are copied (a read and a write, nothing to set up); once a
 * read fills the whole buffer the flow is bulk, and with --splice auto the
 * session moves on to zero-copy.
 */
static enum end
echo_run(struct stream *st)
{
	char buf[SERVICE_BUF];
	enum end end;
	ssize_t n;

	if (st->splice == SPLICE_ALWAYS && echo_splice(st, &end) == 0)
		return end;
	for (;;) {
		n = stream_read(st, buf, sizeof(buf));
		if (n == 0)
			return END_EOF;
		if (n < 0 || stream_write(st, buf, (size_t)n) < 0)
			return end_of_errno(errno);
		if (n == sizeof(buf) && st->splice == SPLICE_AUTO) {
			st->splice = SPLICE_NEVER;	/* if splice cannot be used, stay here */
			if (echo_splice(st, &end) == 0)
				return end;
		}
	}
}

const struct service service_echo = { "echo", echo_run, false };
