/*
 * model_loop: a few workers, each one epoll loop serving many connections.
 * model_loop.c is the supervisor's side (start, replace, count what a dead
 * worker lost); model_loop_worker.c a worker's loop (listeners, signals,
 * timers); model_loop_session.c one connection's bytes, without blocking:
 * the services as steps, and back-pressure; model_loop_timer.c the deadlines.
 */
#ifndef MPECHO_MODEL_LOOP_H
#define MPECHO_MODEL_LOOP_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "admission.h"
#include "end.h"
#include "listener.h"
#include "service_upper.h"

struct acl;
struct acl_shared;
struct config;
struct limits;
struct proxy_wait;
struct loop_service;
struct loop_worker;
struct service;
struct ssl_st;
struct listeners;
struct session_params;

/* Descriptors a worker needs besides its sessions': the epoll set, the signalfd, stdio, the log. */
#define LOOP_FD_SPARE 32

/* Process table slots per lane: its taking worker, and retiring ones still serving (model_loop.c). */
#define LOOP_LANE_SLOTS 4

/* One worker's figures, in memory shared with the supervisor; the worker alone writes them. */
struct loop_board {
	int cap;			/* sessions it may have: set by the supervisor (see model_loop.c) */
	int spots;			/* its list of clients' addresses holds this many (its lane's share) */
	int retiring;			/* 1: it served --max-requests and takes no more (set by the worker) */
	int live;			/* its sessions now */
	uint64_t served;		/* sessions that ended */
	uint64_t bytes_in, bytes_out;	/* of every session, live ones included */
	uint64_t ended[END_REASONS];	/* sessions that ended, by reason */
	uint64_t duration[END_BUCKETS];	/* and by duration bucket */
	uint64_t duration_ms;
	uint64_t checks;		/* balancer health checks */
	uint64_t accept_pauses;
};

/* Shared by every worker. */
struct loop_totals {
	int live;			/* sessions of all workers now, for log lines */
	uint64_t refused[REFUSAL_COUNT];
	pthread_mutex_t lock;		/* the per-source table's (robust: a worker may die holding it) */
	int torn;			/* a worker died holding it: a count may be half-changed */
	unsigned generation;		/* its live counts were cleared: each worker gives its own back */
	unsigned credentials;		/* SIGHUP loaded new TLS credentials this many times */
	uint64_t at_limit;		/* times a worker stopped taking clients at -c (model_loop.c logs them) */
};

/* What a worker is given. */
struct loop_job {
	const struct listeners *ls;
	const struct session_params *session;
	const struct acl_shared *rules;	/* the access rules in force */
	struct loop_totals *totals;
	struct limits *limits;		/* --max-per-source, --rate: one table, shared; NULL: none */
	int prefix6;			/* IPv6 sources are counted by this prefix */
	const struct acl *proxy_from;	/* who may send a PROXY header */
	int proxy_timeout_ms;		/* how long a PROXY header may take */
	long supervisor;		/* its pid: SIGTERM is taken from it alone */
	int grace_ms;			/* an orphaned worker ends its sessions after this */
	int max_requests;		/* sessions it takes before it retires; 0: no limit */
	int max_conns;			/* -c: sessions of every worker together */
	unsigned credentials;		/* of the TLS context it was forked with (totals->credentials then) */
	struct net_addr *spots;		/* each worker's clients' addresses, shared: stride entries a slot */
	int stride;
	int slot;			/* the worker's, in the table (and so its boards and spots) */
};

/*
 * How many workers: --workers, or one per CPU; at most -c; and enough that
 * each one's share of -c fits its descriptors (RLIMIT_NOFILE's hard limit).
 * *nofile becomes that limit when it raised the count, else 0.
 */
int loop_workers(const struct config *cfg, long *nofile);

/* Worker slot's share of -c among n workers. */
int loop_share(int max_conns, int n, int slot);

/*
 * model_loop_worker.c: the per-source table is the workers' together; these
 * take its lock (nothing without a table; true if a worker died holding it).
 */
bool loop_limits_lock(const struct loop_job *job);
void loop_limits_unlock(const struct loop_job *job);
/*
 * A client judged (the access rules, the per-source table, under its lock)
 * and, if admitted, its address put in a spot of the worker's list, in
 * shared memory: what the status page counts by source, and what the
 * supervisor gives back to the table at once if the worker dies. *spot: the
 * spot, or -1 (a Unix-socket client: no address). loop_release() gives both
 * back when the session ends.
 */
enum refusal loop_admit(struct loop_worker *w, const struct peer *p, int *spot);
void loop_release(struct loop_worker *w, const struct peer *p, int spot);

