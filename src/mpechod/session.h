/* session: one connection, served in its own process. */
#ifndef MPECHO_SESSION_H
#define MPECHO_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;

/*
 * How a session ended: the child's exit status, decoded by the supervisor
 * into the reason= of its end line.
 */
enum session_end {
	SESSION_EOF = 0,	/* the client closed its side; everything was sent back */
	SESSION_ERROR = 1,	/* an unexpected I/O error */
	SESSION_RESET = 2,	/* the peer reset the connection or went away */
	SESSION_QUIT = 3,	/* the service ended it (upper: a "quit" line) */
	SESSION_IDLE = 4,	/* no progress for --idle-timeout */
	SESSION_MAX_TIME = 5,	/* the session lasted --max-time */
	SESSION_NEND
};

/*
 * Byte counters of one live session, in memory shared with the supervisor:
 * the child stores, the supervisor loads, no lock in the data path.
 */
struct session_counters {
	uint64_t bytes_in;
	uint64_t bytes_out;
};

enum splice_mode { SPLICE_AUTO, SPLICE_ALWAYS, SPLICE_NEVER };

struct session {
	int fd;
	enum splice_mode splice;
	struct session_counters *ctr;
	uint64_t bytes_in;
	uint64_t bytes_out;
};

/*
 * Serve fd with cfg->service within cfg's idle timeout and time limit, then
 * close it. Returns how the session ended. Used by a prefork worker for each
 * connection it accepts.
 */
enum session_end session_run(int fd, const struct config *cfg, struct session_counters *ctr);

/* The fork model: session_run() in this child, then _exit() with the enum session_end. */
void session_serve(int fd, const struct config *cfg, struct session_counters *ctr)
	__attribute__((noreturn));

/*
 * The end line of a session, the same in both models: how is "exit=N reason=R"
 * or "signal=NAME reason=killed".
 */
void session_log_end(const char *peer, long pid, const char *how, uint64_t in, uint64_t out,
    int64_t ms, int sessions);

/* Write "exit=N reason=R" for a session end status into buf. */
const char *session_describe(int status, char *buf, size_t len);

/* Read from the client: bytes read, 0 at end of stream, -1 with errno. Counts the bytes. */
ssize_t session_read(struct session *s, void *buf, size_t len);

/* Send all of buf to the client: 0 or -1 with errno. Counts the bytes that went out. */
int session_write(struct session *s, const void *buf, size_t len);

/* Zero-copy: from the client into a pipe; bytes moved, 0 at end of stream, -1 with errno. Counts. */
ssize_t session_splice_in(struct session *s, int pipe_w, size_t len);

/* Zero-copy: len bytes from the pipe to the client; 0 or -1 with errno. Counts. */
int session_splice_out(struct session *s, int pipe_r, size_t len);

/* The end that an I/O error (errno value) means. */
enum session_end session_failure(int err);

/* "eof", "error", "reset", "quit", "idle", "max-time"; NULL for a status no session uses. */
const char *session_end_name(int status);

#endif
