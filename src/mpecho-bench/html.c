/* html: the report page of a run (--html FILE) or of a merged run (merge --html FILE). */
#include "html.h"

#include <string.h>
#include <time.h>

static const char html_style[] =
"body{font-family:sans-serif;margin:1.5em auto;max-width:800px;color:#222}"
"h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
"table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;text-align:left;"
"border-bottom:1px solid #ddd}td.n{text-align:right;font-variant-numeric:tabular-nums}"
".status-0{color:#17692b}.status-bad{color:#b00020;font-weight:bold}"
"figure{margin:1em 0}svg.chart{background:#fcfcfc;border:1px solid #ddd}"
"svg .title{font-size:13px;font-weight:bold}svg .tick,svg .unit,svg .legend{font-size:11px}"
"svg .grid{stroke:#e6e6e6}svg .axis{stroke:#888}svg .series{fill:none;stroke-width:1.6}"
"svg .warmup{fill:#eee}svg .mark-errors{stroke:#e08a00;stroke-width:2}"
"svg .mark-bad{stroke:#d00000;stroke-width:3}";

/* Text with HTML's five special characters escaped. */
static void
html_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *
html_status_text(int status)
{
	return status == 0 ? "no error" : status == 1 ? "lost, extra or corrupted bytes" :
	    status == 3 ? "connection errors, every byte intact" : "not run";
}

/* The head, the title line and the target. */
static void
html_top(FILE *f, const struct result *r)
{
	char when[32];
	time_t t = (time_t)r->started;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\">\n<title>mpecho-bench ", f);
	fprintf(f, "%s: ", mode_names[r->mode]);
	html_text(f, r->host);
	fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>mpecho-bench %s against ",
	    html_style, mode_names[r->mode]);
	html_text(f, r->host);
	if (strncmp(r->host, "unix:", 5) != 0) {
		fputs(" port ", f);
		html_text(f, r->port);
	}
	fprintf(f, "</h1>\n<p>Started %s; measured for %.2f s%s. Exit status <b id=\"status\" "
	    "class=\"%s\">%d: %s</b>. mpecho-bench ", when, r->seconds, r->runs > 1 ?
	    ", the union of the merged runs' windows" : "", r->status == 0 ? "status-0" : "status-bad",
	    r->status, html_status_text(r->status));
	html_text(f, r->version);
	if (r->runs > 1)
		fprintf(f, "; %u runs merged", r->runs);
	fputs(".</p>\n", f);
}

/* A row of a table: a name, and a number with that many decimals (-1: as few as it needs). */
static void
html_row(FILE *f, const char *name, int decimals, double v)
{
	if (decimals < 0)
		fprintf(f, "<tr><th>%s</th><td class=\"n\">%g</td></tr>\n", name, v);
	else
		fprintf(f, "<tr><th>%s</th><td class=\"n\">%.*f</td></tr>\n", name, decimals, v);
}

/* The settings, as given. */
static void
html_settings(FILE *f, const struct result *r)
{
	const struct settings *st = &r->set;

	fputs("<h2>Settings</h2>\n<table id=\"settings\">\n", f);
	html_row(f, "connections (-c)", 0, st->conns);
	html_row(f, "size, bytes (-s)", 0, st->size);
	html_row(f, "duration, s (-d)", -1, st->duration);
	html_row(f, "warm-up, s (-w)", -1, st->warmup);
	html_row(f, "threads (-t)", 0, st->threads);
	html_row(f, "timeout, s (-T)", -1, st->timeout);
	if (st->count > 0)
		html_row(f, "count (-n)", 0, (double)st->count);
	if (st->rate > 0)
		html_row(f, "rate asked, a second (--rate)", -1, st->rate);
	if (st->sources > 0)
		html_row(f, "sources (-S)", 0, st->sources);
	if (st->ramp > 0)
		html_row(f, "ramp (-R)", 0, st->ramp);
	fprintf(f, "<tr><th>TLS</th><td>%s</td></tr>\n<tr><th>banner</th><td>%s</td></tr>\n"
	    "</table>\n", st->tls ? (st->insecure ? "yes, not verified" : "yes") : "no",
	    st->banner ? "yes" : "no");
}

/* The run's figures: what its mode has, the errors that apply, the latency percentiles. */
static void
html_figures(FILE *f, const struct result *r)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	static const char *const qnames[] = { "p50", "p90", "p99", "p99.9" };
	double secs = r->seconds > 0 ? r->seconds : 1;
	int i;

	fputs("<h2>Figures</h2>\n<table id=\"figures\">\n", f);
	if (result_has_ops(r->mode)) {
		html_row(f, "operations", 0, (double)r->ops);
		html_row(f, "operations a second", 1, (double)r->ops / secs);
	}
	if (result_has_bytes(r->mode)) {
		html_row(f, "bytes", 0, (double)r->bytes);
		html_row(f, "MB a second", 2, (double)r->bytes / secs / 1e6);
	}
	if (r->mode == MODE_HOLD)
		html_row(f, "connections held", 0, (double)r->held);
	for (i = 0; i < RESULT_ERRORS; i++)
		if (result_has_error(r->mode, i))
			fprintf(f, "<tr><th>errors: %s</th><td class=\"n\">%" PRIu64 "</td></tr>\n",
			    result_error_names[i], result_error_of(&r->err, i));
	for (i = 0; r->lat.count > 0 && i < 4; i++)
		fprintf(f, "<tr><th>latency %s, us</th><td class=\"n\">%.1f</td></tr>\n", qnames[i],
		    (double)stats_quantile(&r->lat, qs[i]) / 1e3);
	if (r->lat.count > 0)
		html_row(f, "latency max, us", 1, (double)r->lat.max / 1e3);
	fputs("</table>\n", f);
}