/*
 * A worker's life, in the child the model forked (after child_begin(), with
 * SIGUSR1, SIGHUP and SIGTERM blocked): serve until SIGUSR1 or the listeners
 * shut down, and then until its sessions are over; SIGTERM from the
 * supervisor ends them at once. gate: -1, or the supervisor's, which turns
 * readable once the server said "ready"; no connection is taken before.
 * Never returns: _exit(0), or 1 if it cannot work.
 */
void loop_worker_run(const struct loop_job *job, struct loop_board *me, int gate)
    __attribute__((noreturn));

/* The signals a loop worker reads from its signalfd (blocked from its fork on): USR1, HUP, TERM, USR2. */
void loop_worker_signals(sigset_t *set);

/* Where a session is in its life (model_loop_session.c moves it on). */
enum loop_state {
	LOOP_RUN,		/* serving */
	LOOP_HANDSHAKE,		/* TLS: its handshake, until done or its deadline */
	LOOP_CLOSING,		/* TLS: its close-notify waits for room (then the FIN, as the end decides) */
	LOOP_LINGER		/* ended by the service (quit): our FIN sent, input dropped until the client closes */
};

/* A connection in a worker. An idle one holds no buffer: only this. */
struct loop_session {
	int fd;
	int spot;			/* its client's address in the worker's list; -1: none */
	uint8_t state;			/* enum loop_state */
	uint8_t events;			/* what the epoll set waits for now */
	uint8_t end_after;		/* END_COUNT: going on; else how it ends once the held output is out */
	uint8_t wait;			/* TLS: the way its last call waits (LOOP_WANT_*); 0: the call's own */
	int heap_at;			/* in the timer heap; -1: not in it */
	int64_t due_ms;			/* its key there */
	int64_t start_ms, last_ms;	/* began; last moved a byte */
	int64_t window_ms;		/* --min-rate: the window began */
	uint64_t window_in, window_out;
	int64_t linger_ms;		/* lingering: until then */
	uint64_t in, out, banner;	/* bytes; of out, the banner's */
	struct proxy_wait *pw;		/* on a ,proxy listener, until its header is in; else NULL */
	struct ssl_st *ssl;		/* on a ,tls listener: its TLS connection; else NULL */
	char *held;			/* output not yet written (NULL: none) */
	uint32_t held_off, held_len;
	uint32_t chargen_at;		/* chargen: where in the pattern */
	struct upper_state upper;
	struct peer peer;
};

/* The timer heap: sessions by their next deadline (model_loop_timer.c). */
struct loop_heap {
	struct loop_session **v;
	int n, cap;
};

int loop_heap_init(struct loop_heap *h, int cap);
void loop_heap_free(struct loop_heap *h);
/* Put s in the heap at key due (or move it there). 0, or -1 with ENOMEM. */
int loop_heap_set(struct loop_heap *h, struct loop_session *s, int64_t due);
void loop_heap_remove(struct loop_heap *h, struct loop_session *s);
/* The session due first, or NULL. */
struct loop_session *loop_heap_top(const struct loop_heap *h);

/* A worker's state, shared by its files. */
struct loop_worker {
	const struct loop_job *job;
	struct loop_board *me;
	struct admission adm;
	unsigned generation;		/* of the per-source table's live counts, as last given back */
	int ep, sigfd;
	int gate;			/* -1, or no listener is added until it is readable */
	bool listening;			/* the listeners are in the epoll set */
	bool leave;			/* no new session; leave once none is left */
	uint64_t taken;			/* sessions it took, for --max-requests */
	int pending;			/* connections still owing their PROXY header: they count under -c */
	int64_t rest_until;		/* accepting rests until then (EMFILE); 0: not resting */
	int64_t kill_at;		/* an orphan: its sessions end then; 0: never */
	int64_t now;			/* clock_ms() as the turn's wait returned: one read a turn */
	struct loop_heap timers;
	const struct loop_service *svc;	/* what the sessions do (model_loop_session.c) */
	char *chargen;			/* chargen's pattern, made once; NULL for other services */
	char *buf;			/* the one buffer: LOOP_BUF in, then room for a service's out */
	struct net_addr *spots;		/* its clients' addresses, in shared memory (job->spots) */
	int *free_spots, nfree;		/* the spots not in use, lowest on top */
};

#define LOOP_BUF (64 * 1024)

