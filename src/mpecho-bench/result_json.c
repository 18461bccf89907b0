/*
 * result_json: a result as one JSON object on one line: the target, every
 * setting, the times, the figures (null where one does not apply to the mode),
 * the whole latency histogram with exact counts, and the run's intervals,
 * each with its own histogram, for merge to read back.
 */
#include "result.h"

#include <inttypes.h>
#include <math.h>

#define FORMAT "mpecho-bench/1"

/* A JSON string: printable ASCII as it is, anything else escaped (\uXXXX for a byte). */
static void
put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
put_string_or_null(FILE *f, const char *s)
{
	if (*s == '\0')
		fputs("null", f);
	else
		put_string(f, s);
}

/* A number with decimals digits after the point (-1: as few as it needs), or null. */
static void
put_real(FILE *f, bool applies, int decimals, double v)
{
	if (!applies || !isfinite(v))	/* JSON has no NaN or infinity */
		fputs("null", f);
	else if (decimals < 0)
		fprintf(f, "%.15g", v);
	else
		fprintf(f, "%.*f", decimals, v);
}

static void
put_whole(FILE *f, bool applies, uint64_t v)
{
	if (applies)
		fprintf(f, "%" PRIu64, v);
	else
		fputs("null", f);
}

static void
put_settings(FILE *f, const struct settings *s)
{
	fprintf(f, "\"settings\":{\"conns\":%d,\"size\":%d,\"duration\":%.15g,\"count\":", s->conns,
	    s->size, s->duration);
	put_whole(f, s->count > 0, s->count);
	fprintf(f, ",\"warmup\":%.15g,\"threads\":%d,\"sources\":%d,\"timeout\":%.15g,\"ramp\":%d,"
	    "\"rate\":", s->warmup, s->threads, s->sources, s->timeout, s->ramp);
	put_real(f, s->rate > 0, -1, s->rate);
	fputs(",\"start_at\":", f);
	put_real(f, s->start_at > 0, 6, s->start_at);
	fputs(",\"progress\":", f);
	put_real(f, s->progress > 0, -1, s->progress);
	fprintf(f, ",\"tls\":%s,\"insecure\":%s,\"ca\":", s->tls ? "true" : "false",
	    s->insecure ? "true" : "false");
	put_string_or_null(f, s->ca);
	fprintf(f, ",\"banner\":%s}", s->banner ? "true" : "false");
}

/* Percentiles and the rest in microseconds; null without samples. */
static void
put_latency(FILE *f, const struct result *r)
{
	static const struct { const char *name; double q; } qs[] = { { "p50", 0.5 }, { "p90", 0.9 },
	    { "p99", 0.99 }, { "p99.9", 0.999 }, { "p99.99", 0.9999 } };
	const struct stats *st = &r->lat;
	size_t i;

	if (!result_has_ops(r->mode) || st->count == 0) {
		fputs("\"latency_us\":null", f);
		return;
	}
	fprintf(f, "\"latency_us\":{\"min\":%.3f,\"mean\":%.3f", (double)st->min / 1e3,
	    (double)st->sum / (double)st->count / 1e3);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		fprintf(f, ",\"%s\":%.3f", qs[i].name, (double)stats_quantile(st, qs[i].q) / 1e3);
	fprintf(f, ",\"max\":%.3f}", (double)st->max / 1e3);
}

/* The whole histogram: its non-empty buckets as [lowest, highest, count], in ns. */
static void
put_histogram(FILE *f, const struct result *r)
{
	const struct stats *st = &r->lat;
	bool first = true;
	unsigned i;

	if (!result_has_ops(r->mode)) {
		fputs("\"histogram\":null", f);
		return;
	}
	fprintf(f, "\"histogram\":{\"unit\":\"ns\",\"sub_buckets\":%u,\"count\":%" PRIu64
	    ",\"sum\":%" PRIu64 ",\"min\":", STATS_SUB, st->count, st->sum);
	put_whole(f, st->count > 0, st->min);
	fputs(",\"max\":", f);
	put_whole(f, st->count > 0, st->max);
	fputs(",\"buckets\":[", f);
	for (i = 0; i < STATS_BUCKETS; i++)
		if (st->buckets[i] != 0) {
			fprintf(f, "%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", first ? "" : ",",
			    stats_bucket_low(i), stats_bucket_high(i), st->buckets[i]);
			first = false;
		}
	fputs("]}", f);
}

static void
put_errors(FILE *f, const struct result *r)
{
	int i;

	fputs("\"errors\":{", f);
	for (i = 0; i < RESULT_ERRORS; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", result_error_names[i]);
		put_whole(f, result_has_error(r->mode, i), result_error_of(&r->err, i));
	}
	fputc('}', f);
}

