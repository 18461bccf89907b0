/*
 * result_read: a result back from the JSON that result_write_json() writes,
 * for merge. Everything is checked, as anything read from outside must be:
 * the format, the mode and target, every setting's range, null exactly where
 * a figure does not apply, a histogram whose buckets are this layout's and
 * whose counts add up to its own count and to the operations, and intervals
 * in order within the run's time, each with such a histogram.
 */
#include "result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mpecho.h"

struct reader {
	char *why;
	size_t whylen;
};

/* One error line naming the member; always -1. */
static int
bad(struct reader *rd, const char *key, const char *what)
{
	snprintf(rd->why, rd->whylen, "'%s' %s", key, what);
	return -1;
}

/* A whole number where it applies, null where it does not. */
static int
read_whole(struct reader *rd, const struct json *o, const char *key, bool applies, uint64_t max,
    uint64_t *out)
{
	const struct json *v = json_get(o, key);

	*out = 0;
	if (v == NULL)
		return bad(rd, key, "is missing");
	if (!applies)
		return v->type == JSON_NULL ? 0 : bad(rd, key, "must be null here");
	if (v->type != JSON_NUMBER || !v->whole || v->u > max)
		return bad(rd, key, "must be a whole number in range");
	*out = v->u;
	return 0;
}

/* A finite number from min to max; null reads as 0 where nullable. */
static int
read_real(struct reader *rd, const struct json *o, const char *key, bool nullable, double min,
    double max, double *out)
{
	const struct json *v = json_get(o, key);

	*out = 0;
	if (v != NULL && v->type == JSON_NULL && nullable)
		return 0;
	if (v == NULL || v->type != JSON_NUMBER || !isfinite(v->num) || v->num < min || v->num > max)
		return bad(rd, key, "must be a number in range");
	*out = v->num;
	return 0;
}

static int
read_int(struct reader *rd, const struct json *o, const char *key, int min, int max, int *out)
{
	uint64_t u;

	if (read_whole(rd, o, key, true, (uint64_t)max, &u) < 0)
		return -1;
	if (u < (uint64_t)min)
		return bad(rd, key, "must be a whole number in range");
	*out = (int)u;
	return 0;
}

static int
read_bool(struct reader *rd, const struct json *o, const char *key, bool *out)
{
	const struct json *v = json_get(o, key);

	if (v == NULL || (v->type != JSON_TRUE && v->type != JSON_FALSE))
		return bad(rd, key, "must be true or false");
	*out = v->type == JSON_TRUE;
	return 0;
}

/* A string of printable ASCII that fits (null reads as "" where nullable). */
static int
read_string(struct reader *rd, const struct json *o, const char *key, bool nullable, char *out,
    size_t len)
{
	const struct json *v = json_get(o, key);
	size_t i;

	out[0] = '\0';
	if (v != NULL && v->type == JSON_NULL && nullable)
		return 0;
	if (v == NULL || v->type != JSON_STRING || strlen(v->str) >= len || v->str[0] == '\0')
		return bad(rd, key, "must be a non-empty string, not too long");
	for (i = 0; v->str[i] != '\0'; i++)
		if ((unsigned char)v->str[i] < 0x20 || (unsigned char)v->str[i] >= 0x7f)
			return bad(rd, key, "must be printable ASCII");
	memcpy(out, v->str, i + 1);
	return 0;
}

