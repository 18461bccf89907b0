/*
 * supervisor: the server's main loop. It never touches payload: it waits on
 * its signals and the listeners in one poll set, admits connections, hands
 * them to the process model, reaps children, and drains at the end.
 */
#ifndef MPECHO_SUPERVISOR_H
#define MPECHO_SUPERVISOR_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "admission.h"
#include "agent.h"
#include "child.h"
#include "metrics.h"
#include "model.h"
#include "notify.h"
#include "pending.h"
#include "privsep.h"
#include "proctab.h"
#include "rules.h"
#include "session.h"
#include "sockfile.h"
#include "tally.h"

struct config;
struct listeners;
struct model;
struct pidfile;
struct tls_server;

/* What start-up prepared for the supervisor. */
struct supervisor_env {
	struct listeners *ls;
	struct pidfile *pidfile;	/* NULL, or locked: written once ready, removed at exit */
	int ready_fd;			/* -1, or the daemon's line to the foreground process */
	int upgrade_conn;		/* -1, or the line to the server whose listeners were taken */
	int metrics_fd;			/* -1, or the --metrics listener */
	int agent_fd;			/* -1, or the --agent listener */
	pid_t upgrade_from;		/* that server's pid */
	char handed[64];		/* its endpoints this server took ("metrics,agent"), or "" */
	struct tls_server *tls;		/* NULL, or the loaded TLS credentials: reloaded on SIGHUP */
	struct listeners *udp;		/* the bound UDP sockets (none: no UDP process) */
	struct rules rules;		/* the --rules file's, read at start (none: empty) */
	char error[256];		/* why the start failed, when errno alone cannot say */
};

enum stop_stage { RUNNING, DRAINING, TERMINATING, KILLING };

struct supervisor;

/*
 * Counts kept each second (--metrics only), five minutes of them: the
 * summary's rates over the last minute, the status page's charts.
 */
#define SUPERVISOR_SAMPLES 300
struct supervisor_sample {
	int64_t ms;
	uint64_t seq;			/* 1 for the first sample taken, and on */
	int sessions;
	uint64_t served, bytes_in, bytes_out, refused;
};

/* The UDP process (supervisor_udp.c): it alone reads the UDP sockets. */
struct supervisor_udp {
	struct listeners *socks;
	pid_t pid;			/* 0: not running */
	int64_t started_ms;
	int64_t respawn_ms;		/* 0, or when to start it again */
	uint64_t *counts;		/* the UDP process's counters (udp.h), shared; NULL: no UDP */
};

/* The supervisor's state. The process model reads it and keeps its own part of it. */
struct supervisor {
	const struct config *cfg;
	struct listeners *ls;
	struct session_params session;	/* what every session is given */
	struct child_env child;		/* what every child drops */
	struct proctab tab;		/* the children */
	struct admission adm;
	struct acl_shared *rules;	/* the access rules in force, for every process (supervisor_rules.c) */
	const struct model *model;
	struct model_env menv;		/* what the model sees: parts of this, and its own state */
	struct tally ended;		/* what ended children served and moved */
	enum stop_stage stage;
	bool leaving;			/* RUNNING, but --shutdown-delay is running out: not ready */
	int stop_signal;		/* the signal that began the shutdown delay */
	int64_t stage_deadline_ms;	/* the next stop stage (or the drain, when leaving); -1: none */
	int64_t start_ms;
	int64_t resume_ms;		/* accepting paused until then (0: not paused) */
	bool accept_error_logged;
	int sigfd;
	int gate;			/* -1, or until "ready" is logged: workers wait for it to be readable */
	struct notify notify;		/* readiness and status for a service manager */
	struct pending pending;		/* connections still owing their PROXY header */
	struct pidfile *pidfile;	/* NULL, or the locked pidfile */
	struct tls_server *tls;		/* NULL, or the TLS credentials (sessions get them at fork) */
	struct privsep privsep;		/* with -u: what must stay root, in a process of its own */
	struct supervisor_udp udp;
	int upgrade_fd;			/* -1, or where a successor may ask for the listeners */
	struct sockfile upgrade_file;	/* its file: removed at exit unless a successor's replaced it */
	int successor_fd;		/* -1, or the successor being handed the listeners */
	pid_t successor_pid;
	int64_t successor_deadline_ms;	/* its READY by then, or it is given up */
	struct metrics metrics;		/* the --metrics endpoint */
	struct agent agent;		/* the --agent responder */
	struct supervisor_sample samples[SUPERVISOR_SAMPLES];
	int next_sample, nsamples;
	uint64_t samples_taken;
	int64_t sample_ms;		/* the next sample (metrics on) */
	int64_t start_unix;		/* wall clock at start, for mpechod_start_time_seconds */
};

