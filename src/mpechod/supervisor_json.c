/*
 * supervisor_json: /status.json, the figures behind the live status page,
 * read once a second by the page itself: the identity, the tally, the rates
 * over the last second, the busiest sources, the pool, UDP, the duration
 * histogram, and the ring of samples its charts draw (?since=N: only the
 * samples after the Nth). README lists every field.
 */
#include "supervisor.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "listener.h"
#include "model.h"
#include "mpecho.h"
#include "options.h"
#include "page.h"
#include "service.h"
#include "udp.h"

#define SUPERVISOR_JSON_SOURCES 5	/* the busiest sources listed */

static const char *const supervisor_json_refusals[REFUSAL_COUNT] = {
	[REFUSED_ACL] = "acl", [REFUSED_PER_SOURCE] = "per-source", [REFUSED_RATE] = "rate",
	[REFUSED_PROXY] = "proxy",
};

/* "ready", "leaving" (--shutdown-delay) or "draining". */
static const char *
supervisor_json_state(const struct supervisor *sv)
{
	return supervisor_ready(sv) ? "ready" : sv->stage == RUNNING ? "leaving" : "draining";
}

/* version ... listeners: who this is. */
static void
supervisor_json_identity(struct metrics_text *t, const struct supervisor *sv, int64_t now)
{
	size_t i;
	char name[LISTENER_NAME_MAX + 8];

	metrics_printf(t, "{\"version\":\"%s\",\"pid\":%ld,\"service\":\"%s\",\"model\":\"%s\","
	    "\"state\":\"%s\",\"started\":%lld,\"uptime\":%.1f,\"listeners\":[", MPECHO_VERSION,
	    (long)getpid(), sv->cfg->service->name, sv->model->name, supervisor_json_state(sv),
	    (long long)sv->start_unix, (double)(now - sv->start_ms) / 1000);
	for (i = 0; i < sv->ls->n; i++) {
		metrics_printf(t, "%s", i > 0 ? "," : "");
		page_json_string(t, sv->ls->v[i].name);
	}
	for (i = 0; sv->udp.socks != NULL && i < sv->udp.socks->n; i++) {
		snprintf(name, sizeof(name), "udp:%s", sv->udp.socks->v[i].name);
		metrics_printf(t, "%s", i > 0 || sv->ls->n > 0 ? "," : "");
		page_json_string(t, name);
	}
	metrics_printf(t, "],");
}

/* sessions ... refused: the tally, and the rates between the two newest samples. */
static void
supervisor_json_tally(struct metrics_text *t, const struct supervisor *sv, const struct tally *tl)
{
	const struct supervisor_sample *a = supervisor_sample_back(sv, 1), *b = supervisor_sample_back(sv, 0);
	double secs = a != NULL && b->ms > a->ms ? (double)(b->ms - a->ms) / 1000 : 0;
	int i;

	metrics_printf(t, "\"sessions\":%d,\"max_conns\":%d,\"served\":%llu,\"bytes_in\":%llu,"
	    "\"bytes_out\":%llu,\"checks\":%llu,\"fork_failures\":%llu,\"accept_pauses\":%llu,",
	    tl->sessions, sv->cfg->max_conns, (unsigned long long)tl->served,
	    (unsigned long long)tl->bytes_in, (unsigned long long)tl->bytes_out,
	    (unsigned long long)tl->checks, (unsigned long long)tl->fork_failures,
	    (unsigned long long)tl->accept_pauses);
	metrics_printf(t, "\"rates\":{\"seconds\":%.3f,\"sessions\":%.1f,\"bytes_in\":%.0f,"
	    "\"bytes_out\":%.0f,\"refused\":%.1f},", secs,
	    secs > 0 ? (double)(b->served - a->served) / secs : 0.0,
	    secs > 0 ? (double)(b->bytes_in - a->bytes_in) / secs : 0.0,
	    secs > 0 ? (double)(b->bytes_out - a->bytes_out) / secs : 0.0,
	    secs > 0 ? (double)(b->refused - a->refused) / secs : 0.0);
	metrics_printf(t, "\"ended\":{");
	for (i = 0; i < END_REASONS; i++)
		metrics_printf(t, "%s\"%s\":%llu", i > 0 ? "," : "", end_reason_name(i),
		    (unsigned long long)tl->ended[i]);
	metrics_printf(t, "},\"refused\":{");
	for (i = ADMITTED + 1; i < REFUSAL_COUNT; i++)
		metrics_printf(t, "%s\"%s\":%llu", i > ADMITTED + 1 ? "," : "", supervisor_json_refusals[i],
		    (unsigned long long)tl->refused[i]);
	metrics_printf(t, "},");
}

