/*
 * progress: the run's course, interval by interval, read from the threads as
 * they run: with --progress, a key=value line on standard error each interval
 * (whatever standard error is); without it, on a terminal, one line redrawn
 * each second. The latency of an interval comes from the difference between
 * copies of the threads' histograms, so the threads never stop for it. With
 * --html or --json, every interval is kept, its latency as a histogram, for
 * the report page and the JSON result (one a second, or one each --progress).
 */
#include "result.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct progress {
	const struct bench *b;
	struct thread *th;
	int64_t start, last, every;	/* ns */
	bool tty;			/* the redrawn line, not --progress lines */
	bool keep;			/* --html or --json: every interval kept */
	enum phase phase;		/* at the last tick: what the interval since then is */
	uint64_t last_sum[5];		/* the totals at the last tick (progress_gather()) */
	struct sample *samples;		/* --html: the intervals so far */
	size_t nsamples, cap;
	struct stats now, part, interval;
	struct stats copies[];		/* each thread's histogram at the last tick */
};

struct progress *
progress_new(const struct bench *b, struct thread *th, int64_t start)
{
	struct progress *p = calloc(1, sizeof(*p) + (size_t)b->threads * sizeof(struct stats));
	int i;

	if (p == NULL)
		return NULL;
	*p = (struct progress){ .b = b, .th = th, .start = start, .last = start, .every = INT64_MAX,
	    .phase = b->warmup > 0 ? PHASE_WARMUP : PHASE_MEASURE };
	p->tty = b->progress <= 0 && !b->quiet && isatty(STDERR_FILENO);
	p->keep = b->html != NULL || b->json;
	if (b->progress > 0)
		p->every = (int64_t)(b->progress * 1e9);
	else if (p->tty || p->keep)
		p->every = 1000000000;
	for (i = 0; i < b->threads; i++)
		stats_init(&p->copies[i]);
	return p;
}

int64_t
progress_next(const struct progress *p)
{
	return p->every == INT64_MAX ? INT64_MAX : p->last + p->every;
}

/* The latency of the interval, and the threads' totals: ops, bytes, errors, bad bytes, conns. */
static void
progress_gather(struct progress *p, uint64_t sum[5])
{
	int i;

	stats_init(&p->interval);
	memset(sum, 0, 5 * sizeof(sum[0]));
	for (i = 0; i < p->b->threads; i++) {
		sum[0] += __atomic_load_n(&p->th[i].progress_ops, __ATOMIC_RELAXED);
		sum[1] += __atomic_load_n(&p->th[i].progress_bytes, __ATOMIC_RELAXED);
		sum[2] += __atomic_load_n(&p->th[i].progress_errors, __ATOMIC_RELAXED);
		sum[3] += __atomic_load_n(&p->th[i].progress_bad, __ATOMIC_RELAXED);
		sum[4] += __atomic_load_n(&p->th[i].progress_conns, __ATOMIC_RELAXED);
		stats_copy(&p->now, &p->th[i].lat);
		stats_since(&p->part, &p->now, &p->copies[i]);
		stats_merge(&p->interval, &p->part);
		p->copies[i] = p->now;
	}
}

/* One --progress line: what applies to the mode, for the interval that just ended (its phase: the one it began in). */
static void
progress_line(struct progress *p, const uint64_t sum[5], double secs, double elapsed)
{
	const struct stats *st = &p->interval;
	enum mode m = p->b->mode;
	char lat[160] = "", what[96] = "";

	if (result_has_ops(m))
		snprintf(what, sizeof(what), " ops=%llu ops_per_s=%.1f", (unsigned long long)sum[0],
		    (double)(sum[0] - p->last_sum[0]) / secs);
	else if (m == MODE_HOLD)
		snprintf(what, sizeof(what), " held=%llu", (unsigned long long)sum[0]);
	if (result_has_bytes(m))
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " bytes=%llu mb_per_s=%.2f",
		    (unsigned long long)sum[1], (double)(sum[1] - p->last_sum[1]) / secs / 1e6);
	if (st->count > 0)
		snprintf(lat, sizeof(lat), " p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f",
		    stats_quantile(st, 0.5) / 1e3, stats_quantile(st, 0.9) / 1e3,
		    stats_quantile(st, 0.99) / 1e3, st->max / 1e3);
	log_msg(LOG_LVL_NOTICE, "event=progress phase=%s elapsed=%.3f interval=%.3f%s%s "
	    "errors=%llu bad_bytes=%llu", p->phase == PHASE_WARMUP ? "warm-up" : "measure",
	    elapsed, secs, what, lat, (unsigned long long)sum[2], (unsigned long long)sum[3]);
}

/* --html, --json: the interval that ends now kept, with the totals sum; then sum is the last. */
static void
progress_keep(struct progress *p, const uint64_t sum[5], int64_t now)
{
	struct sample *s, *more;

	if (p->keep && p->nsamples == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		if ((more = realloc(p->samples, p->cap * sizeof(*more))) == NULL)
			p->cap = p->nsamples;	/* out of memory: fewer intervals */
		else
			p->samples = more;
	}
	if (p->keep && p->nsamples < p->cap) {
		s = &p->samples[p->nsamples];
		*s = (struct sample){ .at = (double)(now - p->start) / 1e9,
		    .secs = (double)(now - p->last) / 1e9, .phase = p->phase,
		    .ops = sum[0] > p->last_sum[0] ? sum[0] - p->last_sum[0] : 0,	/* hold: held may fall */
		    .bytes = sum[1] - p->last_sum[1],
		    .errors = sum[2] - p->last_sum[2], .bad = sum[3] - p->last_sum[3],
		    .conns = sum[4] - p->last_sum[4] };
		if (sample_keep_latency(s, &p->interval) == 0)
			p->nsamples++;
	}
	memcpy(p->last_sum, sum, sizeof(p->last_sum));
	p->last = now;
	p->phase = load_phase();
}

void
progress_tick(struct progress *p, int64_t now)
{
	double secs = (double)(now - p->last) / 1e9;
	uint64_t sum[5];

	if (now <= p->last)
		return;
	progress_gather(p, sum);
	if (p->tty)
		fprintf(stderr, "\r%6.1fs %s %s: %llu ops, %.1f MB   ", (double)(now - p->start) / 1e9,
		    mode_names[p->b->mode], load_phase() == PHASE_WARMUP ? "warm-up" : "measuring",
		    (unsigned long long)sum[0], (double)sum[1] / 1e6);
	else if (p->b->progress > 0)
		progress_line(p, sum, secs, (double)(now - p->start) / 1e9);
	progress_keep(p, sum, now);
}

void
progress_last(struct progress *p, int64_t now)
{
	uint64_t sum[5];

	if (p->tty)
		fprintf(stderr, "\r%60s\r", "");	/* the redrawn line goes */
	p->tty = false;
	if (now <= p->last)
		return;
	progress_gather(p, sum);
	progress_keep(p, sum, now);
}

struct sample *
progress_samples(const struct progress *p, size_t *n)
{
	*n = p->nsamples;
	return p->samples;
}

void
progress_free(struct progress *p)
{
	if (p != NULL)
		samples_free(p->samples, p->nsamples);
	free(p);
}
