/* report: mpecho-bench's figures summed over the threads, and a result as text. */
#include "result.h"

#include <inttypes.h>

void
report_sum(const struct thread *th, int n, struct totals *tot)
{
	int i, k;

	for (i = 0; i < n; i++) {
		tot->ops += th[i].ops;
		tot->bytes += th[i].bytes;
		tot->held += th[i].held;
		tot->moved += th[i].progress_ops + th[i].progress_bytes;
		for (k = 0; k < RESULT_ERRORS; k++)
			*result_error(&tot->err, k) += result_error_of(&th[i].err, k);
		stats_merge(tot->lat, &th[i].lat);
	}
}

static double
report_us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* The operations and their latency (connrate, pingpong, udp). */
static void
report_ops(FILE *f, const struct result *r)
{
	const struct stats *st = &r->lat;

	fprintf(f, "%s: %" PRIu64 " (%.1f/s", r->mode == MODE_CONNRATE ? "sessions" :
	    r->mode == MODE_UDP ? "datagrams" : "messages", r->ops,
	    r->seconds > 0 ? (double)r->ops / r->seconds : 0.0);
	if (r->set.rate > 0)
		fprintf(f, "; %.1f/s asked", r->set.rate);
	fputs(")\n", f);
	if (st->count == 0)
		return;
	fprintf(f, "latency_us: p50=%.1f p90=%.1f p99=%.1f p99.9=%.1f max=%.1f\n",
	    report_us(stats_quantile(st, 0.5)), report_us(stats_quantile(st, 0.9)),
	    report_us(stats_quantile(st, 0.99)), report_us(stats_quantile(st, 0.999)),
	    report_us(st->max));
}

/* hold's memory lines, if it measured them. */
static void
report_memory(FILE *f, const struct result *r)
{
	const struct memory *m = &r->mem;

	if (!m->measured)
		return;
	fprintf(f, "memory: MemAvailable %" PRIu64 " -> %" PRIu64 " KiB: %.0f B per held connection "
	    "(both ends, the kernel's share, %d generator%s)\n", m->avail_before, m->avail_after,
	    result_per_conn(r, m->avail_before, m->avail_after, true), m->procs,
	    m->procs == 1 ? "" : "s");
	if (m->server_pid > 0)
		fprintf(f, "server: pid %ld and its descendants, PSS %" PRIu64 " -> %" PRIu64 " KiB: "
		    "%.0f B per held connection\n", m->server_pid, m->pss_before, m->pss_after,
		    result_per_conn(r, m->pss_before, m->pss_after, false));
}

/* The result as text, one fact a line; the errors that apply to its mode. */
void
report_text(FILE *f, const struct result *r)
{
	int i;

	fprintf(f, "mode=%s conns=%d size=%d threads=%d seconds=%.2f", mode_names[r->mode],
	    r->set.conns, r->set.size, r->set.threads, r->seconds);
	if (r->runs > 1)
		fprintf(f, " runs=%u", r->runs);
	fputc('\n', f);
	if (result_has_ops(r->mode))
		report_ops(f, r);
	if (result_has_bytes(r->mode) && r->mode != MODE_UDP)
		fprintf(f, "%s: %" PRIu64 " bytes (%.1f MB/s)\n", r->mode == MODE_STREAM ? "echoed" :
		    r->mode == MODE_SINK ? "sent" : "received", r->bytes,
		    r->seconds > 0 ? (double)r->bytes / r->seconds / 1e6 : 0.0);
	if (r->mode == MODE_HOLD)
		fprintf(f, "held: %" PRIu64 " of %d\n", r->held, r->set.conns);
	report_memory(f, r);
	fputs("errors:", f);
	for (i = 0; i < RESULT_ERRORS; i++)
		if (result_has_error(r->mode, i))
			fprintf(f, " %s=%" PRIu64, result_error_names[i], result_error_of(&r->err, i));
	fputc('\n', f);
}