/*
 * supervisor_stop.c: taking new clients (running, and not leaving: /readyz,
 * the agent); and the way out, one step on per call: sig is the signal that
 * asked (SIGTERM, SIGINT), or 0 when a stage's deadline passed.
 */
bool supervisor_ready(const struct supervisor *sv);
enum agent_state supervisor_agent_state(void *ctx);
void supervisor_stop_advance(struct supervisor *sv, int sig);

/*
 * Begin the drain, the one way a stop and a hand-over both take: no new client
 * (the listeners shut down and their files removed, or only closed when handed
 * over: they are the successor's), the UDP process stopped and its ports let
 * go, the model told, then --grace for the sessions. The caller logs why.
 */
void supervisor_drain(struct supervisor *sv, bool handed_over);

/* The figures of both models: ended sessions' plus what the live children hold. */
struct tally supervisor_tally(const struct supervisor *sv);

/*
 * Run on the open listeners until SIGTERM/SIGINT and the drain that follows.
 * Closes the listeners; removes the pidfile. Returns the process exit status.
 */
int supervisor_run(const struct config *cfg, struct supervisor_env *env);

/*
 * supervisor_up.c: what long-lived children read besides their sockets,
 * made before the first is forked: the gate (workers accept: they wait behind
 * it until ready) and the log's line (workers and the UDP process take the
 * log file from it on SIGHUP, logline.h). 0, or -1 with errno.
 */
int supervisor_lines(struct supervisor *sv, const struct supervisor_env *env);

/*
 * supervisor_up.c: the start's last step, once "ready" is logged: the workers'
 * gate opens, and a service manager and the foreground process of -d hear it.
 * 0, or -1 with msg.
 */
int supervisor_up(struct supervisor *sv, struct supervisor_env *env, char *msg, size_t msglen);

/*
 * supervisor_rules.c: the access rules in force, the command line's and the
 * --rules file's (file: read at start), published for every process; on
 * SIGHUP the file is read again (through the privileged process) and a bad
 * one leaves the rules as they were. 0, or -1 with errno.
 */
int supervisor_rules_start(struct supervisor *sv, const struct rules *file);
void supervisor_rules_reload(struct supervisor *sv);

/* supervisor_proxy.c: connections on PROXY listeners, until their header is in. */
void supervisor_proxy_accept(struct supervisor *sv, int fd, const struct peer *balancer);
void supervisor_proxy_ready(struct supervisor *sv, const struct pollfd *pfd, int n);
int64_t supervisor_proxy_expire(struct supervisor *sv, int64_t now);

/*
 * supervisor_metrics.c: /metrics and the summary, and the samples behind its
 * rates; the status line (SIGUSR1) and the service manager's STATUS=.
 */
void supervisor_status(const struct supervisor *sv);
void supervisor_notify_status(struct supervisor *sv, int64_t now);
int supervisor_metrics_render(void *ctx, const struct http_request *r, struct metrics_text *t);
void supervisor_metrics_sample(struct supervisor *sv, int64_t now);
/* The sample k seconds back from the newest (0: the newest), or the oldest kept; NULL: none yet. */
const struct supervisor_sample *supervisor_sample_back(const struct supervisor *sv, int k);

/*
 * supervisor_json.c: the live status page's figures, rendered as /status.json
 * (README lists its fields) or, page true, as the page: 200, or 503.
 */
int supervisor_json(const struct supervisor *sv, const struct http_request *r, struct metrics_text *t,
    bool page);

/*
 * supervisor_udp.c: start the UDP process (nothing without UDP sockets; 0 or
 * -1), notice its end (whether pid was it; while running, it is started again),
 * its restart timer, and a signal to it (none when it does not run).
 */
int supervisor_udp_start(struct supervisor *sv);
bool supervisor_udp_reaped(struct supervisor *sv, pid_t pid, int status);
int64_t supervisor_udp_tick(struct supervisor *sv, int64_t now_ms);
void supervisor_udp_signal(const struct supervisor *sv, int sig);
/* The drain: the supervisor's copies of the UDP sockets closed, SIGTERM to the UDP process. */
void supervisor_udp_stop(struct supervisor *sv);
void supervisor_udp_free(struct supervisor *sv);
/* Its counters in /metrics (nothing without UDP sockets). */
void supervisor_udp_metrics(const struct supervisor *sv, struct metrics_text *t);

/*
 * supervisor_upgrade.c: handing the listeners to a successor (--upgrade-socket):
 * a successor's READY to its predecessor (-1 with err: that one gave up), then
 * the socket of its own; a successor's offer, its answer, its deadline.
 */
int supervisor_upgrade_start(struct supervisor *sv, struct supervisor_env *env, char *err,
    size_t errlen);
void supervisor_upgrade_accept(struct supervisor *sv);
void supervisor_upgrade_reply(struct supervisor *sv);
int64_t supervisor_upgrade_tick(struct supervisor *sv, int64_t now);

#endif
