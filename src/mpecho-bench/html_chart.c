/*
 * html_chart: the report page's SVG charts, inline: figures over the run's
 * time with its warm-up shaded and its errors and bad bytes marked, and the
 * latency distribution as a percentile plot (HdrHistogram's style).
 */
#include "html.h"

#include <math.h>

#define W 760			/* the chart's size, and its plot area's margins */
#define H 230
#define LEFT 70
#define RIGHT 20
#define TOP 28
#define BOTTOM 36

static double
html_chart_x(double x, double xmax)
{
	return LEFT + (W - LEFT - RIGHT) * (xmax > 0 ? x / xmax : 0);
}

static double
html_chart_y(double y, double ymax)
{
	return H - BOTTOM - (H - TOP - BOTTOM) * (ymax > 0 ? y / ymax : 0);
}

/* A round step for about five ticks up to max. */
static double
html_chart_step(double max)
{
	double step = pow(10, floor(log10(max > 0 ? max / 5 : 1)));

	return max / step > 25 ? step * 5 : max / step > 10 ? step * 2 : step;
}

/* The frame: the title, the y axis with its ticks and unit, the x axis line. */
static void
html_chart_frame(FILE *f, const char *id, const char *title, const char *unit, double ymax)
{
	double y, step = html_chart_step(ymax);

	fprintf(f, "<figure><svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n<title>%s</title>\n"
	    "<text x=\"%d\" y=\"16\" class=\"title\">%s</text>\n", id, W, H, W, H, title, LEFT,
	    title);
	for (y = 0; y <= ymax * 1.0001; y += step)
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
		    "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", LEFT,
		    W - RIGHT, html_chart_y(y, ymax), html_chart_y(y, ymax), LEFT - 6,
		    html_chart_y(y, ymax) + 4, y);
	fprintf(f, "<text class=\"unit\" x=\"8\" y=\"%d\">%s</text>\n", TOP - 6, unit);
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", LEFT, W - RIGHT,
	    H - BOTTOM, H - BOTTOM);
}

/* The time axis, the warm-up shaded, and each interval with errors or bad bytes marked. */
static void
html_chart_time(FILE *f, const struct sample *s, size_t n, double xmax)
{
	double t, step = html_chart_step(xmax), x;
	size_t i;

	for (i = 0; i < n && s[i].phase == PHASE_WARMUP; i++)
		;
	if (i > 0)
		fprintf(f, "<rect class=\"warmup\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
		    "<title>warm-up (not measured)</title></rect>\n", LEFT, TOP,
		    html_chart_x(s[i - 1].at, xmax) - LEFT, H - TOP - BOTTOM);
	for (t = 0; t <= xmax * 1.0001; t += step)
		fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
		    html_chart_x(t, xmax), H - BOTTOM + 16, t);
	fprintf(f, "<text class=\"unit\" x=\"%d\" y=\"%d\" text-anchor=\"end\">seconds</text>\n",
	    W - RIGHT, H - 4);
	for (i = 0; i < n; i++) {
		x = html_chart_x(s[i].at, xmax);
		if (s[i].bad > 0 || s[i].errors > 0)
			fprintf(f, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\">"
			    "<title>%.2f s: %" PRIu64 " connection errors, %" PRIu64 " bad bytes"
			    "</title></line>\n", s[i].bad > 0 ? "mark-bad" : "mark-errors", x, x, TOP,
			    H - BOTTOM, s[i].at, s[i].errors, s[i].bad);
	}
}

/* One line of points (x, y): its name in the legend at slot. */
static void
html_chart_line(FILE *f, const struct html_series *sr, const double *x, size_t n, double xmax,
    double ymax, int slot)
{
	size_t i;

	fprintf(f, "<polyline class=\"series\" data-series=\"%s\" stroke=\"%s\" points=\"", sr->name,
	    sr->color);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", html_chart_x(x[i], xmax),
		    html_chart_y(sr->y[i], ymax));
	fprintf(f, "\"/>\n<text class=\"legend\" x=\"%d\" y=\"16\" fill=\"%s\">%s</text>\n",
	    W - RIGHT - 90 * (slot + 1), sr->color, sr->name);
}

static double
html_chart_max(const struct html_series *sr, int nser, size_t n)
{
	double m = 0;
	size_t i;
	int k;

	for (k = 0; k < nser; k++)
		for (i = 0; i < n; i++)
			m = sr[k].y[i] > m ? sr[k].y[i] : m;
	return m > 0 ? m * 1.1 : 1;
}

void
html_chart_time_series(FILE *f, const char *id, const char *title, const char *unit,
    const struct sample *s, size_t n, const struct html_series *sr, int nser)
{
	double *x = calloc(n + 1, sizeof(*x)), xmax = n > 0 ? s[n - 1].at : 1;
	double ymax = html_chart_max(sr, nser, n);
	size_t i;
	int k;

	if (x == NULL)
		return;
	for (i = 0; i < n; i++)
		x[i] = s[i].at;
	html_chart_frame(f, id, title, unit, ymax);
	html_chart_time(f, s, n, xmax);
	for (k = 0; k < nser; k++)
		html_chart_line(f, &sr[k], x, n, xmax, ymax, nser - 1 - k);
	fputs("</svg></figure>\n", f);
	free(x);
}

/*
 * The percentile plot: latency (us) against the percentile on a scale where
 * each step right is one more nine (90%, 99%, 99.9%...), to the maximum.
 */
void
html_chart_percentiles(FILE *f, const struct stats *st)
{
	double x[HTML_PCT_POINTS], y[HTML_PCT_POINTS], xmax;
	struct html_series sr = { "latency", "#1f5fa8", y };
	int i, n = HTML_PCT_POINTS;

	xmax = ceil(log10((double)(st->count > 10 ? st->count : 10)));	/* nines enough for all */
	for (i = 0; i < n; i++) {
		x[i] = xmax * i / (n - 1);
		y[i] = (double)stats_quantile(st, 1 - pow(10, -x[i])) / 1e3;
	}
	y[n - 1] = (double)st->max / 1e3;	/* the last point: the slowest operation */
	html_chart_frame(f, "percentiles", "Latency by percentile", "us",
	    html_chart_max(&sr, 1, (size_t)n));
	for (i = 0; i <= (int)xmax; i++)
		fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f%%"
		    "</text>\n", html_chart_x(i, xmax), H - BOTTOM + 16, i > 2 ? i - 2 : 0,
		    100 * (1 - pow(10, -i)));
	html_chart_line(f, &sr, x, (size_t)n, xmax, html_chart_max(&sr, 1, (size_t)n), 0);
	fputs("</svg></figure>\n", f);
}