static int
read_settings(struct reader *rd, const struct json *o, struct settings *s)
{
	if (o == NULL || o->type != JSON_OBJECT)
		return bad(rd, "settings", "must be an object");
	if (read_int(rd, o, "conns", 1, 1000000000, &s->conns) < 0 ||
	    read_int(rd, o, "size", 1, 16777216, &s->size) < 0 ||
	    read_int(rd, o, "threads", 1, 1000000, &s->threads) < 0 ||
	    read_int(rd, o, "sources", 0, 65534, &s->sources) < 0 ||
	    read_int(rd, o, "ramp", 0, 1000000, &s->ramp) < 0 ||
	    read_real(rd, o, "duration", false, 0, 1e9, &s->duration) < 0 ||
	    read_real(rd, o, "warmup", false, 0, 1e9, &s->warmup) < 0 ||
	    read_real(rd, o, "timeout", false, 0, 1e9, &s->timeout) < 0 ||
	    read_real(rd, o, "rate", true, 0, 1e15, &s->rate) < 0 ||
	    read_real(rd, o, "start_at", true, 0, 1e11, &s->start_at) < 0 ||
	    read_real(rd, o, "progress", true, 0.05, 3600, &s->progress) < 0 ||
	    read_bool(rd, o, "tls", &s->tls) < 0 || read_bool(rd, o, "insecure", &s->insecure) < 0 ||
	    read_bool(rd, o, "banner", &s->banner) < 0 ||
	    read_string(rd, o, "ca", true, s->ca, sizeof(s->ca)) < 0)
		return -1;
	if (json_get(o, "count") != NULL && json_get(o, "count")->type == JSON_NULL)
		return 0;
	return read_whole(rd, o, "count", true, UINT64_MAX, &s->count);
}

/* One bucket, [lowest, highest, count], into the histogram; *last is the previous bucket's index. */
static int
read_bucket(struct reader *rd, const struct json *b, struct stats *st, int *last, uint64_t *total)
{
	const struct json *lo = b->child, *hi = lo ? lo->next : NULL, *n = hi ? hi->next : NULL;
	unsigned i;

	if (b->type != JSON_ARRAY || n == NULL || n->next != NULL || lo->type != JSON_NUMBER ||
	    hi->type != JSON_NUMBER || n->type != JSON_NUMBER || !lo->whole || !hi->whole ||
	    !n->whole || n->u == 0)
		return bad(rd, "histogram.buckets", "must hold [lowest, highest, count] of whole numbers");
	i = stats_bucket_of(lo->u);
	if (stats_bucket_low(i) != lo->u || stats_bucket_high(i) != hi->u)
		return bad(rd, "histogram.buckets", "holds a bucket that is not this layout's");
	if ((int)i <= *last)
		return bad(rd, "histogram.buckets", "must be in increasing order, each once");
	if (*total + n->u < *total)
		return bad(rd, "histogram.buckets", "counts overflow");
	*total += n->u;
	*last = (int)i;
	st->buckets[i] = n->u;
	return 0;
}

/* min and max must fall in the first and the last bucket with samples. */
static int
read_extremes(struct reader *rd, const struct json *h, struct stats *st, int first, int last)
{
	bool some = st->count > 0;

	if (read_whole(rd, h, "min", some, UINT64_MAX, &st->min) < 0 ||
	    read_whole(rd, h, "max", some, UINT64_MAX, &st->max) < 0)
		return -1;
	if (!some) {
		st->min = UINT64_MAX;
		return 0;
	}
	if (st->min < stats_bucket_low((unsigned)first) || st->min > stats_bucket_high((unsigned)first) ||
	    st->max < stats_bucket_low((unsigned)last) || st->max > stats_bucket_high((unsigned)last))
		return bad(rd, "histogram", "has a min or max outside its buckets");
	return 0;
}

