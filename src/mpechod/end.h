/* end: why a session ended: the exit status of its process, and the reason= in its end line. */
#ifndef MPECHO_END_H
#define MPECHO_END_H

#include <stddef.h>
#include <stdint.h>

/* A forked session exits with one of these; the supervisor decodes it into the end line. */
enum end {
	END_EOF = 0,		/* the client closed its side; everything was sent back */
	END_ERROR = 1,		/* an unexpected I/O error */
	END_RESET = 2,		/* the peer reset the connection or went away */
	END_QUIT = 3,		/* the service ended it (upper: a "quit" line) */
	END_IDLE = 4,		/* no progress for --idle-timeout */
	END_MAX_TIME = 5,	/* the session lasted --max-time */
	END_SLOW = 6,		/* it moved less than --min-rate over an idle-timeout window */
	END_TLS = 7,		/* TLS failed: the handshake (or its deadline), or a bad record */
	END_COUNT
};

/* Where sessions are counted by how they ended: the END_* values, then one for killed ones. */
#define END_KILLED END_COUNT
#define END_REASONS (END_COUNT + 1)

/* Session durations are counted in these buckets (upper bounds in ms; the last is +Inf). */
#define END_BUCKETS 9
extern const int64_t end_bucket_ms[END_BUCKETS - 1];

/* The bucket of a duration. */
int end_bucket(int64_t ms);

/* "eof", ..., "max-time", and "killed" for END_KILLED; NULL for a status no session uses. */
const char *end_reason_name(int reason);

/* "eof", "error", "reset", "quit", "idle", "max-time", "slow", "tls"; NULL for a status no session uses. */
const char *end_name(int status);

/*
 * The end that an I/O error (an errno value) means; ETIME is the stream's "too
 * slow", EPROTO the TLS transport's failure.
 */
enum end end_of_errno(int err);

/* How any child process ended, from its wait(2) status: "exit=N" or "signal=NAME". Returns buf. */
const char *end_wait_text(int wstatus, char *buf, size_t len);

/*
 * How a session ended, from its wait(2) status: end_wait_text() and the
 * reason, "exit=N reason=R" or "signal=NAME reason=killed". Returns buf.
 */
const char *end_describe(int wstatus, char *buf, size_t len);

/* "TERM", "KILL", ...: a signal's name for log lines; "?" if it has none. */
const char *end_signal_name(int sig);

#endif
