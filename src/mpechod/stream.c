/* stream: counted I/O over a transport; the counts are published to the supervisor. */
#include "stream.h"

#include <errno.h>

#include "clock.h"
#include "transport.h"

void
stream_init(struct stream *st, struct transport *tr, struct stream_counters *ctr,
    enum splice_mode splice)
{
	st->tr = tr;
	st->ctr = ctr;
	st->bytes_in = st->bytes_out = st->banner = 0;
	st->splice = transport_splices(tr) ? splice : SPLICE_NEVER;
	st->window_ms = 0;
}

void
stream_pace(struct stream *st, int rate, int window_s)
{
	st->window_ms = rate > 0 ? (int64_t)window_s * 1000 : 0;
	st->min_rate = (uint64_t)rate;
	st->window_start = clock_ms();
	st->window_in = st->bytes_in;
	st->window_out = st->bytes_out;
}

/*
 * After an I/O call moved bytes: 0, or -1 with ETIME when the window closed
 * with too few moved. The rate is judged over the whole time since the window
 * began (a call may return well after the window's end, with bytes that came
 * late), so a client that trickles just under the rate cannot bank credit.
 */
static int
stream_paced(struct stream *st)
{
	int64_t now, ms;
	uint64_t need;

	if (st->window_ms == 0 || (ms = (now = clock_ms()) - st->window_start) < st->window_ms)
		return 0;
	need = st->min_rate * (uint64_t)ms / 1000;
	if (st->bytes_in - st->window_in < need && st->bytes_out - st->window_out < need) {
		errno = ETIME;
		return -1;
	}
	st->window_start = now;
	st->window_in = st->bytes_in;
	st->window_out = st->bytes_out;
	return 0;
}

/* Publish the byte counts: a plain store, no lock in the data path. */
static ssize_t
stream_count_in(struct stream *st, ssize_t n)
{
	if (n > 0) {
		st->bytes_in += (uint64_t)n;
		__atomic_store_n(&st->ctr->bytes_in, st->bytes_in, __ATOMIC_RELAXED);
		if (stream_paced(st) < 0)
			return -1;
	}
	return n;
}

static int
stream_count_out(struct stream *st, int rc, size_t done)
{
	st->bytes_out += done;
	__atomic_store_n(&st->ctr->bytes_out, st->bytes_out, __ATOMIC_RELAXED);
	if (rc == 0 && done > 0 && stream_paced(st) < 0)
		return -1;
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
	if (!transport_splices(st->tr)) {
		errno = EINVAL;
		return -1;
	}
	return stream_count_in(st, st->tr->ops->splice_in(st->tr, pipe_w, len));
}

int
stream_at_end(struct stream *st)
{
	return st->tr->ops->at_end(st->tr);
}

int
stream_splice_out(struct stream *st, int pipe_r, size_t len)
{
	size_t done = 0;
	int rc = st->tr->ops->splice_out(st->tr, pipe_r, len, &done);

	return stream_count_out(st, rc, done);
}