static int
read_histogram(struct reader *rd, const struct json *h, struct result *r)
{
	const struct json *b, *list = json_get(h, "buckets"), *unit = json_get(h, "unit");
	uint64_t subs, total = 0;
	int last = -1, first = -1;

	stats_init(&r->lat);
	if (!result_has_ops(r->mode))
		return h != NULL && h->type == JSON_NULL ? 0 : bad(rd, "histogram", "must be null here");
	if (h == NULL || h->type != JSON_OBJECT || unit == NULL || unit->type != JSON_STRING ||
	    strcmp(unit->str, "ns") != 0)
		return bad(rd, "histogram", "must be an object in ns");
	if (read_whole(rd, h, "sub_buckets", true, UINT64_MAX, &subs) < 0 ||
	    read_whole(rd, h, "count", true, UINT64_MAX, &r->lat.count) < 0 ||
	    read_whole(rd, h, "sum", true, UINT64_MAX, &r->lat.sum) < 0)
		return -1;
	if (subs != STATS_SUB)
		return bad(rd, "histogram.sub_buckets", "is not this layout's (128)");
	if (list == NULL || list->type != JSON_ARRAY)
		return bad(rd, "histogram.buckets", "must be an array");
	for (b = list->child; b != NULL; b = b->next) {
		if (read_bucket(rd, b, &r->lat, &last, &total) < 0)
			return -1;
		first = first < 0 ? last : first;
	}
	if (total != r->lat.count)
		return bad(rd, "histogram", "has bucket counts that do not add up to its count");
	if (r->lat.count != r->ops)
		return bad(rd, "histogram", "does not hold one sample per operation ('ops')");
	return read_extremes(rd, h, &r->lat, first, last);
}

/*
 * An interval's latency: null, or its slowest operation, the lowest value of
 * its first bucket and the counts from that bucket on, the first and the last
 * not 0, the last within the layout.
 */
static int
read_sample_latency(struct reader *rd, const struct json *l, struct sample *s)
{
	const struct json *c, *list = json_get(l, "counts");
	uint64_t low, total = 0;
	size_t n = 0;
	unsigned i;

	if (l != NULL && l->type == JSON_NULL)
		return 0;
	if (l == NULL || l->type != JSON_OBJECT || list == NULL || list->type != JSON_ARRAY ||
	    read_whole(rd, l, "max", true, UINT64_MAX, &s->lat_max) < 0 ||
	    read_whole(rd, l, "lowest", true, UINT64_MAX, &low) < 0)
		return bad(rd, "intervals.latency", "must be null or an object: max, lowest, counts");
	if (stats_bucket_low((i = stats_bucket_of(low))) != low)
		return bad(rd, "intervals.latency.lowest", "is not a bucket's lowest value in this layout");
	for (c = list->child; c != NULL; c = c->next)
		n++;
	if (n == 0 || n > STATS_BUCKETS - i)
		return bad(rd, "intervals.latency.counts", "must hold from 1 to the layout's buckets");
	if ((s->lat = calloc(n, sizeof(*s->lat))) == NULL)
		return bad(rd, "intervals.latency", "is too large (out of memory)");
	for (c = list->child; c != NULL; c = c->next, i++) {
		if (c->type != JSON_NUMBER || !c->whole || total + c->u < total)
			return bad(rd, "intervals.latency.counts", "must be whole numbers, not overflowing");
		if (c->u > 0)
			s->lat[s->nlat++] = (struct sample_bucket){ i, c->u };
		total += c->u;
	}
	if (s->nlat == 0 || s->lat[0].index != stats_bucket_of(low) ||
	    s->lat[s->nlat - 1].index != i - 1)
		return bad(rd, "intervals.latency.counts", "must begin and end with a count not 0");
	if (s->lat_max < stats_bucket_low(i - 1) || s->lat_max > stats_bucket_high(i - 1))
		return bad(rd, "intervals.latency.max", "is outside its last bucket");
	return 0;
}

/* One interval: its start within the run's time, after the one before (*prev), its counts. */
static int
read_sample(struct reader *rd, const struct json *o, const struct result *r, double *prev,
    struct sample *s)
{
	const struct json *ph = json_get(o, "phase");
	double start;
	int i;

