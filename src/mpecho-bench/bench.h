/* bench: what the parts of mpecho-bench share: the run's settings, its threads, its totals. */
#ifndef MPECHO_BENCH_H
#define MPECHO_BENCH_H

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "pace.h"
#include "sockopt.h"
#include "stats.h"
#include "wire.h"

#define CHUNK (64 * 1024)		/* largest read or write */
#define EXIT_CONN_ERRORS 3		/* connection errors, but every byte checked out */
#define EXIT_NOT_RUN 4			/* no load: a file or a resource it needs (merge: its inputs) */
#define SOURCE_FIRST 0x7f010001u	/* --sources: 127.1.0.1, 127.1.0.2, ... */
#define PROCS_MAX 200			/* --procs: generator k's sources are 127.(1+k).0.1, ... */
/* Source address i of a generator (--sources; --procs gives each its own /16 of 127.0.0.0/8). */
#define SOURCE_ADDR(b, i) (SOURCE_FIRST + ((unsigned)(b)->proc_index << 16) + \
	((b)->sources > 0 ? (unsigned)(i) % (unsigned)(b)->sources : 0))

/*
 * The run's phases (load_phase()): a warm-up, the measured part, then the
 * drain: nothing new starts, the echoes still owed are awaited for --timeout
 * (then they count as timed out, or dropped), and each thread ends once none is.
 */
enum phase { PHASE_WARMUP, PHASE_MEASURE, PHASE_DRAIN };

enum mode { MODE_CONNRATE, MODE_PINGPONG, MODE_STREAM, MODE_HOLD, MODE_SINK, MODE_SOURCE, MODE_UDP };
#define MODES 7
extern const char *const mode_names[];
extern const char *const phase_names[];	/* "warm-up", "measure", "drain" */

