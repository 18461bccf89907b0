/*
 * supervisor_json: the status page's snapshot (struct status_view) filled
 * from the supervisor: the identity, the tally, the rates over the last
 * second, the busiest sources (from the model), the pool, UDP, the duration
 * histogram and the ring of samples. status_json.c and status_html.c render
 * it as /status.json and as the page.
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
#include "service.h"
#include "status.h"

/* "ready", "leaving" (--shutdown-delay) or "draining". */
static const char *
supervisor_json_state(const struct supervisor *sv)
{
	return supervisor_ready(sv) ? "ready" : sv->stage == RUNNING ? "leaving" : "draining";
}

/* version ... listeners: who this is. */
static void
supervisor_json_identity(struct status_view *v, const struct supervisor *sv, int64_t now)
{
	size_t i, nudp = sv->udp.socks != NULL ? sv->udp.socks->n : 0;

	snprintf(v->version, sizeof(v->version), "%s", MPECHO_VERSION);
	snprintf(v->service, sizeof(v->service), "%s", sv->cfg->service->name);
	snprintf(v->model, sizeof(v->model), "%s", sv->model->name);
	snprintf(v->state, sizeof(v->state), "%s", supervisor_json_state(sv));
	v->pid = (long)getpid();
	v->started = (long long)sv->start_unix;
	v->uptime = (double)(now - sv->start_ms) / 1000;
	for (i = 0; i < sv->ls->n + nudp; i++) {
		if (v->nlisteners == STATUS_LISTENERS) {
			v->listeners_more++;
			continue;
		}
		if (i < sv->ls->n)
			snprintf(v->listeners[v->nlisteners++], STATUS_NAME, "%s", sv->ls->v[i].name);
		else
			snprintf(v->listeners[v->nlisteners++], STATUS_NAME, "udp:%s",
			    sv->udp.socks->v[i - sv->ls->n].name);
	}
}

/*
 * A pool listed whole: busy counted in the list, the same reading of the
 * workers' boards (the tally's reading came a moment before, and a worker may
 * have taken or ended a session since: the pool's figures would not add up).
 */
static void
supervisor_json_busy(struct status_view *v)
{
	int i;

	if (v->nworkers == 0 || v->nworkers != v->workers)
		return;
	for (v->busy = i = 0; i < v->nworkers; i++)
		v->busy += v->worker[i].connections > 0;
}

/* sessions ... refused, the pool: the tally; the rates between the two newest samples. */
static void
supervisor_json_tally(struct status_view *v, const struct supervisor *sv, const struct tally *tl)
{
	const struct supervisor_sample *a = supervisor_sample_back(sv, 1), *b = supervisor_sample_back(sv, 0);
	double secs = a != NULL && b->ms > a->ms ? (double)(b->ms - a->ms) / 1000 : 0;

	v->sessions = tl->sessions;
	v->max_conns = sv->cfg->max_conns;
	v->served = tl->served;
	v->bytes_in = tl->bytes_in;
	v->bytes_out = tl->bytes_out;
	v->checks = tl->checks;
	v->fork_failures = tl->fork_failures;
	v->accept_pauses = tl->accept_pauses;
	v->rate_seconds = secs;
	if (secs > 0) {
		v->rate_sessions = (double)(b->served - a->served) / secs;
		v->rate_in = (double)(b->bytes_in - a->bytes_in) / secs;
		v->rate_out = (double)(b->bytes_out - a->bytes_out) / secs;
		v->rate_refused = (double)(b->refused - a->refused) / secs;
	}
	memcpy(v->ended, tl->ended, sizeof(v->ended));
	memcpy(v->refused, tl->refused, sizeof(v->refused));
	memcpy(v->duration, tl->duration, sizeof(v->duration));
	v->duration_ms = tl->duration_ms;
	if ((v->pool = tl->workers >= 0 || sv->model->workers != NULL)) {
		v->workers = tl->workers >= 0 ? tl->workers : sv->tab.live;	/* loop: every child */
		v->busy = tl->sessions;
		v->workers_started = tl->workers_started;
		if (sv->model->workers != NULL)
			v->nworkers = sv->model->workers(&sv->menv, v->worker, STATUS_WORKERS);
		supervisor_json_busy(v);
		v->idle = v->workers - v->busy;
	}
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

	if (*n == STATUS_SOURCES && count[*n - 1] >= c)
		return;		/* not above the last of a full list */
	i = *n < STATUS_SOURCES ? (*n)++ : *n - 1;
	for (; i > 0 && count[i - 1] < c; i--) {
		top[i] = top[i - 1];
		count[i] = count[i - 1];
	}
	top[i] = *a;
	count[i] = c;
}

