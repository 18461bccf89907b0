/* result: a run's result from its sums, what applies to each mode, merging, the exit status. */
#include "result.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mpecho.h"

const char *const mode_names[] = { "connrate", "pingpong", "stream", "hold", "sink", "source", "udp" };

const char *const phase_names[] = { "warm-up", "measure", "drain" };

const char *const result_error_names[RESULT_ERRORS] = { "connect", "reset", "closed", "timeout",
    "lost", "extra", "corrupt", "dropped", "reordered" };

static const size_t error_offsets[RESULT_ERRORS] = { offsetof(struct errors, connect),
    offsetof(struct errors, reset), offsetof(struct errors, closed), offsetof(struct errors, timeout),
    offsetof(struct errors, lost), offsetof(struct errors, extra), offsetof(struct errors, corrupt),
    offsetof(struct errors, dropped), offsetof(struct errors, reordered) };

uint64_t *
result_error(struct errors *e, int which)
{
	return (uint64_t *)((char *)e + error_offsets[which]);
}

uint64_t
result_error_of(const struct errors *e, int which)
{
	return *(const uint64_t *)((const char *)e + error_offsets[which]);
}

bool
result_has_ops(enum mode m)
{
	return m == MODE_CONNRATE || m == MODE_PINGPONG || m == MODE_UDP;
}

bool
result_has_bytes(enum mode m)
{
	return m == MODE_STREAM || m == MODE_SINK || m == MODE_SOURCE || m == MODE_UDP;
}

/* UDP has no reset, close, timeout or lost byte (a datagram is dropped); only UDP drops and reorders. */
bool
result_has_error(enum mode m, int which)
{
	bool udp_only = which >= 7, tcp_only = which >= 1 && which <= 4;

	return m == MODE_UDP ? !tcp_only : !udp_only;
}

void
result_of_run(struct result *r, const struct bench *b, const struct totals *t)
{
	memset(r, 0, sizeof(*r));
	r->mode = b->mode;
	snprintf(r->version, sizeof(r->version), "%s", MPECHO_VERSION);
	snprintf(r->host, sizeof(r->host), "%s", b->host);
	snprintf(r->port, sizeof(r->port), "%s", strncmp(b->host, "unix:", 5) == 0 ? "" : b->port);
	r->set = (struct settings){ .conns = b->conns, .size = b->size, .threads = b->threads,
	    .sources = b->sources, .ramp = b->ramp, .duration = b->duration, .warmup = b->warmup,
	    .timeout = b->timeout_ms / 1000.0, .count = b->count, .rate = b->rate,
	    .start_at = b->start_at, .progress = b->progress, .tls = b->tls,
	    .insecure = b->insecure, .banner = b->banner };
	snprintf(r->set.ca, sizeof(r->set.ca), "%s", b->ca != NULL ? b->ca : "");
	r->started = t->started;
	r->ended = t->ended;
	r->measure_start = t->measure_start;
	r->measure_end = t->measure_start + t->seconds;
	r->seconds = t->seconds;
	r->runs = 1;
	r->ops = t->ops;
	r->bytes = t->bytes;
	r->held = t->held;
	r->err = t->err;
	r->lat = *t->lat;
	r->status = result_status(r);
	if (r->status == EXIT_OK && t->moved == 0)
		r->status = EXIT_CONN_ERRORS;	/* nothing came back (sink: nothing went) */
}

/* Why two results cannot be merged, or NULL. */
static const char *
result_clash(const struct result *a, const struct result *b)
{
	if (a->mode != b->mode)
		return "different modes";
	if (strcmp(a->host, b->host) != 0 || strcmp(a->port, b->port) != 0)
		return "different targets";
	if (a->set.size != b->set.size)
		return "different message sizes (-s)";
	if (a->set.tls != b->set.tls)
		return "one over TLS and one not";
	if ((a->set.rate > 0) != (b->set.rate > 0))
		return "one paced (--rate) and one not";
	return NULL;
}