	if (o->type != JSON_OBJECT)
		return bad(rd, "intervals", "must hold objects");
	if (read_real(rd, o, "start", false, r->started - 1e-3, r->ended + 1e-3, &start) < 0 ||
	    read_real(rd, o, "secs", false, 1e-6, 1e6, &s->secs) < 0 ||
	    read_whole(rd, o, "ops", true, UINT64_MAX, &s->ops) < 0 ||
	    read_whole(rd, o, "conns", true, UINT64_MAX, &s->conns) < 0 ||
	    read_whole(rd, o, "bytes", true, UINT64_MAX, &s->bytes) < 0 ||
	    read_whole(rd, o, "errors", true, UINT64_MAX, &s->errors) < 0 ||
	    read_whole(rd, o, "bad_bytes", true, UINT64_MAX, &s->bad) < 0)
		return -1;
	if (start <= *prev)
		return bad(rd, "intervals.start", "must increase from one interval to the next");
	*prev = start;
	s->at = start + s->secs - r->started;
	for (i = 0; ph != NULL && ph->type == JSON_STRING && i < 3; i++)
		if (strcmp(ph->str, phase_names[i]) == 0)
			break;
	if (ph == NULL || ph->type != JSON_STRING || i == 3)
		return bad(rd, "intervals.phase", "must be warm-up, measure or drain");
	s->phase = (enum phase)i;
	return read_sample_latency(rd, json_get(o, "latency"), s);
}

/* The intervals (none if the member is absent: a result of an mpecho-bench before them). */
static int
read_intervals(struct reader *rd, const struct json *list, struct result *r)
{
	static struct stats st;
	const struct json *o;
	double prev = -1;
	size_t n = 0;

	if (list == NULL)
		return 0;
	if (list->type != JSON_ARRAY)
		return bad(rd, "intervals", "must be an array");
	for (o = list->child; o != NULL; o = o->next)
		n++;
	if (n > 0 && (r->intervals = calloc(n, sizeof(*r->intervals))) == NULL)
		return bad(rd, "intervals", "are too many (out of memory)");
	for (o = list->child; o != NULL; o = o->next) {
		if (read_sample(rd, o, r, &prev, &r->intervals[r->nintervals++]) < 0)
			return -1;
		sample_latency(&r->intervals[r->nintervals - 1], &st);
		sample_percentiles(&r->intervals[r->nintervals - 1], &st);
	}
	return 0;
}

/*
 * hold's memory figures: absent or null (not measured, or not hold), or an
 * object whose PSS members are null exactly when no server was named.
 */
static int
read_memory(struct reader *rd, const struct json *m, struct result *r)
{
	const struct json *pid = m != NULL ? json_get(m, "server_pid") : NULL;
	struct memory *mem = &r->mem;
	uint64_t procs, spid;
	bool server;

	if (m == NULL || m->type == JSON_NULL)
		return 0;
	if (m->type != JSON_OBJECT || r->mode != MODE_HOLD)
		return bad(rd, "memory", "must be null, or an object in hold mode");
	server = pid != NULL && pid->type != JSON_NULL;
	if (read_whole(rd, m, "procs", true, PROCS_MAX, &procs) < 0 ||
	    read_whole(rd, m, "mem_available_before_kib", true, UINT64_MAX >> 11, &mem->avail_before) < 0 ||
	    read_whole(rd, m, "mem_available_after_kib", true, UINT64_MAX >> 11, &mem->avail_after) < 0 ||
	    read_whole(rd, m, "server_pid", server, 4194304, &spid) < 0 ||
	    read_whole(rd, m, "server_pss_before_kib", server, UINT64_MAX >> 11, &mem->pss_before) < 0 ||
	    read_whole(rd, m, "server_pss_after_kib", server, UINT64_MAX >> 11, &mem->pss_after) < 0 ||
	    read_real(rd, m, "measured_at", false, 0, 1e11, &mem->measured_at) < 0)
		return -1;
	if (procs == 0 || (server && spid == 0))
		return bad(rd, procs == 0 ? "memory.procs" : "memory.server_pid", "is out of range");
	mem->measured = true;
	mem->procs = (int)procs;
	mem->server_pid = (long)spid;
	return 0;
}

