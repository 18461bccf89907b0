/*
 * session: one connection's life, in the process that serves it: the
 * transport under it, its deadlines, the service, how it ended, a lingering
 * close. The layers below point one way: session -> service -> stream ->
 * transport -> io.
 */
#ifndef MPECHO_SESSION_H
#define MPECHO_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "end.h"
#include "stream.h"

struct service;
struct tls_server;

/* What a session needs to know, and nothing more of the server's configuration. */
struct session_params {
	const struct service *service;
	const struct tls_server *tls;	/* the TLS credentials; NULL: no listener speaks TLS */
	enum splice_mode splice;	/* echo's zero-copy path */
	int max_time;			/* seconds a session may last; 0: no limit */
	int idle_timeout;		/* seconds: the socket's own timeouts, and --min-rate's window */
	int min_rate;			/* bytes a second, at least, over each window; 0: no minimum */
	const char *banner;		/* NULL, or --banner, sent first (see banner.h) */
	const char *hostname;		/* for the banner's %h */
	long server_pid;		/* for the banner's %p */
};

/*
 * Serve the connected socket fd with p->service until it ends, then close
 * it; tls: in TLS (a ",tls" listener's client), with p->tls's credentials.
 * The idle timeout is the socket's own (inherited from its listener).
 * Returns how the session ended.
 */
enum end session_run(int fd, bool tls, const struct session_params *p,
    struct stream_counters *ctr);

/* After a service ends a session (upper's quit), how long its unread input is drained before close. */
#define SESSION_LINGER_MS 2000

/*
 * --banner's line for the client on socket fd (the local address it reached
 * is its %a), CRLF-ended, in line (cap >= 3); returns its length.
 */
size_t session_banner_text(int fd, const struct session_params *p, char *line, size_t cap);

/*
 * A health check: the peer left (end eof or reset) having sent nothing and
 * been sent nothing but the banner.
 */
bool session_was_check(enum end end, uint64_t in, uint64_t out, uint64_t banner);

/* The signal a forked session gets when its supervisor dies. */
#define SESSION_ORPHAN_SIGNAL SIGUSR2

/*
 * In the fork model's supervisor, once (its children inherit it; the
 * supervisor keeps the signal blocked): if the supervisor dies, a session goes
 * on for grace seconds at most (as a drain allows), then its socket is shut
 * down and it ends; grace 0 ends it at once.
 */
void session_watch_orphan(int grace);

/*
 * What a connection that ended was. A health check (HAProxy's check, a
 * Kubernetes tcpSocket probe, any connect-and-close) is counted as a check,
 * never as a session: one whose PROXY header said so (a LOCAL header, or one
 * naming its own connection), or one whose peer closed having sent nothing
 * and been sent nothing but the banner (session_run() marks it in its
 * counters; a TLS client that closed before its first byte too).
 */
enum session_kind {
	SESSION_SERVED,		/* a session */
	SESSION_CHECK,		/* a check found at its end: logged as its connect line was, check=yes */
	SESSION_CHECK_QUIET	/* a check known from its PROXY header: its lines at debug level */
};

/* Which one a connection was: header_check from its PROXY header, ctr as it ended. */
enum session_kind session_kind(bool header_check, const struct stream_counters *ctr);

/*
 * The connect line of a session, the same in every model and under inetd: who
 * as for session_log_end(), the pid serving it and the live sessions; a check
 * known from its PROXY header at debug level.
 */
void session_log_connect(const char *who, bool check, long pid, int sessions);

/*
 * The end line of a session, the same in every model: who is "peer=A" or
 * "peer=A via=B" (peer_text()), how is "exit=N reason=R" or
 * "signal=NAME reason=killed" (end_describe()); " check=yes" follows for a
 * check, so checks never pass for sessions, and never flood the log.
 */
void session_log_end(const char *who, enum session_kind kind, long pid, const char *how,
    uint64_t in, uint64_t out, int64_t ms, int sessions);

#endif