/*
 * The intervals: each with its wall-clock start, its counts, and its latency:
 * its slowest operation, the lowest value of its first non-empty bucket, and
 * the counts of the buckets from that one to its last non-empty one, the
 * empty ones between as 0 (ns; a third of the size of [lowest, count] pairs
 * when latencies spread over a thousand buckets, as they do under load).
 */
static void
put_intervals(FILE *f, const struct result *r)
{
	const struct sample *s;
	size_t i, k;
	uint32_t b;

	fputs("\"intervals\":[", f);
	for (i = 0; i < r->nintervals; i++) {
		s = &r->intervals[i];
		fprintf(f, "%s{\"start\":%.6f,\"secs\":%.6f,\"phase\":\"%s\",\"ops\":%" PRIu64
		    ",\"conns\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"bad_bytes\":%"
		    PRIu64 ",\"latency\":", i ? "," : "", r->started + s->at - s->secs, s->secs,
		    phase_names[s->phase], s->ops, s->conns, s->bytes, s->errors, s->bad);
		if (s->nlat == 0) {
			fputs("null}", f);
			continue;
		}
		fprintf(f, "{\"max\":%" PRIu64 ",\"lowest\":%" PRIu64 ",\"counts\":[", s->lat_max,
		    stats_bucket_low(s->lat[0].index));
		for (k = 0, b = s->lat[0].index; k < s->nlat; b++)
			fprintf(f, "%s%" PRIu64, b > s->lat[0].index ? "," : "",
			    s->lat[k].index == b ? s->lat[k++].count : 0);
		fputs("]}}", f);
	}
	fputc(']', f);
}

/* hold's memory figures (KiB, and bytes a held connection), or null. */
static void
put_memory(FILE *f, const struct result *r)
{
	const struct memory *m = &r->mem;

	if (!m->measured) {
		fputs("\"memory\":null", f);
		return;
	}
	fprintf(f, "\"memory\":{\"procs\":%d,\"mem_available_before_kib\":%" PRIu64
	    ",\"mem_available_after_kib\":%" PRIu64 ",\"mem_per_conn_bytes\":%.1f,\"server_pid\":",
	    m->procs, m->avail_before, m->avail_after,
	    result_per_conn(r, m->avail_before, m->avail_after, true));
	put_whole(f, m->server_pid > 0, (uint64_t)m->server_pid);
	fputs(",\"server_pss_before_kib\":", f);
	put_whole(f, m->server_pid > 0, m->pss_before);
	fputs(",\"server_pss_after_kib\":", f);
	put_whole(f, m->server_pid > 0, m->pss_after);
	fputs(",\"pss_per_conn_bytes\":", f);
	put_real(f, m->server_pid > 0, 1, result_per_conn(r, m->pss_before, m->pss_after, false));
	fprintf(f, ",\"measured_at\":%.6f}", m->measured_at);
}

void
result_write_json(FILE *f, const struct result *r)
{
	bool ops = result_has_ops(r->mode), bytes = result_has_bytes(r->mode);

	fprintf(f, "{\"format\":\"%s\",\"version\":", FORMAT);
	put_string(f, r->version);
	fprintf(f, ",\"mode\":\"%s\",\"target\":{\"host\":", mode_names[r->mode]);
	put_string(f, r->host);
	fputs(",\"port\":", f);
	put_string_or_null(f, r->port);
	fputs("},", f);
	put_settings(f, &r->set);
	fprintf(f, ",\"runs\":%u,\"status\":%d,\"started\":%.6f,\"measure_start\":%.6f,"
	    "\"measure_end\":%.6f,\"ended\":%.6f,\"conns\":%d,\"size\":%d,\"threads\":%d,"
	    "\"seconds\":%.6f,\"ops\":", r->runs, r->status, r->started, r->measure_start,
	    r->measure_end, r->ended, r->set.conns, r->set.size, r->set.threads, r->seconds);
	put_whole(f, ops, r->ops);
	fputs(",\"ops_per_s\":", f);
	put_real(f, ops && r->seconds > 0, 1, (double)r->ops / r->seconds);
	fputs(",\"bytes\":", f);
	put_whole(f, bytes, r->bytes);
	fputs(",\"mb_per_s\":", f);
	put_real(f, bytes && r->seconds > 0, 2, (double)r->bytes / r->seconds / 1e6);
	fputs(",\"held\":", f);
	put_whole(f, r->mode == MODE_HOLD, r->held);
	fputc(',', f);
	put_memory(f, r);
	fputc(',', f);
	put_latency(f, r);
	fputc(',', f);
	put_errors(f, r);
	fputc(',', f);
	put_histogram(f, r);
	fputc(',', f);
	put_intervals(f, r);
	fputs("}\n", f);
}