/* The figures a second, interval by interval, into v (7 arrays of n): see html_charts. */
static void
html_rates(const struct sample *s, size_t n, double *v)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double secs = s[i].secs > 0 ? s[i].secs : 1;

		v[i] = (double)s[i].ops / secs;
		v[n + i] = (double)s[i].conns / secs;
		v[2 * n + i] = (double)s[i].bytes / secs / 1e6;
		v[3 * n + i] = s[i].p50;
		v[4 * n + i] = s[i].p90;
		v[5 * n + i] = s[i].p99;
		v[6 * n + i] = s[i].max;
	}
}

/* The charts over the run's time: operations, connections and MB a second, latency. */
static void
html_charts(FILE *f, const struct result *r, const struct sample *s, size_t n)
{
	double *v = calloc(7 * n + 1, sizeof(*v));
	struct html_series ops[] = { { "operations", "#1f5fa8", v } },
	    conns[] = { { "opened", "#2c8c3c", v + n } }, mb[] = { { "MB/s", "#7a3fa0", v + 2 * n } },
	    lat[] = { { "p50", "#2c8c3c", v + 3 * n }, { "p90", "#1f5fa8", v + 4 * n },
		{ "p99", "#e08a00", v + 5 * n }, { "max", "#b00020", v + 6 * n } };

	if (v == NULL)
		return;
	html_rates(s, n, v);
	fputs("<h2>Over time</h2>\n<p>Interval by interval, the warm-up shaded; an orange line marks "
	    "an interval with connection errors, a red one an interval with lost, extra or corrupted "
	    "bytes.", f);
	if (r->runs > 1)
		fprintf(f, " The runs' intervals merged by wall-clock time, in slots of %g s: each "
		    "interval in the slot its middle falls in, the slot's percentiles from the merged "
		    "histograms.", r->set.progress > 0 ? r->set.progress : 1);
	fputs("</p>\n", f);
	if (result_has_ops(r->mode))
		html_chart_time_series(f, "ops", "Operations a second", "ops/s", s, n, ops, 1);
	html_chart_time_series(f, "conns", "Connections opened a second", "conns/s", s, n, conns, 1);
	if (result_has_bytes(r->mode))
		html_chart_time_series(f, "bytes", "MB a second", "MB/s", s, n, mb, 1);
	if (result_has_ops(r->mode) || r->mode == MODE_HOLD)
		html_chart_time_series(f, "latency", "Latency percentiles in each interval", "us", s, n,
		    lat, 4);
	free(v);
}

/* Every interval as a row. */
static void
html_intervals(FILE *f, const struct sample *s, size_t n)
{
	size_t i;

	fputs("<details><summary>Every interval</summary>\n<table id=\"intervals\"><tr><th>end, s"
	    "</th><th>phase</th><th>operations</th><th>connections opened</th><th>bytes</th>"
	    "<th>errors</th><th>bad bytes</th><th>p50 us</th><th>p99 us</th><th>max us</th></tr>\n", f);
	for (i = 0; i < n; i++)
		fprintf(f, "<tr><td class=\"n\">%.2f</td><td>%s</td><td class=\"n\">%" PRIu64 "</td>"
		    "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%"
		    PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%.1f</td><td class=\"n\">"
		    "%.1f</td><td class=\"n\">%.1f</td></tr>\n", s[i].at, phase_names[s[i].phase], s[i].ops, s[i].conns,
		    s[i].bytes, s[i].errors, s[i].bad, s[i].p50, s[i].p99, s[i].max);
	fputs("</table></details>\n", f);
}

void
html_report(FILE *f, const struct result *r)
{
	const struct sample *s = r->intervals;
	size_t n = r->nintervals;

	html_top(f, r);
	html_settings(f, r);
	html_figures(f, r);
	if (n > 0) {
		html_charts(f, r, s, n);
	} else {
		fputs("<h2>Over time</h2>\n<p id=\"no-intervals\">No figures by interval: ", f);
		fputs(r->runs > 1 ? "a result merged carries no intervals (an older mpecho-bench's)." :
		    "the run was shorter than one interval.", f);
		fputs("</p>\n", f);
	}
	if (r->lat.count > 0) {
		fputs("<h2>Latency distribution</h2>\n<p>Each step right is one more nine; the last "
		    "point is the slowest operation.</p>\n", f);
		html_chart_percentiles(f, &r->lat);
	}
	if (n > 0)
		html_intervals(f, s, n);
	fputs("</body></html>\n", f);
}
