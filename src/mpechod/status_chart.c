/*
 * status_chart: the status page's SVG pictures, drawn on the server for its
 * first view: the last five minutes as lines (live sessions; new sessions
 * and refusals a second; bytes a second in and out) and the session-duration
 * histogram as bars. The page's script redraws them the same way each second:
 * x is the sample's place from the right (the newest at STATUS_CHART_W), y the
 * value against a round top, one decimal.
 */
#include "status.h"

#include <stddef.h>
#include <string.h>

#define STATUS_CHART_W (STATUS_SAMPLES - 1)	/* viewBox width: a unit a second */
#define STATUS_CHART_H 100
#define STATUS_BAR_W 30				/* the histogram: a bar's room */

/*
 * A series: live sessions (off 0), or a counter of struct status_sample (its
 * offset) a second, between a sample and the one before.
 */
static double
status_chart_value(size_t off, const struct status_sample *a, const struct status_sample *b)
{
	uint64_t x, y;

	if (off == 0)
		return b->sessions;
	memcpy(&x, (const char *)a + off, sizeof(x));
	memcpy(&y, (const char *)b + off, sizeof(y));
	return (double)(y - x) / (b->uptime - a->uptime);
}

/* The smallest of 1, 2, 5 times a power of ten that is at least max (1 for nothing). */
double
status_chart_top(double max)
{
	double p = 1;

	if (!(max > 0))
		return 1;
	while (p * 10 <= max)
		p *= 10;
	while (p > max)
		p /= 10;
	return max <= p ? p : max <= 2 * p ? 2 * p : max <= 5 * p ? 5 * p : 10 * p;
}

/* Bytes a second as a person reads them: "512 B/s", "1.5 kB/s", "2.0 MB/s" (as the script does). */
void
status_chart_bytes(struct metrics_text *t, double v)
{
	static const char *const unit[] = { "B/s", "kB/s", "MB/s", "GB/s", "TB/s" };
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	metrics_printf(t, i > 0 ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

/* One chart: its series (at most two) as polylines over a common top (bytes: written as such). */
static void
status_chart(const struct status_view *v, struct metrics_text *t, const char *id, const char *title,
    const size_t *f, int nf)
{
	const struct status_sample *s = v->samples;
	double max = 0, top;
	int i, k;

	for (k = 0; k < nf; k++)
		for (i = 1; i < v->nsamples; i++)
			if (status_chart_value(f[k], &s[i - 1], &s[i]) > max)
				max = status_chart_value(f[k], &s[i - 1], &s[i]);
	top = status_chart_top(max);
	metrics_printf(t, "<figure><figcaption>%s <span class=\"top\" id=\"%s-top\">", title, id);
	if (f[0] == offsetof(struct status_sample, bytes_in))
		status_chart_bytes(t, top);
	else
		metrics_printf(t, "%g", top);
	metrics_printf(t, "</span></figcaption><svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %d %d\" "
	    "preserveAspectRatio=\"none\" data-top=\"%g\" data-seq=\"%llu\" role=\"img\" "
	    "aria-label=\"%s\">", id, STATUS_CHART_W, STATUS_CHART_H, top, (unsigned long long)v->seq, title);
	for (k = 0; k < nf; k++) {
		metrics_printf(t, "<polyline class=\"s%d\" vector-effect=\"non-scaling-stroke\" points=\"", k);
		for (i = 1; i < v->nsamples; i++)
			metrics_printf(t, "%s%d,%.1f", i > 1 ? " " : "",
			    STATUS_CHART_W - (int)(v->seq - s[i].seq),
			    STATUS_CHART_H - status_chart_value(f[k], &s[i - 1], &s[i]) / top * STATUS_CHART_H);
		metrics_printf(t, "\"/>");
	}
	metrics_printf(t, "</svg><div class=\"axis\"><span>5 min ago</span><span>now</span></div></figure>\n");
}

void
status_chart_all(const struct status_view *v, struct metrics_text *t)
{
	static const size_t sessions[] = { 0 };
	static const size_t rates[] = { offsetof(struct status_sample, served),
	    offsetof(struct status_sample, refused) };
	static const size_t bytes[] = { offsetof(struct status_sample, bytes_in),
	    offsetof(struct status_sample, bytes_out) };

	status_chart(v, t, "chart-sessions", "live sessions", sessions, 1);
	status_chart(v, t, "chart-rates", "new sessions (and refused) a second", rates, 2);
	status_chart(v, t, "chart-bytes", "bytes a second, in (and out)", bytes, 2);
}

/* A bucket's bound as a label: "<=1ms" ... "<=1h", the last one "more". */
static void
status_chart_bound(struct metrics_text *t, int i)
{
	int64_t ms = i < END_BUCKETS - 1 ? end_bucket_ms[i] : -1;

	if (ms < 0)
		metrics_printf(t, "more");
	else if (ms < 1000)
		metrics_printf(t, "&le;%lldms", (long long)ms);
	else if (ms < 60000)
		metrics_printf(t, "&le;%llds", (long long)(ms / 1000));
	else if (ms < 3600000)
		metrics_printf(t, "&le;%lldmin", (long long)(ms / 60000));
	else
		metrics_printf(t, "&le;%lldh", (long long)(ms / 3600000));
}

/* The duration histogram: a bar per bucket, its count above it, its bound below. */
void
status_chart_histogram(const struct status_view *v, struct metrics_text *t)
{
	uint64_t max = 0;
	double top, h;
	int i;

	for (i = 0; i < END_BUCKETS; i++)
		max = v->duration[i] > max ? v->duration[i] : max;
	top = status_chart_top((double)max);
	metrics_printf(t, "<svg id=\"histogram\" class=\"bars\" viewBox=\"0 0 %d %d\" data-top=\"%g\" "
	    "role=\"img\" aria-label=\"session durations\">", STATUS_BAR_W * END_BUCKETS,
	    STATUS_CHART_H + 24, top);
	for (i = 0; i < END_BUCKETS; i++) {
		h = (double)v->duration[i] / top * STATUS_CHART_H;
		metrics_printf(t, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\"/>"
		    "<text class=\"n\" x=\"%d\" y=\"%.1f\">%llu</text><text x=\"%d\" y=\"%d\">",
		    i * STATUS_BAR_W + 3, 10 + STATUS_CHART_H - h, STATUS_BAR_W - 6, h,
		    i * STATUS_BAR_W + STATUS_BAR_W / 2, 8 + STATUS_CHART_H - h,
		    (unsigned long long)v->duration[i], i * STATUS_BAR_W + STATUS_BAR_W / 2,
		    STATUS_CHART_H + 22);
		status_chart_bound(t, i);
		metrics_printf(t, "</text>");
	}
	metrics_printf(t, "</svg>\n");
}