static int
window_order(const void *x, const void *y)
{
	const double *a = x, *b = y;

	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* The length of the union of the runs' measured windows. */
static double
result_union(struct result *const *in, int n)
{
	double (*w)[2] = calloc((size_t)n, sizeof(*w)), total = 0, end = 0;
	int i;

	if (w == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		w[i][0] = in[i]->measure_start;
		w[i][1] = in[i]->measure_end;
	}
	qsort(w, (size_t)n, sizeof(*w), window_order);
	for (i = 0; i < n; i++) {
		if (i == 0 || w[i][0] > end) {
			total += w[i][1] - w[i][0];
			end = w[i][1];
		} else if (w[i][1] > end) {
			total += w[i][1] - end;
			end = w[i][1];
		}
	}
	free(w);
	return total;
}

/* Add the counts of one more run into out. */
static void
result_add(struct result *out, const struct result *r)
{
	int i;

	out->set.conns += r->set.conns;
	out->set.threads += r->set.threads;
	out->set.rate += r->set.rate;
	out->set.count += r->set.count;
	out->started = r->started < out->started ? r->started : out->started;
	out->ended = r->ended > out->ended ? r->ended : out->ended;
	if (r->measure_start < out->measure_start)
		out->measure_start = r->measure_start;
	if (r->measure_end > out->measure_end)
		out->measure_end = r->measure_end;
	out->runs += r->runs;
	out->ops += r->ops;
	out->bytes += r->bytes;
	out->held += r->held;
	for (i = 0; i < RESULT_ERRORS; i++)
		*result_error(&out->err, i) += result_error_of(&r->err, i);
	stats_merge(&out->lat, &r->lat);
}

/* The worse of two exit statuses: bad bytes (1) over connection errors (3) over none. */
static int
result_worse(int a, int b)
{
	return a == EXIT_FAIL || b == EXIT_FAIL ? EXIT_FAIL : a != EXIT_OK ? a : b;
}

int
result_merge(struct result *out, struct result *const *in, int n, char *why, size_t whylen)
{
	const char *clash;
	int i;

	for (i = 1; i < n; i++)
		if ((clash = result_clash(in[0], in[i])) != NULL) {
			snprintf(why, whylen, "cannot merge: result %d has %s from result 1 (%s %s%s%s "
			    "against %s %s%s%s)", i + 1, clash, mode_names[in[i]->mode], in[i]->host,
			    *in[i]->port ? " port " : "", in[i]->port, mode_names[in[0]->mode],
			    in[0]->host, *in[0]->port ? " port " : "", in[0]->port);
			return -1;
		}
	*out = *in[0];
	out->intervals = NULL;
	out->nintervals = 0;
	out->mem = (struct memory){ 0 };	/* measured around one run, not a sum */
	for (i = 1; i < n; i++)
		result_add(out, in[i]);
	if ((out->seconds = result_union(in, n)) < 0 || samples_merge(out, in, n) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	out->status = result_status(out);
	for (i = 0; i < n; i++)
		out->status = result_worse(out->status, in[i]->status);
	return 0;
}

void
result_free(struct result *r)
{
	samples_free(r->intervals, r->nintervals);
	r->intervals = NULL;
	r->nintervals = 0;
}

double
result_per_conn(const struct result *r, uint64_t before, uint64_t after, bool drop)
{
	double d = drop ? (double)before - (double)after : (double)after - (double)before;

	return r->held > 0 ? d * 1024 / (double)r->held : 0;
}

int
result_status(const struct result *r)
{
	const struct errors *e = &r->err;

	if (e->lost || e->extra || e->corrupt)
		return EXIT_FAIL;
	if (e->connect || e->reset || e->closed || e->timeout || e->dropped ||
	    (r->mode == MODE_HOLD && r->held < (uint64_t)r->set.conns) ||
	    (r->mode == MODE_SOURCE && r->bytes == 0))	/* a source that never spoke */
		return EXIT_CONN_ERRORS;
	return EXIT_OK;
}