struct bench {
	enum mode mode;
	const char *host, *port;
	int conns, size, threads, sources, timeout_ms;
	int ramp;			/* --ramp: connections opening at once at most; 0: no bound */
	int procs;			/* --procs: generator processes sharing -c (procs.c); 1: this one */
	int proc_index;			/* which generator this process is (0: the only or the first) */
	long server_pid;		/* --server-pid: the server whose PSS hold measures; 0: none */
	double duration, warmup;
	uint64_t count;			/* stop after this many measured operations; 0: no bound */
	double rate;			/* --rate: operations a second in all, paced; 0: closed loop */
	double start_at;		/* --start-at: Unix time the load begins; 0: at once */
	double progress;		/* --progress: seconds between progress lines; 0: none */
	bool json, quiet;
	const char *html;		/* --html FILE: the report page, or NULL */
	FILE *html_file;		/* opened by bench_setup(), before the load */
	bool banner;			/* the server sends a line first (mpechod --banner) */
	bool tls, insecure;		/* --tls: every connection does a full handshake; --insecure */
	const char *ca;			/* --ca FILE, or NULL: the system's CAs */
	SSL_CTX *tls_ctx;		/* made once from those, shared by the threads */
	struct sockopts so;		/* -O: socket options, set on each socket before connect() */
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct errors {
	uint64_t connect, reset, closed, timeout, lost, extra, corrupt;
	uint64_t dropped, reordered;	/* udp: datagrams never echoed; echoed late or out of order */
};

struct conn;
struct epoll_event;

/* One event-loop thread and the connections it drives. */
struct thread {
	pthread_t tid;
	const struct bench *b;
	int epfd;
	struct conn *conns;
	int nconns;
	unsigned first_id;
	struct stats lat;
	uint64_t ops;			/* measured operations */
	uint64_t bytes;			/* measured bytes echoed back */
	uint64_t held;			/* hold mode: connections that echoed and are held */
	int opening, ramp;		/* connections opening now; this thread's share of --ramp */
	int next_idle;			/* --ramp: where the search for one to open goes on */
	struct pace pace;		/* --rate: connections waiting for their next operation's time */
	struct errors err;
	/* Read by the main thread while the load runs (progress lines, --html's intervals): */
	uint64_t progress_ops;		/* all operations (hold: connections held) */
	uint64_t progress_bytes;	/* all bytes that count for the mode */
	uint64_t progress_errors;	/* connection errors, published at each sweep */
	uint64_t progress_bad;		/* lost, extra and corrupted bytes, likewise */
	uint64_t progress_conns;	/* connections opened (connected, through TLS) */
};

struct totals {
	double seconds;			/* measured, by the monotonic clock */
	double started, measure_start, ended;	/* Unix time: load, measured part, drain's end */
	uint64_t ops, bytes, held;
	uint64_t moved;			/* operations and bytes in every phase: 0 if nothing came back */
	struct errors err;
	struct stats *lat;
};

/*
 * options.c: the command line into *b, without a side effect (no name looked
 * up, no file read, nothing printed, no exit): BENCH_RUN, or on
 * BENCH_USAGE one line in err. b's strings point into argv. setup.c:
 * bench_setup() then resolves the target, makes the TLS context and raises
 * the descriptor limit: EXIT_OK, or the exit status (EXIT_USAGE, EXIT_NOT_RUN)
 * with one line in err.
 */
enum bench_parsed { BENCH_RUN, BENCH_HELP, BENCH_VERSION, BENCH_USAGE };
enum bench_parsed bench_parse(struct bench *b, int argc, char **argv, char *err, size_t errlen);
const char *bench_usage(void);
extern const struct option bench_long[];
bool bench_unix(const struct bench *b);	/* the target is unix:PATH */
int bench_setup(struct bench *b, char *err, size_t errlen);

/* check.c: what connections send, and how what comes back is checked. */
void check_init(void);			/* the shared pattern every connection sends slices of */
const unsigned char *check_pattern(uint64_t pos);	/* CHUNK bytes from pos on, contiguous */
/* Bytes of buf that differ from the pattern at pos, or from RFC 864's stream at pos. */
uint64_t check_echo(const unsigned char *buf, uint64_t pos, size_t n);
uint64_t check_chargen(const unsigned char *buf, uint64_t pos, size_t n);


/*
 * probe.c: one connection before the load: EXIT_OK, or EXIT_CONN_ERRORS with
 * err (refused), or EXIT_NOT_RUN (a socket option of -O the system refused).
 */
int probe_target(const struct bench *b, char *err, size_t errlen);

/* load.c: the load itself. */
/* A thread's connections, its epoll set and histogram: 0, or -1 with errno. */
int load_thread_init(struct thread *t, const struct bench *b, unsigned first_id, int nconns);
void load_thread_free(struct thread *t);
void *load_thread_run(void *arg);	/* a thread's event loop, until it is drained */
/* One operation done (a session, a message, a datagram) that started at started (ns). */
void load_count_op(struct thread *t, int64_t started, int64_t now);
/* Its errors, for the progress lines (the thread calls it now and then). */
void load_publish(struct thread *t);
/* epoll_wait() for at most ms, or until the first --rate connection is due if sooner. */
int load_wait(struct thread *t, struct epoll_event *ev, int max, int ms);

/* load_phase.c: the clock the threads share. */
enum phase load_phase(void);
void load_set_phase(enum phase p);
/* The load begins at start (ns): the epoch of --rate. The descriptor load_end_measure() wakes. */
int load_begin(int64_t start);
int64_t load_epoch(void);
/* End the measured part at now (ns), unless it has ended: the drain begins. When it ended. */
int64_t load_end_measure(int64_t now);
/* One more measured operation: true once --count of them (if any) are done. */
bool load_count_reached(uint64_t count);

/* udp.c: the udp mode's loop for one thread (load_thread_run() hands it over). */
void *udp_thread_run(struct thread *t);

/*
 * progress.c: the course of the run, read from the threads each interval:
 * --progress lines, or a line redrawn on a terminal. progress_next() is when
 * the next tick is due (INT64_MAX: no ticks), progress_tick() takes it.
 */
struct progress;
struct sample;
struct progress *progress_new(const struct bench *b, struct thread *th, int64_t start);
int64_t progress_next(const struct progress *p);
void progress_tick(struct progress *p, int64_t now);
/*
 * With --html or --json, each tick also keeps the interval (struct sample, result.h);
 * progress_last() keeps the one up to now without a line (the drain's), and
 * clears the redrawn line.
 * progress_samples() gives them; they go with progress_free().
 */
void progress_last(struct progress *p, int64_t now);
struct sample *progress_samples(const struct progress *p, size_t *n);
void progress_free(struct progress *p);

/*
 * procmem.c: /proc's memory text, parsed. procmem_kib(): N of the line
 * "KEY: N kB" (meminfo, smaps_rollup): 0, or -1 with EINVAL (no such line, or
 * not that shape). procmem_pids(): the pids of a children file, at most max:
 * how many, or -1 with EINVAL (not pids) or E2BIG.
 */
int procmem_kib(const char *text, const char *key, uint64_t *kib);
int procmem_pids(const char *text, long *pids, int max);

/*
 * procs.c: --procs N (or hold's --server-pid): the load run by N generator
 * processes, their results merged and, in hold mode, the memory measured
 * while every one of them still holds its connections. The exit status.
 * main_run() is one generator's run: its result to out; with release >= 0 it
 * then waits for that descriptor's end of file before it returns, holding
 * its connections.
 */
int procs_main(struct bench *b);
int main_run(struct bench *b, FILE *out, int release);

/* merge.c: mpecho-bench merge [--json] FILE...: its exit status. */
int merge_main(int argc, char **argv);

/* report.c: the figures, summed over the threads (result.h: report_text()). */
void report_sum(const struct thread *th, int n, struct totals *tot);

#endif
