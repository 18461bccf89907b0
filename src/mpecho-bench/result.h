/*
 * result: what one run measured, or several merged: what --json writes, what
 * merge reads back, and what the text report and the exit status come from.
 */
#ifndef MPECHO_BENCH_RESULT_H
#define MPECHO_BENCH_RESULT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench.h"
#include "stats.h"

/* Every setting of the run; 0 (or "") where an optional one was not given: null in JSON. */
struct settings {
	int conns, size, threads, sources, ramp;
	double duration, warmup, timeout;	/* seconds */
	uint64_t count;				/* -n */
	double rate;				/* --rate: messages a second asked for */
	double start_at;			/* --start-at: Unix time */
	double progress;			/* --progress: seconds */
	bool tls, insecure, banner;
	char ca[256];
};

/*
 * hold with --procs or --server-pid: memory before the load and with every
 * connection held, KiB (procs.c measures it; merge does not carry it over).
 */
struct memory {
	bool measured;
	int procs;				/* generator processes */
	uint64_t avail_before, avail_after;	/* /proc/meminfo's MemAvailable */
	long server_pid;			/* --server-pid, or 0: no PSS */
	uint64_t pss_before, pss_after;		/* PSS of it and its descendants */
	double measured_at;			/* Unix time of the "after": every connection open */
};

struct result {
	enum mode mode;
	char version[32];
	char host[256], port[64];		/* the target as given */
	struct settings set;
	double started, ended;			/* Unix time: the load's start, the drain's end */
	double measure_start, measure_end;	/* Unix time: the measured part (merged: the span) */
	double seconds;				/* measured (merged: the union of the runs' windows) */
	unsigned runs;				/* 1, or how many runs were merged */
	int status;				/* the exit status it had (merged: the worst) */
	uint64_t ops, bytes, held;
	struct errors err;
	struct stats lat;			/* latency of each operation, ns */
	/*
	 * Its course, interval by interval (NULL, 0: none). A run's are its
	 * progress's (progress_samples()); result_read_json() and result_merge()
	 * allocate them, and result_free() frees those.
	 */
	struct sample *intervals;
	size_t nintervals;
	struct memory mem;
};

/* A non-empty bucket of an interval's latency histogram: its index in stats' layout, its count. */
struct sample_bucket {
	uint32_t index;
	uint64_t count;
};

/* One interval of a run, for --html and --json (progress.c records them). */
struct sample {
	double at, secs;		/* its end, seconds after the load began (started); its length */
	enum phase phase;		/* the phase it began in */
	uint64_t ops, bytes, conns, errors, bad;	/* in the interval */
	double p50, p90, p99, max;	/* its operations' latency, us (0: none measured) */
	uint64_t lat_max;		/* ns: its slowest operation (0: none) */
	size_t nlat;			/* its latency histogram: the non-empty buckets, in order */
	struct sample_bucket *lat;
};

/* Bytes per held connection from a before and after in KiB (a fall if drop, else a growth); 0 if none held. */
double result_per_conn(const struct result *r, uint64_t before, uint64_t after, bool drop);

/* result.c: what applies to a mode (what does not is null in JSON, absent in text). */
bool result_has_ops(enum mode m);	/* connrate, pingpong, udp: operations, their latency */
bool result_has_bytes(enum mode m);	/* stream, sink, source, udp */
bool result_has_error(enum mode m, int which);	/* which: an index into struct errors */
#define RESULT_ERRORS 9
extern const char *const result_error_names[RESULT_ERRORS];
uint64_t *result_error(struct errors *e, int which);
uint64_t result_error_of(const struct errors *e, int which);

/* A run's result, from its settings, its sums over the threads and its times. */
void result_of_run(struct result *r, const struct bench *b, const struct totals *t);

/*
 * Merge n results into out, as if one run had done it all: counts and
 * histograms summed, the measured time the union of the windows. Results of
 * different modes, targets, sizes, TLS or pacing (--rate) are refused. 0, or
 * -1 with why set.
 */
int result_merge(struct result *out, struct result *const *in, int n, char *why, size_t whylen);

/* result.c: free what result_read_json() or result_merge() allocated in r (its intervals). */
void result_free(struct result *r);

/*
 * sample.c: an interval's latency kept from a histogram of it (sparse; its
 * percentiles set), and the histogram back from it. -1 with errno if out of memory.
 */
int sample_keep_latency(struct sample *s, const struct stats *st);
void sample_latency(const struct sample *s, struct stats *st);
void sample_percentiles(struct sample *s, const struct stats *st);	/* p50 ... max from st */
void samples_free(struct sample *s, size_t n);

/*
 * The intervals of n results as one series by wall-clock time, into out
 * (whose started is the earliest): each interval falls in the slot of the
 * merged series where its middle is, slots as long as the longest interval
 * a run asked for (--progress, else 1 s) from the earliest interval's start.
 * A slot sums the counts, merges the histograms, and lasts as long as the
 * longest time one run spent in it. No intervals if a result has none. 0, or
 * -1 with errno (out of memory).
 */
int samples_merge(struct result *out, struct result *const *in, int n);

/* The exit status the figures mean: 1 bad bytes, 3 connection errors, else 0. */
int result_status(const struct result *r);

/* report.c: the result as text, one fact a line. */
void report_text(FILE *f, const struct result *r);

/* result_json.c: the result as one JSON object, a line. */
void result_write_json(FILE *f, const struct result *r);

/* result_read.c: a result from JSON text that result_write_json() wrote. 0, or -1 with why. */
int result_read_json(struct result *r, const char *text, size_t len, char *why, size_t whylen);

#endif