static int
read_figures(struct reader *rd, const struct json *o, struct result *r)
{
	const struct json *e = json_get(o, "errors");
	int i;

	if (read_whole(rd, o, "ops", result_has_ops(r->mode), UINT64_MAX, &r->ops) < 0 ||
	    read_whole(rd, o, "bytes", result_has_bytes(r->mode), UINT64_MAX, &r->bytes) < 0 ||
	    read_whole(rd, o, "held", r->mode == MODE_HOLD, UINT64_MAX, &r->held) < 0 ||
	    read_memory(rd, json_get(o, "memory"), r) < 0)
		return -1;
	if (e == NULL || e->type != JSON_OBJECT)
		return bad(rd, "errors", "must be an object");
	for (i = 0; i < RESULT_ERRORS; i++)
		if (read_whole(rd, e, result_error_names[i], result_has_error(r->mode, i), UINT64_MAX,
		    result_error(&r->err, i)) < 0)
			return -1;
	return read_histogram(rd, json_get(o, "histogram"), r);
}

static int
read_times(struct reader *rd, const struct json *o, struct result *r)
{
	uint64_t runs, status;

	if (read_real(rd, o, "started", false, 0, 1e11, &r->started) < 0 ||
	    read_real(rd, o, "ended", false, r->started, 1e11, &r->ended) < 0 ||
	    read_real(rd, o, "measure_start", false, r->started, r->ended, &r->measure_start) < 0 ||
	    read_real(rd, o, "measure_end", false, r->measure_start, r->ended, &r->measure_end) < 0 ||
	    read_real(rd, o, "seconds", false, 0, r->measure_end - r->measure_start + 1e-3,
	    &r->seconds) < 0 || read_whole(rd, o, "runs", true, 1000000, &runs) < 0 ||
	    read_whole(rd, o, "status", true, 3, &status) < 0)
		return -1;
	if (runs == 0 || status == EXIT_USAGE)
		return bad(rd, runs == 0 ? "runs" : "status", "is out of range");
	r->runs = (unsigned)runs;
	r->status = (int)status;
	return 0;
}

/* The format, the version, the mode and the target. */
static int
read_head(struct reader *rd, const struct json *o, struct result *r)
{
	const struct json *f = json_get(o, "format"), *m = json_get(o, "mode");
	int i;

	if (o->type != JSON_OBJECT || f == NULL || f->type != JSON_STRING ||
	    strcmp(f->str, "mpecho-bench/1") != 0)
		return bad(rd, "format", "is not mpecho-bench/1: not an mpecho-bench --json result");
	for (i = 0; m != NULL && m->type == JSON_STRING && i < MODES; i++)
		if (strcmp(m->str, mode_names[i]) == 0)
			break;
	if (m == NULL || m->type != JSON_STRING || i == MODES)
		return bad(rd, "mode", "is not one of mpecho-bench's modes");
	r->mode = (enum mode)i;
	if (read_string(rd, o, "version", false, r->version, sizeof(r->version)) < 0)
		return -1;
	if ((m = json_get(o, "target")) == NULL || m->type != JSON_OBJECT)
		return bad(rd, "target", "must be an object");
	return read_string(rd, m, "host", false, r->host, sizeof(r->host)) < 0 ||
	    read_string(rd, m, "port", strncmp(r->host, "unix:", 5) == 0, r->port, sizeof(r->port)) < 0 ?
	    -1 : 0;
}

int
result_read_json(struct result *r, const char *text, size_t len, char *why, size_t whylen)
{
	struct reader rd = { why, whylen };
	struct json_doc doc;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (json_parse(text, len, &doc, why, whylen) == 0 && read_head(&rd, doc.root, r) == 0 &&
	    read_settings(&rd, json_get(doc.root, "settings"), &r->set) == 0 &&
	    read_times(&rd, doc.root, r) == 0 && read_figures(&rd, doc.root, r) == 0 &&
	    read_intervals(&rd, json_get(doc.root, "intervals"), r) == 0)
		rc = 0;
	json_free(&doc);
	if (rc < 0)
		result_free(r);
	return rc;
}
