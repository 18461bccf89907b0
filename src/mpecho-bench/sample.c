/*
 * sample: a run's intervals (struct sample): each keeps its latency as a
 * sparse histogram in stats' layout, so that intervals merged from several
 * runs have the percentiles of one histogram fed every sample; and the
 * intervals of several runs merged into one series by wall-clock time.
 */
#include "result.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
sample_percentiles(struct sample *s, const struct stats *st)
{
	s->p50 = s->p90 = s->p99 = s->max = 0;
	if (st->count == 0)
		return;
	s->p50 = (double)stats_quantile(st, 0.5) / 1e3;
	s->p90 = (double)stats_quantile(st, 0.9) / 1e3;
	s->p99 = (double)stats_quantile(st, 0.99) / 1e3;
	s->max = (double)st->max / 1e3;
}

int
sample_keep_latency(struct sample *s, const struct stats *st)
{
	size_t n = 0;
	unsigned i;

	s->nlat = 0;
	s->lat = NULL;
	s->lat_max = st->count > 0 ? st->max : 0;
	sample_percentiles(s, st);
	if (st->count == 0)
		return 0;
	for (i = 0; i < STATS_BUCKETS; i++)
		n += st->buckets[i] != 0;
	if ((s->lat = calloc(n, sizeof(*s->lat))) == NULL)
		return -1;
	for (i = 0; i < STATS_BUCKETS; i++)
		if (st->buckets[i] != 0)
			s->lat[s->nlat++] = (struct sample_bucket){ i, st->buckets[i] };
	return 0;
}

/* The histogram back: counts exact, max exact, min the lowest bucket's low, sum unknown (0). */
void
sample_latency(const struct sample *s, struct stats *st)
{
	size_t i;

	stats_init(st);
	for (i = 0; i < s->nlat; i++) {
		st->buckets[s->lat[i].index] = s->lat[i].count;
		st->count += s->lat[i].count;
	}
	if (s->nlat > 0) {
		st->min = stats_bucket_low(s->lat[0].index);
		st->max = s->lat_max;
	}
}

void
samples_free(struct sample *s, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		free(s[i].lat);
	free(s);
}

/* An interval of one of the runs merged, and the slot of the merged series it falls in. */
struct slotted {
	long slot;
	int run;
	const struct sample *s;
	double start;		/* Unix time */
};

static int
slotted_order(const void *x, const void *y)
{
	const struct slotted *a = x, *b = y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	if (a->run != b->run)
		return a->run < b->run ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

/*
 * Every interval of the runs with its start and its slot, in order of slot
 * and run; *origin is the earliest start. NULL if out of memory.
 */
static struct slotted *
samples_slot(struct result *const *in, int n, size_t total, double width, double *origin)
{
	struct slotted *sl = calloc(total + 1, sizeof(*sl));
	size_t i, k = 0;
	int r;

	if (sl == NULL)
		return NULL;
	*origin = INFINITY;
	for (r = 0; r < n; r++) {
		for (i = 0; i < in[r]->nintervals; i++, k++) {
			const struct sample *s = &in[r]->intervals[i];

			sl[k] = (struct slotted){ 0, r, s, in[r]->started + s->at - s->secs };
			*origin = sl[k].start < *origin ? sl[k].start : *origin;
		}
	}
	for (k = 0; k < total; k++)
		sl[k].slot = (long)((sl[k].start + sl[k].s->secs / 2 - *origin) / width);	/* >= 0 */
	qsort(sl, total, sizeof(*sl), slotted_order);
	return sl;
}

/* The phase of a slot: measured if a run measured in it, else warm-up if one warmed up, else drain. */
static enum phase
samples_phase(enum phase a, enum phase b)
{
	if (a == PHASE_MEASURE || b == PHASE_MEASURE)
		return PHASE_MEASURE;
	return a == PHASE_WARMUP || b == PHASE_WARMUP ? PHASE_WARMUP : PHASE_DRAIN;
}

/* One slot: the intervals sl[0..n) (sorted by run) as one; st is room for a histogram. */
static int
samples_one(struct sample *out, const struct slotted *sl, size_t n, double start, double started,
    struct stats *st, struct stats *part)
{
	double run_secs = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->phase = sl[0].s->phase;
	stats_init(st);
	for (i = 0; i < n; i++) {
		const struct sample *s = sl[i].s;

		run_secs = i > 0 && sl[i].run == sl[i - 1].run ? run_secs + s->secs : s->secs;
		out->secs = run_secs > out->secs ? run_secs : out->secs;
		out->phase = samples_phase(out->phase, s->phase);
		out->ops += s->ops;
		out->bytes += s->bytes;
		out->conns += s->conns;
		out->errors += s->errors;
		out->bad += s->bad;
		sample_latency(s, part);
		stats_merge(st, part);
	}
	out->at = start + out->secs - started;
	return sample_keep_latency(out, st);
}

int
samples_merge(struct result *out, struct result *const *in, int n)
{
	struct stats *st = malloc(2 * sizeof(*st));
	struct slotted *sl = NULL;
	size_t total = 0, i, j, m = 0;
	double width = 0, origin, w;
	bool asked = false;
	int r, rc = -1;

	out->intervals = NULL;
	out->nintervals = 0;
	for (r = 0; r < n; r++) {
		if (in[r]->nintervals == 0) {
			free(st);
			return 0;	/* one without intervals: none merged */
		}
		total += in[r]->nintervals;
		w = in[r]->set.progress > 0 ? in[r]->set.progress : 1;
		width = w > width ? w : width;
		asked |= in[r]->set.progress > 0;
	}
	if (st == NULL || (sl = samples_slot(in, n, total, width, &origin)) == NULL ||
	    (out->intervals = calloc(total, sizeof(*out->intervals))) == NULL)
		goto out_of_memory;
	for (i = 0; i < total; i = j, m++) {
		for (j = i + 1; j < total && sl[j].slot == sl[i].slot; j++)
			;
		out->nintervals = m + 1;
		if (samples_one(&out->intervals[m], &sl[i], j - i, origin + (double)sl[i].slot * width,
		    out->started, &st[0], &st[1]) < 0)
			goto out_of_memory;
	}
	out->set.progress = asked ? width : 0;	/* the merged intervals' length */
	rc = 0;
out_of_memory:
	if (rc < 0) {
		samples_free(out->intervals, out->nintervals);
		out->intervals = NULL;
		out->nintervals = 0;
		errno = ENOMEM;
	}
	free(sl);
	free(st);
	return rc;
}
