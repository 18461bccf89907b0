/* log: one line per event, key=value, written with a single write(2). */
#ifndef MPECHO_LOG_H
#define MPECHO_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Severity, most to least severe; a line is written when its level <= the threshold. */
enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,	/* life cycle of the server: start, listen, stop */
	LOG_LVL_INFO,	/* one line per connection event (dropped by -q) */
	LOG_LVL_DEBUG	/* added by -v */
};

enum log_target {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,		/* facility daemon; syslog adds the time and pid */
	LOG_TO_FILE		/* appended; reopened by log_reopen() */
};

void log_init(const char *prog, enum log_level threshold);

/* Event lines as JSON objects (true) or key=value text (false, the default). */
void log_set_json(bool json);

/*
 * One key=value line as one JSON object: quoted values are unescaped (\" \\
 * \xNN, as log_quote() writes them) and written as JSON strings (RFC 8259),
 * bare values that are numbers as numbers. Returns the length written to out
 * (cap >= 3; a line too long is cut at a field), or 0 if kv is not key=value.
 */
size_t log_kv_json(const char *kv, char *out, size_t cap);

/* Send event lines to target (path for LOG_TO_FILE). 0, or -1 with errno. */
int log_open(enum log_target target, const char *path);

/*
 * Why opening or reopening the log file failed: strerror(), or the two faults
 * log_open() checks itself (a symbolic link; not a regular file).
 */
const char *log_strerror(int err);

/* Reopen the log file (after rotation); the descriptor number stays the same. 0 or -1. */
int log_reopen(void);

/*
 * The descriptors log lines go to besides stderr (a log file, the syslog
 * socket), at most max of them: what a child that closes everything else keeps.
 */
size_t log_fds(int *fds, size_t max);

/*
 * log_reopen() in two halves, for a process that cannot open the file itself:
 * the log file opened anew at its path (its descriptor, -2 when the log is no
 * file, or -1 with errno), and such a descriptor put in the old one's place
 * (it is closed; -2 does nothing). 0 or -1.
 */
int log_file_again(void);
int log_reopen_fd(int fd);

/* Release the log target at exit. */
void log_close(void);
int log_enabled(enum log_level level);

/* A key=value event line: "time=... level=... " followed by the formatted text. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Errors a person reads at start-up, in the words of BSD's warn(3) and
 * OpenBSD's log.c: log_warnx() writes a plain "prog: text" line on stderr,
 * log_warn() the same with ": " and strerror(errno) after the text; fatalx()
 * and fatal() write them, then exit(status). Only start-up code calls fatal.
 */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void fatalx(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/*
 * The text log_warn() writes, "text: strerror(errno)", into buf (cut to fit),
 * for a helper that hands its caller an error message. errno is kept.
 */
void log_errtext(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_verrtext(char *buf, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* At most `max` lines of a kind a second; the rest are counted, then summed up in one line. */
struct log_throttle {
	int max;
	int lines;
	int64_t window_ms;
	uint64_t held;
};

/*
 * Start a new one-second window if the last one is over; if it held lines
 * back, log "event=HELD_EVENT count=N". now_ms is a monotonic clock.
 */
void log_throttle_roll(struct log_throttle *t, int64_t now_ms, const char *held_event);

/* True if one more line may be logged now; false if it is held back (and counted). */
bool log_throttle_allow(struct log_throttle *t, int64_t now_ms, const char *held_event);

/*
 * Quote a value for a key=value line: printable ASCII without blanks or quotes
 * passes as it is; anything else is wrapped in double quotes with \" \\ and \xNN
 * escapes, so a value that came from a peer cannot forge a line or a key.
 */
const char *log_quote(const char *s, char *buf, size_t len);

/*
 * log_quote() of a formatted value, for the line being built: it lives in one
 * of a few rotating buffers (these programs log from one thread).
 */
const char *log_qf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * An error=VALUE for an event line, quoted as log_qf() does: strerror(errno)
 * (log_qerr), or "text: strerror(errno)" (log_qerrf, the text formatted).
 */
const char *log_qerr(void);
const char *log_qerrf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