/* A service as steps (model_loop_service.c). */
struct loop_service {
	const struct service *svc;
	/*
	 * What input in[0..n) becomes: *m bytes at the returned pointer (in itself,
	 * or out, room for n + UPPER_HOLD); *quit: the session ends after them.
	 * NULL: the service reads nothing.
	 */
	const char *(*feed)(struct loop_session *s, const char *in, size_t n, char *out, size_t *m,
	    bool *quit);
	/* At the end of the input: what is still to send, into out; returns its length. */
	size_t (*end)(struct loop_session *s, char *out);
	/* Sent first, after the banner, and then the session ends (daytime). */
	size_t (*first)(char *out);
	bool streams;			/* it writes on its own as fast as the client reads (chargen) */
};

/* The worker's service, and chargen's pattern if that is it. 0, or -1 with errno. */
int loop_service_init(struct loop_worker *w);

/*
 * chargen: up to rounds writes of the pattern, as much as the socket takes.
 * Bytes sent (0: none fit), or -1 with errno.
 */
ssize_t loop_service_stream(struct loop_worker *w, struct loop_session *s, int rounds);

/*
 * model_loop_session.c: a new session (accepted, admitted, non-blocking):
 * registered, greeted, served as its socket becomes ready; its end logged and
 * counted. early: it came on a ,deferred listener, and is read before any
 * wait. 0, or -1 (fd closed, counted as an error).
 */
int loop_session_start(struct loop_worker *w, int fd, const struct peer *p, int spot, bool early);
/*
 * A connection on a ,proxy listener from balancer: held (counted under -c)
 * until its header is in, then admitted and served as the client it names.
 * 0, or -1 (closed: refused, or no memory).
 */
int loop_session_proxied(struct loop_worker *w, int fd, const struct peer *balancer);
/* What a session's epoll registration waits for (its events field; 0: not registered yet). */
enum { LOOP_WANT_IN = 1, LOOP_WANT_OUT = 2 };

/*
 * The session's parts model_loop_proxy.c shares: a new struct for fd (in the
 * heap at its first deadline; NULL, fd closed, without memory), a session
 * beginning (counted, its connect line, its first bytes; early: they are in
 * already, TLS aside: read them before any wait), one still owing its
 * PROXY header dropped (uncounted: it never was a session), a session's next
 * deadline (a linger's end, or the earlier of the idle timeout and --max-time).
 */
struct loop_session *loop_session_new(struct loop_worker *w, int fd, const struct peer *p,
    struct proxy_wait *pw);
void loop_session_begin(struct loop_worker *w, struct loop_session *s, bool early);
void loop_session_drop(struct loop_worker *w, struct loop_session *s);
int64_t loop_session_deadline(const struct loop_worker *w, const struct loop_session *s);
/*
 * model_loop_tls.c: a TLS session's set-up (0, or -1 with ENOMEM) and its
 * handshake, a step at a time (1 done, and logged as in the other models; 0
 * not yet, s->wait says which way; -1 failed, errno ENODATA: the peer left
 * before its first byte, a health check, or EPROTO: logged), and the
 * handshake's deadline passed (logged; -1 with EPROTO).
 */
int loop_tls_open(struct loop_worker *w, struct loop_session *s);
int loop_tls_handshake(struct loop_worker *w, struct loop_session *s);
int loop_tls_timed_out(struct loop_worker *w, struct loop_session *s);
/*
 * A session's bytes, plain or TLS, without blocking: read (bytes, 0 at the
 * end of the client's stream, or -1 with errno: EAGAIN, or EPROTO, logged),
 * send (bytes taken, or -1 with errno when none was), our direction's end (a
 * close-notify if TLS, and the FIN: 0, or -1 with errno), input TLS holds
 * already (read ahead or decrypted: no socket readiness will say so), whether
 * TLS's next reads may take more from the socket than completes the record it
 * holds, and the TLS state freed.
 */
ssize_t loop_io_recv(struct loop_session *s, void *buf, size_t len);
ssize_t loop_io_send(struct loop_session *s, const void *buf, size_t len);
int loop_io_shutdown(struct loop_session *s);
bool loop_io_buffered(const struct loop_session *s);
void loop_io_read_ahead(struct loop_session *s, bool on);
void loop_io_free(struct loop_session *s);

/* model_loop_proxy.c: the header's socket is readable: one step. */
void loop_proxy_step(struct loop_worker *w, struct loop_session *s);

/* Its socket is ready (epoll events ev). */
void loop_session_ready(struct loop_worker *w, struct loop_session *s, uint32_t ev);
/* Its deadline came (it is out of the heap): idle, max-time, the end of a linger. */
void loop_session_due(struct loop_worker *w, struct loop_session *s, int64_t now);
/* End it now as killed (SIGTERM, an orphan's grace over). */
void loop_session_kill(struct loop_worker *w, struct loop_session *s, int sig);

#endif
