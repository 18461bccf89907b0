/*
 * status: what the live status page shows, as one flat snapshot with no
 * pointer in it (struct status_view), and its two renderings: /status.json
 * (status_json.c) and the page's first view, HTML with SVG charts
 * (status_html.c, status_chart.c). The supervisor fills a view
 * (supervisor_json.c); the renderers read nothing else, so they can run in
 * whatever process answers HTTP, given a copy of the view.
 */
#ifndef MPECHO_STATUS_H
#define MPECHO_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "admission.h"
#include "end.h"
#include "metrics.h"
#include "udp.h"

#define STATUS_LISTENERS 32	/* listeners named; more are only counted */
#define STATUS_NAME 128		/* a listener's name, "udp:" included */
#define STATUS_SOURCES 5	/* the busiest sources listed */
#define STATUS_SAMPLES 300	/* the ring: five minutes, one sample a second */
#define STATUS_WORKERS 64	/* a pool's workers listed; more are only counted */

/* One worker of a pool (model.h's workers operation fills these). */
struct status_worker {
	long pid;
	char state[12];			/* prefork: "starting", "idle", "busy", "leaving"; loop: "serving", "leaving" */
	int connections;		/* its clients now (prefork: 0 or 1; a loop worker: many) */
	uint64_t served;		/* sessions it served to their end */
};

/* One sample of the ring: seconds since the start, live sessions, counters. */
struct status_sample {
	uint64_t seq;			/* 1 for the first sample taken, and on */
	double uptime;
	int sessions;
	uint64_t served, bytes_in, bytes_out, refused;
};

struct status_view {
	char version[32], service[16], model[16], state[16];
	long pid;
	long long started;		/* Unix time */
	double uptime;			/* seconds */
	int nlisteners, listeners_more;
	char listeners[STATUS_LISTENERS][STATUS_NAME];
	int sessions, max_conns;
	uint64_t served, bytes_in, bytes_out, checks, fork_failures, accept_pauses;
	/* a second between the two newest samples: how long, and the rates over it */
	double rate_seconds, rate_sessions, rate_in, rate_out, rate_refused;
	uint64_t ended[END_REASONS];
	uint64_t refused[REFUSAL_COUNT];	/* from REFUSED_ACL on */
	int nsources;
	struct { char addr[48]; int sessions; } sources[STATUS_SOURCES];
	bool pool;			/* the model has workers */
	int workers, busy, idle;
	uint64_t workers_started;
	int nworkers;			/* listed below, at most STATUS_WORKERS */
	struct status_worker worker[STATUS_WORKERS];
	bool udp;			/* there is a UDP process */
	uint64_t udp_count[UDP_COUNTS];
	uint64_t duration[END_BUCKETS];	/* per bucket, not cumulative */
	uint64_t duration_ms;
	uint64_t seq;			/* the newest sample's number (0: none yet) */
	int nsamples;			/* the ring, oldest first */
	struct status_sample samples[STATUS_SAMPLES];
};

/* The refusal reasons' names, as /metrics labels them ("acl", ...); NULL for ADMITTED. */
extern const char *const status_refusal_names[REFUSAL_COUNT];

/* status_json.c: /status.json; since >= 0 leaves out the samples up to that number. */
void status_json(const struct status_view *v, int64_t since, struct metrics_text *t);

/* status_html.c: the status page, its first view filled in; 0, or -1 (no CSP: answer 503). */
int status_html(const struct status_view *v, struct metrics_text *t);

/*
 * status_chart.c: the page's SVG pictures. A chart is the ring's last
 * STATUS_SAMPLES seconds, newest at the right; each series a polyline, its
 * scale a round number (status_chart_top) the script computes alike.
 */
void status_chart_all(const struct status_view *v, struct metrics_text *t);
void status_chart_histogram(const struct status_view *v, struct metrics_text *t);
double status_chart_top(double max);
void status_chart_bytes(struct metrics_text *t, double v);

#endif
