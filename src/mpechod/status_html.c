/*
 * status_html: the live status page (GET / for a browser), its first view
 * rendered here from a status view so that it reads with scripts off. Every
 * live figure is an element with data-f (its path in /status.json) and
 * data-u (how it is written: r one decimal, b bytes a second, t an uptime, l
 * a list); the page's script (page_asset.c) fills them again each second, and
 * writes them the same way.
 */
#include "status.h"

#include <stdio.h>

#include "page.h"

/* A live figure: <TAG data-f=PATH data-u=U> and its first value (written by the caller). */
static void
status_html_field(struct metrics_text *t, const char *path, const char *u)
{
	metrics_printf(t, "<b data-f=\"%s\"%s%s%s>", path, *u ? " data-u=\"" : "", u, *u ? "\"" : "");
}

/* A row of a two-column table: a name, then a live counter. */
static void
status_html_row(struct metrics_text *t, const char *name, const char *path, uint64_t n)
{
	metrics_printf(t, "<tr><th>%s</th><td>", name);
	status_html_field(t, path, "");
	metrics_printf(t, "%llu</b></td></tr>\n", (unsigned long long)n);
}

/* The title and the server's identity; the line that says whether the view is live. */
static void
status_html_head(const struct status_view *v, struct metrics_text *t)
{
	long long up = (long long)v->uptime;
	int i;

	metrics_printf(t, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<title>mpechod ");
	page_html(t, v->nlisteners > 0 ? v->listeners[0] : v->version);
	metrics_printf(t, ": %s, %s model</title><link rel=\"icon\" href=\"data:,\"><style>%s</style></head>\n"
	    "<body><header><h1>mpechod <b data-f=\"version\">", v->service, v->model, page_style);
	page_html(t, v->version);
	metrics_printf(t, "</b></h1><p>");
	status_html_field(t, "service", "");
	metrics_printf(t, "%s</b> service, ", v->service);
	status_html_field(t, "model", "");
	metrics_printf(t, "%s</b> model, pid ", v->model);
	status_html_field(t, "pid", "");
	metrics_printf(t, "%ld</b>, ", v->pid);
	status_html_field(t, "state", "");
	metrics_printf(t, "%s</b>, up ", v->state);
	status_html_field(t, "uptime", "t");
	metrics_printf(t, "%lldd %02lld:%02lld:%02lld</b></p><p>listening on ", up / 86400,
	    up / 3600 % 24, up / 60 % 60, up % 60);
	status_html_field(t, "listeners", "l");
	for (i = 0; i < v->nlisteners; i++) {
		metrics_printf(t, "%s", i > 0 ? ", " : "");
		page_html(t, v->listeners[i]);
	}
	metrics_printf(t, "</b>%s</p><p id=\"live\">This view was made when the page was asked for; "
	    "with scripts on, it is brought up to date each second.</p></header>\n",
	    v->listeners_more > 0 ? " and more" : "");
}

/* The big figures: live sessions against -c, and the rates over the last second. */
static void
status_html_cards(const struct status_view *v, struct metrics_text *t)
{
	metrics_printf(t, "<section class=\"cards\"><div><h2>live sessions</h2>");
	status_html_field(t, "sessions", "");
	metrics_printf(t, "%d</b> of ", v->sessions);
	status_html_field(t, "max_conns", "");
	metrics_printf(t, "%d</b><meter id=\"load\" min=\"0\" max=\"%d\" value=\"%d\"></meter></div>"
	    "<div><h2>new sessions a second</h2>", v->max_conns, v->max_conns, v->sessions);
	status_html_field(t, "rates.sessions", "r");
	metrics_printf(t, "%.1f</b></div><div><h2>refused a second</h2>", v->rate_sessions);
	status_html_field(t, "rates.refused", "r");
	metrics_printf(t, "%.1f</b></div><div><h2>in</h2>", v->rate_refused);
	status_html_field(t, "rates.bytes_in", "b");
	status_chart_bytes(t, v->rate_in);
	metrics_printf(t, "</b></div><div><h2>out</h2>");
	status_html_field(t, "rates.bytes_out", "b");
	status_chart_bytes(t, v->rate_out);
	metrics_printf(t, "</b></div></section>\n<section class=\"charts\"><h2>the last five minutes</h2>");
	status_chart_all(v, t);
	metrics_printf(t, "</section>\n");
}

/* Totals, and sessions by how they ended. */
static void
status_html_totals(const struct status_view *v, struct metrics_text *t)
{
	char path[32];
	int i;

	metrics_printf(t, "<section class=\"tables\"><table><caption>totals</caption>\n");
	status_html_row(t, "sessions served", "served", v->served);
	status_html_row(t, "bytes in", "bytes_in", v->bytes_in);
	status_html_row(t, "bytes out", "bytes_out", v->bytes_out);
	status_html_row(t, "health checks", "checks", v->checks);
	status_html_row(t, "fork failures", "fork_failures", v->fork_failures);
	status_html_row(t, "accept pauses", "accept_pauses", v->accept_pauses);
	metrics_printf(t, "</table><table><caption>why sessions ended</caption>\n");
	for (i = 0; i < END_REASONS; i++) {
		snprintf(path, sizeof(path), "ended.%s", end_reason_name(i));
		status_html_row(t, end_reason_name(i), path, v->ended[i]);
	}
	metrics_printf(t, "</table>");
}

/* Refusals by reason, and the sources with the most live sessions. */
static void
status_html_refusals(const struct status_view *v, struct metrics_text *t)
{
	char path[32];
	int i;

	metrics_printf(t, "<table><caption>refused, by reason</caption>\n");
	for (i = ADMITTED + 1; i < REFUSAL_COUNT; i++) {
		snprintf(path, sizeof(path), "refused.%s", status_refusal_names[i]);
		status_html_row(t, status_refusal_names[i], path, v->refused[i]);
	}
	metrics_printf(t, "</table><table><caption>busiest sources</caption>"
	    "<thead><tr><th>address</th><th>live sessions</th></tr></thead><tbody id=\"sources\">\n");
	for (i = 0; i < v->nsources; i++)
		metrics_printf(t, "<tr><th>%s</th><td>%d</td></tr>\n", v->sources[i].addr,
		    v->sources[i].sessions);
	metrics_printf(t, "</tbody></table>");
}

/* The pool (hidden for a model without one) and UDP (hidden without UDP listeners). */
static void
status_html_pool(const struct status_view *v, struct metrics_text *t)
{
	static const char *const drop[] = { "port", "acl", "rate", "send", "loop" };
	char path[32], name[32];
	int i;

	metrics_printf(t, "<table data-if=\"pool\"%s><caption>the pool</caption>\n", v->pool ? "" : " hidden");
	status_html_row(t, "workers", "pool.workers", (uint64_t)v->workers);
	status_html_row(t, "busy", "pool.busy", (uint64_t)v->busy);
	status_html_row(t, "idle", "pool.idle", (uint64_t)v->idle);
	status_html_row(t, "started", "pool.started", v->workers_started);
	metrics_printf(t, "<tr><td colspan=\"2\"><div id=\"workers\" class=\"board\">");
	for (i = 0; i < v->nworkers; i++)
		metrics_printf(t, "<span class=\"%s\" title=\"pid %ld: %s, %llu served\">%d</span>",
		    v->worker[i].state, v->worker[i].pid, v->worker[i].state,
		    (unsigned long long)v->worker[i].served, v->worker[i].connections);
	metrics_printf(t, "</div></td></tr></table><table data-if=\"udp\"%s><caption>UDP echo</caption>\n", v->udp ? "" : " hidden");
	status_html_row(t, "datagrams in", "udp.received", v->udp_count[UDP_RECEIVED]);
	status_html_row(t, "sent back", "udp.echoed", v->udp_count[UDP_ECHOED]);
	status_html_row(t, "bytes in", "udp.bytes", v->udp_count[UDP_BYTES]);
	status_html_row(t, "bytes sent back", "udp.echoed_bytes", v->udp_count[UDP_BYTES_ECHOED]);
	for (i = 0; i < (int)(sizeof(drop) / sizeof(drop[0])); i++) {
		snprintf(path, sizeof(path), "udp.dropped.%s", drop[i]);
		snprintf(name, sizeof(name), "dropped: %s", drop[i]);
		status_html_row(t, name, path, v->udp_count[UDP_DROP_PORT + i]);
	}
	metrics_printf(t, "</table>");
}

int
status_html(const struct status_view *v, struct metrics_text *t)
{
	const char *headers = page_headers();
	uint64_t total = 0;
	int i;

	if (headers == NULL)
		return -1;
	t->type = "text/html; charset=utf-8";
	t->headers = headers;
	for (i = 0; i < END_BUCKETS; i++)
		total += v->duration[i];
	status_html_head(v, t);
	status_html_cards(v, t);
	status_html_totals(v, t);
	status_html_refusals(v, t);
	status_html_pool(v, t);
	metrics_printf(t, "<figure><figcaption>session durations (");
	status_html_field(t, "duration.total", "");
	metrics_printf(t, "%llu</b> sessions)</figcaption>", (unsigned long long)total);
	status_chart_histogram(v, t);
	metrics_printf(t, "</figure></section>\n<footer>mpechod's live status, from <a href=\"status.json\">"
	    "/status.json</a> each second; <a href=\"metrics\">/metrics</a> for Prometheus.</footer>"
	    "<script>%s</script></body></html>\n", page_script);
	return 0;
}