/*
 * sources: the addresses with the most live sessions (ties: the lower address
 * first); room for every session (a loop worker has many), and the table's
 * children.
 */
static void
supervisor_json_sources(struct status_view *v, const struct supervisor *sv, int sessions)
{
	int count[STATUS_SOURCES] = { 0 }, n = 0, k, i, run, max = sv->tab.size + sessions;
	struct net_addr top[STATUS_SOURCES], *a = calloc((size_t)max + 1, sizeof(*a));

	k = a != NULL ? sv->model->peers(&sv->menv, a, max) : 0;
	qsort(a, (size_t)k, sizeof(*a), supervisor_json_addr_cmp);
	for (i = 0; i < k; i += run) {
		for (run = 1; i + run < k && supervisor_json_addr_cmp(&a[i], &a[i + run]) == 0; run++)
			;
		supervisor_json_rank(top, count, &n, &a[i], run);
	}
	free(a);
	for (i = 0; i < n; i++) {
		inet_ntop(top[i].family, top[i].bytes, v->sources[i].addr, sizeof(v->sources[i].addr));
		v->sources[i].sessions = count[i];
	}
	v->nsources = n;
}

_Static_assert(STATUS_SAMPLES >= SUPERVISOR_SAMPLES, "the view holds the whole ring");

/* UDP's counters, and the ring of samples, oldest first (uptimes to a tenth, as JSON has them). */
static void
supervisor_json_ring(struct status_view *v, const struct supervisor *sv)
{
	const struct supervisor_sample *s;
	int i, k;

	if ((v->udp = sv->udp.counts != NULL))
		for (i = 0; i < UDP_COUNTS; i++)
			v->udp_count[i] = __atomic_load_n(&sv->udp.counts[i], __ATOMIC_RELAXED);
	v->seq = sv->samples_taken;
	for (k = sv->nsamples - 1; k >= 0 && v->nsamples < STATUS_SAMPLES; k--) {
		s = supervisor_sample_back(sv, k);
		v->samples[v->nsamples++] = (struct status_sample){ .seq = s->seq,
		    .uptime = (double)((s->ms - sv->start_ms + 50) / 100) / 10, .sessions = s->sessions,
		    .served = s->served, .bytes_in = s->bytes_in, .bytes_out = s->bytes_out,
		    .refused = s->refused };
	}
}

/* /status.json (json) or the page: a snapshot, rendered. 200, or 503 (out of memory, no CSP). */
int
supervisor_json(const struct supervisor *sv, const struct http_request *r, struct metrics_text *t,
    bool page)
{
	struct status_view *v = calloc(1, sizeof(*v));
	struct tally tl = supervisor_tally(sv);
	int status = 200;

	if (v == NULL)
		return 503;
	supervisor_json_identity(v, sv, clock_ms());
	supervisor_json_tally(v, sv, &tl);
	supervisor_json_sources(v, sv, tl.sessions);
	supervisor_json_ring(v, sv);
	if (!page)
		status_json(v, r->since, t);
	else if (status_html(v, t) < 0)
		status = 503;
	free(v);
	return status;
}