static int
supervisor_json_addr_cmp(const void *a, const void *b)
{
	const struct net_addr *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

/* One source and its live sessions, into the top list (most first) if it belongs there. */
static void
supervisor_json_rank(struct net_addr *top, int *count, int *n, const struct net_addr *a, int c)
{
	int i;

	if (*n == SUPERVISOR_JSON_SOURCES && count[*n - 1] >= c)
		return;		/* not above the last of a full list */
	i = *n < SUPERVISOR_JSON_SOURCES ? (*n)++ : *n - 1;
	for (; i > 0 && count[i - 1] < c; i--) {
		top[i] = top[i - 1];
		count[i] = count[i - 1];
	}
	top[i] = *a;
	count[i] = c;
}

/* sources: the addresses with the most live sessions (ties: the lower address first). */
static void
supervisor_json_sources(struct metrics_text *t, const struct supervisor *sv)
{
	struct net_addr top[SUPERVISOR_JSON_SOURCES], *v = calloc((size_t)sv->tab.size + 1, sizeof(*v));
	int count[SUPERVISOR_JSON_SOURCES] = { 0 }, n = 0, k, i, run;
	char text[INET6_ADDRSTRLEN];

	k = v != NULL ? sv->model->peers(sv, v, sv->tab.size) : 0;
	qsort(v, (size_t)k, sizeof(*v), supervisor_json_addr_cmp);
	for (i = 0; i < k; i += run) {
		for (run = 1; i + run < k && supervisor_json_addr_cmp(&v[i], &v[i + run]) == 0; run++)
			;
		supervisor_json_rank(top, count, &n, &v[i], run);
	}
	free(v);
	metrics_printf(t, "\"sources\":[");
	for (i = 0; i < n; i++) {
		inet_ntop(top[i].family, top[i].bytes, text, sizeof(text));
		metrics_printf(t, "%s{\"addr\":\"%s\",\"sessions\":%d}", i > 0 ? "," : "", text, count[i]);
	}
	metrics_printf(t, "],");
}

/* pool (prefork's workers; null for the fork model) and udp (null without UDP listeners). */
static void
supervisor_json_pool(struct metrics_text *t, const struct supervisor *sv, const struct tally *tl)
{
	uint64_t c[UDP_COUNTS];
	int i;

	if (tl->workers >= 0)
		metrics_printf(t, "\"pool\":{\"workers\":%d,\"busy\":%d,\"idle\":%d,\"started\":%llu},",
		    tl->workers, tl->sessions, tl->workers - tl->sessions,
		    (unsigned long long)tl->workers_started);
	else
		metrics_printf(t, "\"pool\":null,");
	if (sv->udp.counts == NULL) {
		metrics_printf(t, "\"udp\":null,");
		return;
	}
	for (i = 0; i < UDP_COUNTS; i++)
		c[i] = __atomic_load_n(&sv->udp.counts[i], __ATOMIC_RELAXED);
	metrics_printf(t, "\"udp\":{\"received\":%llu,\"echoed\":%llu,\"bytes\":%llu,\"dropped\":"
	    "{\"port\":%llu,\"acl\":%llu,\"rate\":%llu,\"send\":%llu,\"loop\":%llu}},",
	    (unsigned long long)c[UDP_RECEIVED], (unsigned long long)c[UDP_ECHOED],
	    (unsigned long long)c[UDP_BYTES], (unsigned long long)c[UDP_DROP_PORT],
	    (unsigned long long)c[UDP_DROP_ACL], (unsigned long long)c[UDP_DROP_RATE],
	    (unsigned long long)c[UDP_DROP_SEND], (unsigned long long)c[UDP_DROP_LOOP]);
}

/* duration: the histogram, a count per bucket (not cumulative), the last bucket's bound null. */
static void
supervisor_json_duration(struct metrics_text *t, const struct tally *tl)
{
	uint64_t total = 0;
	int i;

	metrics_printf(t, "\"duration\":{\"le\":[");
	for (i = 0; i < END_BUCKETS - 1; i++)
		metrics_printf(t, "%g,", (double)end_bucket_ms[i] / 1000);
	metrics_printf(t, "null],\"count\":[");
	for (i = 0; i < END_BUCKETS; i++) {
		metrics_printf(t, "%s%llu", i > 0 ? "," : "", (unsigned long long)tl->duration[i]);
		total += tl->duration[i];
	}
	metrics_printf(t, "],\"sum\":%.3f,\"total\":%llu},", (double)tl->duration_ms / 1000,
	    (unsigned long long)total);
}

/* history: the samples after since, oldest first, each [seq, uptime, sessions, served, in, out, refused]. */
static void
supervisor_json_history(struct metrics_text *t, const struct supervisor *sv, int64_t since)
{
	const struct supervisor_sample *s;
	int k, first = 1;

	metrics_printf(t, "\"history\":{\"interval\":1,\"seq\":%llu,\"fields\":[\"seq\",\"uptime\","
	    "\"sessions\",\"served\",\"bytes_in\",\"bytes_out\",\"refused\"],\"samples\":[",
	    (unsigned long long)sv->samples_taken);
	for (k = sv->nsamples - 1; k >= 0; k--) {
		s = supervisor_sample_back(sv, k);
		if (since >= 0 && s->seq <= (uint64_t)since)
			continue;
		metrics_printf(t, "%s[%llu,%.1f,%d,%llu,%llu,%llu,%llu]", first ? "" : ",",
		    (unsigned long long)s->seq, (double)(s->ms - sv->start_ms) / 1000, s->sessions,
		    (unsigned long long)s->served, (unsigned long long)s->bytes_in,
		    (unsigned long long)s->bytes_out, (unsigned long long)s->refused);
		first = 0;
	}
	metrics_printf(t, "]}}\n");
}

void
supervisor_json(const struct supervisor *sv, const struct http_request *r, struct metrics_text *t)
{
	struct tally tl = supervisor_tally(sv);
	int64_t now = clock_ms();

	t->type = "application/json";
	t->headers = "Cache-Control: no-store\r\n";
	supervisor_json_identity(t, sv, now);
	supervisor_json_tally(t, sv, &tl);
	supervisor_json_sources(t, sv);
	supervisor_json_pool(t, sv, &tl);
	supervisor_json_duration(t, &tl);
	supervisor_json_history(t, sv, r->since);
}
