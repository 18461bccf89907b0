/* options: struct config, command-line parsing, range-checked numbers, usage text. */
#ifndef MPECHO_OPTIONS_H
#define MPECHO_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "acl.h"
#include "listener.h"
#include "log.h"
#include "mpecho.h"
#include "privs.h"
#include "session.h"

struct service;

enum model_kind { MODEL_FORK, MODEL_PREFORK, MODEL_LOOP };

/* The long options without a short letter (options_usage.c lists them all; a short
 * option's id is its letter). */
enum {
	OPT_BACKLOG = 256,
	OPT_GRACE,
	OPT_LOG,
	OPT_MAX_PER_SOURCE,
	OPT_RATE,
	OPT_ALLOW,
	OPT_DENY,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_TIME,
	OPT_MODEL,
	OPT_START,
	OPT_MIN_SPARE,
	OPT_MAX_SPARE,
	OPT_MAX_REQUESTS,
	OPT_SPLICE,
	OPT_PROXY_FROM,
	OPT_PROXY_TIMEOUT,
	OPT_REUSEPORT,
	OPT_UPGRADE_SOCKET,
	OPT_BANNER,
	OPT_METRICS,
	OPT_METRICS_ALLOW,
	OPT_LOG_FORMAT,
	OPT_SOURCE_PREFIX6,
	OPT_MIN_RATE,
	OPT_SOCKET_MODE,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_TIMEOUT,
	OPT_UDP_RATE,
	OPT_SHUTDOWN_DELAY,
	OPT_AGENT,
	OPT_WORKERS,
	OPT_RULES,
	OPTIONS_IDS		/* every option's id (short letters included) is below this */
};

struct config {
	struct listen_spec *listens;
	size_t nlistens;
	const struct service *service;
	int backlog;
	int grace;		/* seconds live sessions get after SIGTERM/SIGINT */
	int shutdown_delay;	/* seconds of accepting, not ready, after SIGTERM/SIGINT before the drain */
	int max_conns;		/* live sessions; the supervisor stops accepting at this many */
	int max_per_source;	/* live sessions from one address; 0: no limit */
	int rate;		/* new connections a second from one address; 0: no limit */
	int idle_timeout;	/* seconds without progress before a session is closed; 0: none */
	int max_time;		/* seconds a session may last; 0: no limit */
	int min_rate;		/* bytes a second a session must move, per idle-timeout window; 0: any */
	enum model_kind model;
	int splice;		/* enum splice_mode: zero-copy echo */
	int start_workers;	/* prefork: workers at start */
	int min_spare;		/* prefork: fewer idle workers than this: start more */
	int max_spare;		/* prefork: more idle workers than this: retire one */
	int max_requests;	/* prefork: a worker exits after this many sessions; 0: never */
	int workers;		/* loop: worker processes; 0: one per CPU */
	struct acl acl;
	struct acl proxy_from;	/* who may send a PROXY header; no rule: anyone */
	int proxy_timeout;	/* seconds a PROXY header may take to arrive */
	int source_prefix6;	/* IPv6 sources counted by this prefix (default 64) */
	int socket_mode;	/* --socket-mode: Unix listeners' permissions; -1: as bind(2) leaves them */
	char *tls_cert;		/* --tls-cert: absolute path, or NULL */
	char *tls_key;		/* --tls-key: absolute path, or NULL */
	char *rules;		/* --rules: absolute path, or NULL */
	int tls_timeout;	/* seconds a TLS handshake may take */
	int udp_rate;		/* datagrams a second from one source (udp: listeners); 0: no limit */
	bool daemonize;
	char *metrics;		/* --metrics ADDR:PORT, or NULL */
	char *agent;		/* --agent ADDR:PORT (HAProxy's agent-check), or NULL */
	struct acl metrics_allow;	/* who may scrape; loopback unless given */
	bool log_json;		/* --log-format json */
	char *banner;		/* --banner TEXT, or NULL */
	char hostname[256];	/* for the banner */
	char *upgrade_socket;	/* --upgrade-socket: absolute path, or NULL */
	bool reuseport;		/* --reuseport: instances share the address and port */
	bool inetd;		/* -i: the socket is standard input (inetd, xinetd, systemd Accept=yes) */
	char *pidfile;		/* absolute path, or NULL */
	enum log_target log_target;
	char *log_path;		/* absolute path for LOG_TO_FILE */
	char *user;		/* -u USER[:GROUP] as given, or NULL */
	struct privs privs;	/* resolved from user by the caller */
	enum log_level log_level;
	bool given[OPTIONS_IDS];	/* the options on the command line, by id */
};


/* -c: the fork and prefork models hold at most OPTIONS_PROCESS_CONNS, the loop model more. */
#define OPTIONS_PROCESS_CONNS 100000
#define OPTIONS_LOOP_CONNS 2000000
#define OPTIONS_LOOP_WORKERS 1024

/* A numeric option: its bounds and where its value goes (an int in struct config). */
struct options_numeric {
	int id;
	const char *name;
	long min, max;
	size_t offset;
};

/* options_usage.c: the tables (the numeric one ends with id 0) and the usage text. */
extern const struct options_numeric options_numbers[];
extern const struct option options_long[];

enum options_result { OPTIONS_RUN, OPTIONS_HELP, OPTIONS_VERSION, OPTIONS_ERROR };

/*
 * Fill *cfg from argv. On OPTIONS_ERROR, err holds a one-line message naming
 * the bad value. Never prints, never exits.
 */
enum options_result options_parse(struct config *cfg, int argc, char **argv,
    char *err, size_t errlen);
void options_free(struct config *cfg);

/* Shared by options.c and options_check.c. */

/* What only counts once every option is read. */
struct options_seen {
	bool verbose, quiet, log;
};

/* Write a one-line message into err. */
void options_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The checks that take several options together. 0, or -1 with err set. */
int options_finish(struct config *cfg, const struct options_seen *seen, char *err, size_t errlen);

/*
 * What the server will serve, which decides which options can take effect:
 * known from the -l specs once the command line is read, and again from the
 * sockets themselves once they are open or taken over (socket activation, an
 * upgrade, -i).
 */
struct options_scene {
	bool listening;		/* the supervisor accepts (not -i with a connection on stdin) */
	bool stream;		/* sessions: a TCP or unix: listener, or -i's connection */
	bool proxy, tls, local, udp;	/* a ,proxy / ,tls / unix: / udp: listener */
};

/* options_effect.c: the scene the -l specs describe (-i: a listener or a connection). */
struct options_scene options_effect_scene(const struct config *cfg);

/*
 * The one rule: an option given that cannot take effect in this scene is a
 * usage error. 0, or -1 with err naming the option and what it needs.
 */
int options_effect_check(const struct config *cfg, const struct options_scene *sc, char *err,
    size_t errlen);

/* The long name of option id ("--max-conns" for 'c'), for messages. */
const char *options_name(int id);

/* What every session is given, from the configuration. */
struct session_params options_session_params(const struct config *cfg);
const char *options_usage(void);

#endif
