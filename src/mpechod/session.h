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
 * The end line of a session, the same in both models: who is "peer=A" or
 * "peer=A via=B" (listener_peer_text()), how is "exit=N reason=R" or
 * "signal=NAME reason=killed" (end_describe()). A balancer's health check
 * (check) is logged at debug level, so checks never flood the log.
 */
void session_log_end(const char *who, bool check, long pid, const char *how, uint64_t in,
    uint64_t out, int64_t ms, int sessions);

#endif
