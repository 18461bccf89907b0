/*
 * status_json: /status.json from a status view: the identity, the tally, the
 * rates over the last second, the busiest sources, the pool, UDP, the
 * duration histogram, and the ring of samples the page's charts draw
 * (?since=N: only the samples after the Nth). README lists every field.
 */
#include "status.h"

#include "page.h"

const char *const status_refusal_names[REFUSAL_COUNT] = {
	[REFUSED_ACL] = "acl", [REFUSED_PER_SOURCE] = "per-source", [REFUSED_RATE] = "rate",
	[REFUSED_PROXY] = "proxy",
};

/* version ... listeners: who this is. */
static void
status_json_identity(const struct status_view *v, struct metrics_text *t)
{
	int i;

	metrics_printf(t, "{\"version\":");
	page_json_string(t, v->version);
	metrics_printf(t, ",\"pid\":%ld,\"service\":\"%s\",\"model\":\"%s\",\"state\":\"%s\","
	    "\"started\":%lld,\"uptime\":%.1f,\"listeners\":[", v->pid, v->service, v->model,
	    v->state, v->started, v->uptime);
	for (i = 0; i < v->nlisteners; i++) {
		metrics_printf(t, "%s", i > 0 ? "," : "");
		page_json_string(t, v->listeners[i]);
	}
	metrics_printf(t, "],\"listeners_more\":%d,", v->listeners_more);
}

/* sessions ... refused: the tally, and the rates between the two newest samples. */
static void
status_json_tally(const struct status_view *v, struct metrics_text *t)
{
	int i;

	metrics_printf(t, "\"sessions\":%d,\"max_conns\":%d,\"served\":%llu,\"bytes_in\":%llu,"
	    "\"bytes_out\":%llu,\"checks\":%llu,\"fork_failures\":%llu,\"accept_pauses\":%llu,",
	    v->sessions, v->max_conns, (unsigned long long)v->served,
	    (unsigned long long)v->bytes_in, (unsigned long long)v->bytes_out,
	    (unsigned long long)v->checks, (unsigned long long)v->fork_failures,
	    (unsigned long long)v->accept_pauses);
	metrics_printf(t, "\"rates\":{\"seconds\":%.3f,\"sessions\":%.1f,\"bytes_in\":%.0f,"
	    "\"bytes_out\":%.0f,\"refused\":%.1f},", v->rate_seconds, v->rate_sessions, v->rate_in,
	    v->rate_out, v->rate_refused);
	metrics_printf(t, "\"ended\":{");
	for (i = 0; i < END_REASONS; i++)
		metrics_printf(t, "%s\"%s\":%llu", i > 0 ? "," : "", end_reason_name(i),
		    (unsigned long long)v->ended[i]);
	metrics_printf(t, "},\"refused\":{");
	for (i = ADMITTED + 1; i < REFUSAL_COUNT; i++)
		metrics_printf(t, "%s\"%s\":%llu", i > ADMITTED + 1 ? "," : "", status_refusal_names[i],
		    (unsigned long long)v->refused[i]);
	metrics_printf(t, "},\"sources\":[");
	for (i = 0; i < v->nsources; i++)
		metrics_printf(t, "%s{\"addr\":\"%s\",\"sessions\":%d}", i > 0 ? "," : "",
		    v->sources[i].addr, v->sources[i].sessions);
	metrics_printf(t, "],");
}

/* pool (null for a model without workers) and udp (null without UDP listeners). */
static void
status_json_pool(const struct status_view *v, struct metrics_text *t)
{
	const uint64_t *c = v->udp_count;

	int i;

	if (v->pool) {
		metrics_printf(t, "\"pool\":{\"workers\":%d,\"busy\":%d,\"idle\":%d,\"started\":%llu,"
		    "\"list\":[", v->workers, v->busy, v->idle, (unsigned long long)v->workers_started);
		for (i = 0; i < v->nworkers; i++)
			metrics_printf(t, "%s{\"pid\":%ld,\"state\":\"%s\",\"connections\":%d,\"served\":%llu}",
			    i > 0 ? "," : "", v->worker[i].pid, v->worker[i].state, v->worker[i].connections,
			    (unsigned long long)v->worker[i].served);
		metrics_printf(t, "]},");
	} else {
		metrics_printf(t, "\"pool\":null,");
	}
	if (!v->udp) {
		metrics_printf(t, "\"udp\":null,");
		return;
	}
	metrics_printf(t, "\"udp\":{\"received\":%llu,\"echoed\":%llu,\"bytes\":%llu,\"echoed_bytes\":%llu,"
	    "\"dropped\":{\"port\":%llu,\"acl\":%llu,\"rate\":%llu,\"send\":%llu,\"loop\":%llu}},",
	    (unsigned long long)c[UDP_RECEIVED], (unsigned long long)c[UDP_ECHOED],
	    (unsigned long long)c[UDP_BYTES], (unsigned long long)c[UDP_BYTES_ECHOED],
	    (unsigned long long)c[UDP_DROP_PORT], (unsigned long long)c[UDP_DROP_ACL],
	    (unsigned long long)c[UDP_DROP_RATE], (unsigned long long)c[UDP_DROP_SEND],
	    (unsigned long long)c[UDP_DROP_LOOP]);
}

/* duration: the histogram, a count per bucket (not cumulative), the last bucket's bound null. */
static void
status_json_duration(const struct status_view *v, struct metrics_text *t)
{
	uint64_t total = 0;
	int i;

	metrics_printf(t, "\"duration\":{\"le\":[");
	for (i = 0; i < END_BUCKETS - 1; i++)
		metrics_printf(t, "%g,", (double)end_bucket_ms[i] / 1000);
	metrics_printf(t, "null],\"count\":[");
	for (i = 0; i < END_BUCKETS; i++) {
		metrics_printf(t, "%s%llu", i > 0 ? "," : "", (unsigned long long)v->duration[i]);
		total += v->duration[i];
	}
	metrics_printf(t, "],\"sum\":%.3f,\"total\":%llu},", (double)v->duration_ms / 1000,
	    (unsigned long long)total);
}

/* history: the samples after since, oldest first, each [seq, uptime, sessions, served, in, out, refused]. */
static void
status_json_history(const struct status_view *v, int64_t since, struct metrics_text *t)
{
	const struct status_sample *s;
	int i, first = 1;

	metrics_printf(t, "\"history\":{\"interval\":1,\"seq\":%llu,\"fields\":[\"seq\",\"uptime\","
	    "\"sessions\",\"served\",\"bytes_in\",\"bytes_out\",\"refused\"],\"samples\":[",
	    (unsigned long long)v->seq);
	for (i = 0; i < v->nsamples; i++) {
		s = &v->samples[i];
		if (since >= 0 && s->seq <= (uint64_t)since)
			continue;
		metrics_printf(t, "%s[%llu,%.1f,%d,%llu,%llu,%llu,%llu]", first ? "" : ",",
		    (unsigned long long)s->seq, s->uptime, s->sessions, (unsigned long long)s->served,
		    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
		    (unsigned long long)s->refused);
		first = 0;
	}
	metrics_printf(t, "]}}\n");
}

void
status_json(const struct status_view *v, int64_t since, struct metrics_text *t)
{
	t->type = "application/json";
	t->headers = "Cache-Control: no-store\r\n";
	status_json_identity(v, t);
	status_json_tally(v, t);
	status_json_pool(v, t);
	status_json_duration(v, t);
	status_json_history(v, since, t);
}
