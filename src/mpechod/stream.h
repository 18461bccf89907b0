/*
 * stream: a session's bytes as the service sees them: reads, writes and
 * zero-copy splices over the session's transport, each one counted.
 */
#ifndef MPECHO_STREAM_H
#define MPECHO_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct transport;

/*
 * Byte counters of one live session, in memory shared with the supervisor:
 * the session stores, the supervisor loads, no lock in the data path. At its
 * end the session says whether it was only a health check (session.h).
 */
struct stream_counters {
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t check;		/* 1: a health check, not a session */
};

enum splice_mode { SPLICE_AUTO, SPLICE_ALWAYS, SPLICE_NEVER };

struct stream {
	struct transport *tr;
	struct stream_counters *ctr;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t banner;		/* of bytes_out, the --banner's */
	enum splice_mode splice;	/* SPLICE_NEVER when the transport cannot splice */
	/* --min-rate (stream_pace()) */
	int64_t window_ms;		/* 0: no minimum rate */
	uint64_t min_rate;		/* bytes a second */
	int64_t window_start;		/* on the monotonic clock */
	uint64_t window_in, window_out;	/* the counts when the window began */
};

void stream_init(struct stream *st, struct transport *tr, struct stream_counters *ctr,
    enum splice_mode splice);

/*
 * A minimum data rate (--min-rate), against a slow-loris that trickles a byte
 * just often enough to dodge the idle timeout: in every window of window_s
 * seconds the session must move at least rate bytes a second in one
 * direction or the other, or its next read, write or splice fails with
 * ETIME. A window is judged when an I/O call returns after it closed, over
 * the time since it began; a call that blocks is the idle timeout's.
 * rate 0 or window_s 0: no minimum.
 */
void stream_pace(struct stream *st, int rate, int window_s);

/* Bytes read, 0 at the end of the peer's stream, -1 with errno. */
ssize_t stream_read(struct stream *st, void *buf, size_t len);

/* Send all of buf: 0 or -1 with errno. */
int stream_write(struct stream *st, const void *buf, size_t len);

/*
 * Zero-copy: from the peer into a pipe. Bytes moved, 0 at the end of the
 * stream, -1 with errno (EINVAL: this stream cannot splice; nothing moved).
 */
ssize_t stream_splice_in(struct stream *st, int pipe_w, size_t len);

/*
 * After splicing in returned 0: the peer's true end (1), or data waiting that
 * splice stopped short of (0: TCP splice stops at an urgent byte, even in
 * line), or -1 with errno.
 */
int stream_at_end(struct stream *st);

/* Zero-copy: len bytes from the pipe to the peer. 0 or -1 with errno. */
int stream_splice_out(struct stream *st, int pipe_r, size_t len);

#endif
