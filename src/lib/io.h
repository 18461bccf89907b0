/* io: EINTR-safe reads, write-all loops and splices, for sockets, pipes and files. */
#ifndef MPECHO_IO_H
#define MPECHO_IO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * read(2) retried on EINTR. Returns bytes read, 0 at end of stream, or -1 with
 * errno; a receive timeout (SO_RCVTIMEO) is reported as ETIMEDOUT.
 */
ssize_t io_read(int fd, void *buf, size_t len);

/*
 * Write all len bytes to a socket: short writes continue, EINTR is retried,
 * SIGPIPE is never raised (MSG_NOSIGNAL). Returns 0, or -1 with errno (a peer
 * that took nothing for twice the send timeout, SO_SNDTIMEO, as ETIMEDOUT);
 * *done tells how much went out.
 */
int io_send_all(int fd, const void *buf, size_t len, size_t *done);

/* Write all len bytes to any descriptor (pipes, files, terminals); EINTR retried. 0 or -1. */
int io_write_all(int fd, const void *buf, size_t len);

/*
 * Zero-copy: move up to len bytes from a socket into a pipe (splice(2)).
 * Bytes moved, 0 at end of stream, or -1 with errno (a receive timeout as ETIMEDOUT).
 */
ssize_t io_splice_in(int sock, int pipe_w, size_t len);

/*
 * Move exactly len bytes from a pipe to a socket. 0, or -1 with errno (a peer
 * that took nothing for twice the send timeout as ETIMEDOUT); *done says how
 * many went.
 */
int io_splice_out(int pipe_r, int sock, size_t len, size_t *done);

#endif
