/* stream: counted I/O over a transport; the counts are published to the supervisor. */
#include "stream.h"

#include <errno.h>
#include <sys/socket.h>

#include "io.h"
#include "transport.h"

void
stream_init(struct stream *st, struct transport *tr, struct stream_counters *ctr,
    enum splice_mode splice)
{
	st->tr = tr;
	st->ctr = ctr;
	st->bytes_in = st->bytes_out = 0;
	st->splice = tr->raw ? splice : SPLICE_NEVER;
}

/* Publish the byte counts: a plain store, no lock in the data path. */
static ssize_t
stream_count_in(struct stream *st, ssize_t n)
{
	if (n > 0) {
		st->bytes_in += (uint64_t)n;
		__atomic_store_n(&st->ctr->bytes_in, st->bytes_in, __ATOMIC_RELAXED);
	}
	return n;
}

static int
stream_count_out(struct stream *st, int rc, size_t done)
{
	st->bytes_out += done;
	__atomic_store_n(&st->ctr->bytes_out, st->bytes_out, __ATOMIC_RELAXED);
	return rc;
}

ssize_t
stream_read(struct stream *st, void *buf, size_t len)
{
	return stream_count_in(st, transport_read(st->tr, buf, len));
}

int
stream_write(struct stream *st, const void *buf, size_t len)
{
	size_t done = 0;
	int rc = transport_write(st->tr, buf, len, &done);

	return stream_count_out(st, rc, done);
}

ssize_t
stream_splice_in(struct stream *st, int pipe_w, size_t len)
{
	if (!st->tr->raw) {
		errno = EINVAL;
		return -1;
	}
	return stream_count_in(st, io_splice_in(st->tr->fd, pipe_w, len));
}

int
stream_at_end(struct stream *st)
{
	char c;
	ssize_t n;

	do
		n = recv(st->tr->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;	/* nothing yet, and no end either: go on */
	return n == 0 ? 1 : n > 0 ? 0 : -1;
}

int
stream_splice_out(struct stream *st, int pipe_r, size_t len)
{
	size_t done = 0;
	int rc = io_splice_out(pipe_r, st->tr->fd, len, &done);

	return stream_count_out(st, rc, done);
}
