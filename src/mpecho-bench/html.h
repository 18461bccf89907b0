/* html: mpecho-bench's report page (--html FILE, merge --html): one self-contained file. */
#ifndef MPECHO_BENCH_HTML_H
#define MPECHO_BENCH_HTML_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "result.h"

#define HTML_PCT_POINTS 61	/* points of the percentile plot */

/* A line of a chart: its name, its colour, and a value for each interval. */
struct html_series {
	const char *name, *color;
	const double *y;
};

/*
 * html.c: the whole page for a result, a run's or a merged one's: settings and
 * target, the figures, the charts over time from its intervals, the latency
 * distribution, and every interval in a table. Only inline style and SVG,
 * nothing loaded from elsewhere (its Content-Security-Policy says so).
 */
void html_report(FILE *f, const struct result *r);

/* html_chart.c: a chart over the run's time; the percentile plot. */
void html_chart_time_series(FILE *f, const char *id, const char *title, const char *unit,
    const struct sample *s, size_t n, const struct html_series *sr, int nser);
void html_chart_percentiles(FILE *f, const struct stats *st);

#endif
