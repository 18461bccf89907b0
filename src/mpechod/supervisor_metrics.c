/*
 * supervisor_metrics: what the --metrics endpoint answers. /metrics is the
 * Prometheus text format (0.0.4): counters never go backwards (nothing resets
 * them, SIGHUP included); / is a summary a person reads with curl (a browser
 * gets the status page: supervisor_json.c). The byte counters are the ones
 * sessions already publish: nothing is added to the data path for them. The same figures make the status line (SIGUSR1) and the
 * service manager's STATUS=.
 */
#include "supervisor.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "model.h"
#include "mpecho.h"
#include "options.h"
#include "procstat.h"
#include "service.h"
#include "status.h"

/* One metric's HELP and TYPE lines. */
static void
supervisor_metric(struct metrics_text *t, const char *name, const char *type, const char *help)
{
	metrics_printf(t, "# HELP mpechod_%s %s\n# TYPE mpechod_%s %s\n", name, help, name, type);
}

static void
supervisor_metrics_sessions(struct metrics_text *t, const struct tally *tl, int limit)
{
	uint64_t cum = 0, count = 0;
	int i;

	supervisor_metric(t, "sessions", "gauge", "Sessions being served now.");
	metrics_printf(t, "mpechod_sessions %d\n", tl->sessions);
	supervisor_metric(t, "sessions_limit", "gauge", "The most sessions served at once (-c).");
	metrics_printf(t, "mpechod_sessions_limit %d\n", limit);
	supervisor_metric(t, "sessions_ended_total", "counter", "Sessions that ended, by how.");
	for (i = 0; i < END_REASONS; i++) {
		metrics_printf(t, "mpechod_sessions_ended_total{reason=\"%s\"} %llu\n", end_reason_name(i),
		    (unsigned long long)tl->ended[i]);
		count += tl->ended[i];
	}
	supervisor_metric(t, "session_duration_seconds", "histogram", "How long sessions lasted.");
	for (i = 0; i < END_BUCKETS - 1; i++) {
		cum += tl->duration[i];
		metrics_printf(t, "mpechod_session_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    (double)end_bucket_ms[i] / 1000, (unsigned long long)cum);
	}
	metrics_printf(t, "mpechod_session_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "mpechod_session_duration_seconds_sum %.3f\nmpechod_session_duration_seconds_count %llu\n",
	    (unsigned long long)(cum + tl->duration[END_BUCKETS - 1]), (double)tl->duration_ms / 1000,
	    (unsigned long long)count);
}

static void
supervisor_metrics_traffic(struct metrics_text *t, const struct tally *tl)
{
	int i;

	supervisor_metric(t, "connections_refused_total", "counter",
	    "Connections closed without a session, by why.");
	for (i = ADMITTED + 1; i < REFUSAL_COUNT; i++)
		metrics_printf(t, "mpechod_connections_refused_total{reason=\"%s\"} %llu\n",
		    status_refusal_names[i], (unsigned long long)tl->refused[i]);
	supervisor_metric(t, "health_checks_total", "counter", "Load balancer health checks.");
	metrics_printf(t, "mpechod_health_checks_total %llu\n", (unsigned long long)tl->checks);
	supervisor_metric(t, "received_bytes_total", "counter", "Bytes received from clients.");
	metrics_printf(t, "mpechod_received_bytes_total %llu\n", (unsigned long long)tl->bytes_in);
	supervisor_metric(t, "sent_bytes_total", "counter", "Bytes sent to clients.");
	metrics_printf(t, "mpechod_sent_bytes_total %llu\n", (unsigned long long)tl->bytes_out);
	supervisor_metric(t, "fork_failures_total", "counter", "fork() calls that failed.");
	metrics_printf(t, "mpechod_fork_failures_total %llu\n", (unsigned long long)tl->fork_failures);
	supervisor_metric(t, "accept_pauses_total", "counter",
	    "Times accepting rested: out of descriptors or memory.");
	metrics_printf(t, "mpechod_accept_pauses_total %llu\n", (unsigned long long)tl->accept_pauses);
}

static void
supervisor_metrics_process(struct metrics_text *t, const struct supervisor *sv, const struct tally *tl)
{
	if (tl->workers >= 0) {
		supervisor_metric(t, "workers", "gauge", "Prefork workers, by state.");
		metrics_printf(t, "mpechod_workers{state=\"busy\"} %d\nmpechod_workers{state=\"idle\"} %d\n",
		    tl->sessions, tl->workers - tl->sessions);
		supervisor_metric(t, "workers_started_total", "counter", "Prefork workers started.");
		metrics_printf(t, "mpechod_workers_started_total %llu\n", (unsigned long long)tl->workers_started);
	}
	if (sv->model->metrics != NULL)
		sv->model->metrics(&sv->menv, t);
	supervisor_metric(t, "start_time_seconds", "gauge", "When the server started, in Unix time.");
	metrics_printf(t, "mpechod_start_time_seconds %lld\n", (long long)sv->start_unix);
	supervisor_metric(t, "build_info", "gauge", "The version, service and process model; always 1.");
	metrics_printf(t, "mpechod_build_info{version=\"%s\",service=\"%s\",model=\"%s\"} 1\n",
	    MPECHO_VERSION, sv->cfg->service->name, sv->model->name);
}

/* process_*: the supervisor's own figures, named as Prometheus client libraries name them. */
static void
supervisor_metrics_os(struct metrics_text *t)
{
	struct procstat ps;

	if (procstat_read(&ps) < 0)
		return;
	metrics_printf(t, "# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
	    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
	    "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %" PRIu64 "\n"
	    "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
	    "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %" PRIu64 "\n"
	    "# HELP process_open_fds Open file descriptors.\n"
	    "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n"
	    "# HELP process_max_fds The most file descriptors that may be open.\n"
	    "# TYPE process_max_fds gauge\nprocess_max_fds %ld\n"
	    "# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n",
	    ps.cpu_seconds, ps.resident_bytes, ps.virtual_bytes, ps.open_fds, ps.max_fds, ps.start_time);
}

const struct supervisor_sample *
supervisor_sample_back(const struct supervisor *sv, int k)
{
	if (sv->nsamples == 0)
		return NULL;
	if (k >= sv->nsamples)
		k = sv->nsamples - 1;
	return &sv->samples[(sv->next_sample - 1 - k + 2 * SUPERVISOR_SAMPLES) % SUPERVISOR_SAMPLES];
}

static void
supervisor_summary(struct metrics_text *t, const struct supervisor *sv, const struct tally *tl)
{
	int64_t up = (clock_ms() - sv->start_ms) / 1000;
	uint64_t refused = tally_refused(tl);
	const struct supervisor_sample *s = supervisor_sample_back(sv, 59);
	double secs = s != NULL ? (double)(clock_ms() - s->ms) / 1000 : 0;

	metrics_printf(t, "mpechod %s: %s service, %s model, pid %ld, up %lldd %02lld:%02lld:%02lld\n",
	    MPECHO_VERSION, sv->cfg->service->name, sv->model->name, (long)getpid(),
	    (long long)(up / 86400), (long long)(up / 3600 % 24), (long long)(up / 60 % 60),
	    (long long)(up % 60));
	metrics_printf(t, "sessions: %d now, limit %d\n", tl->sessions, sv->cfg->max_conns);
	metrics_printf(t, "served: %llu sessions, %llu bytes in, %llu bytes out\n",
	    (unsigned long long)tl->served, (unsigned long long)tl->bytes_in,
	    (unsigned long long)tl->bytes_out);
	if (s != NULL && secs > 0)
		metrics_printf(t, "last %.1f s: %.1f sessions/s, %.0f bytes/s in, %.0f bytes/s out, "
		    "%.1f refused/s\n", secs, (double)(tl->served - s->served) / secs,
		    (double)(tl->bytes_in - s->bytes_in) / secs, (double)(tl->bytes_out - s->bytes_out) / secs,
		    (double)(refused - s->refused) / secs);
	metrics_printf(t, "refused: acl %llu, per-source %llu, rate %llu, proxy %llu; health checks %llu\n",
	    (unsigned long long)tl->refused[REFUSED_ACL], (unsigned long long)tl->refused[REFUSED_PER_SOURCE],
	    (unsigned long long)tl->refused[REFUSED_RATE], (unsigned long long)tl->refused[REFUSED_PROXY],
	    (unsigned long long)tl->checks);
}

/*
 * /healthz: this answer is the loop turning. /readyz: whether new clients are
 * taken (503 once leaving or draining). Neither looks at the tally: probes
 * come every few seconds from every balancer and node, and cost nothing.
 */
static int
supervisor_probe(const struct supervisor *sv, enum http_page page, struct metrics_text *t)
{
	if (page == HTTP_PAGE_HEALTHZ) {
		metrics_printf(t, "ok\n");
		return 200;
	}
	if (supervisor_ready(sv)) {
		metrics_printf(t, "ready\n");
		return 200;
	}
	metrics_printf(t, "%s\n", sv->stage == RUNNING ? "leaving" : "draining");
	return 503;
}

int
supervisor_metrics_render(void *ctx, const struct http_request *r, struct metrics_text *t)
{
	const struct supervisor *sv = ctx;
	struct tally tl;

	if (r->page == HTTP_PAGE_HEALTHZ || r->page == HTTP_PAGE_READYZ)
		return supervisor_probe(sv, r->page, t);
	if (r->page == HTTP_PAGE_STATUS || (r->page == HTTP_PAGE_SUMMARY && r->html))
		return supervisor_json(sv, r, t, r->page == HTTP_PAGE_SUMMARY);
	tl = supervisor_tally(sv);
	if (r->page == HTTP_PAGE_SUMMARY) {
		supervisor_summary(t, sv, &tl);
		return 200;
	}
	t->type = "text/plain; version=0.0.4; charset=utf-8";
	supervisor_metrics_sessions(t, &tl, sv->cfg->max_conns);
	supervisor_metrics_traffic(t, &tl);
	supervisor_udp_metrics(sv, t);
	supervisor_metrics_process(t, sv, &tl);
	supervisor_metrics_os(t);
	return 200;
}

/* The newest ring entry, taken at now: the counts, the live sessions. */
void
supervisor_metrics_sample(struct supervisor *sv, int64_t now)
{
	struct tally tl = supervisor_tally(sv);
	struct supervisor_sample *s = &sv->samples[sv->next_sample];

	*s = (struct supervisor_sample){ .ms = now, .seq = ++sv->samples_taken, .sessions = tl.sessions,
	    .served = tl.served, .bytes_in = tl.bytes_in, .bytes_out = tl.bytes_out,
	    .refused = tally_refused(&tl) };
	sv->next_sample = (sv->next_sample + 1) % SUPERVISOR_SAMPLES;
	if (sv->nsamples < SUPERVISOR_SAMPLES)
		sv->nsamples++;
	sv->sample_ms = now + 1000;
}

/* SIGUSR1: one line with the counters of both models, live sessions' bytes included. */
void
supervisor_status(const struct supervisor *sv)
{
	supervisor_udp_signal(sv, SIGUSR1);	/* the UDP process logs its own summary */
	struct tally t = supervisor_tally(sv);
	char pool[32] = "";

	if (t.workers >= 0)
		snprintf(pool, sizeof(pool), " workers=%d", t.workers);
	log_msg(LOG_LVL_NOTICE, "event=status sessions=%d served=%llu refused_acl=%llu "
	    "refused_per_source=%llu refused_rate=%llu refused_proxy=%llu checks=%llu in=%llu "
	    "out=%llu uptime=%lld%s", t.sessions, (unsigned long long)t.served,
	    (unsigned long long)t.refused[REFUSED_ACL], (unsigned long long)t.refused[REFUSED_PER_SOURCE],
	    (unsigned long long)t.refused[REFUSED_RATE], (unsigned long long)t.refused[REFUSED_PROXY],
	    (unsigned long long)t.checks, (unsigned long long)t.bytes_in,
	    (unsigned long long)t.bytes_out, (long long)((clock_ms() - sv->start_ms) / 1000), pool);
}

/* STATUS= for the service manager: what systemctl status shows. */
void
supervisor_notify_status(struct supervisor *sv, int64_t now)
{
	struct tally t = supervisor_tally(sv);
	char text[160], pool[32] = "";

	if (t.workers >= 0)
		snprintf(pool, sizeof(pool), ", %d workers", t.workers);
	snprintf(text, sizeof(text), "%d sessions (at most %d), %llu served, %llu refused%s",
	    t.sessions, sv->cfg->max_conns, (unsigned long long)t.served,
	    (unsigned long long)tally_refused(&t), pool);
	notify_status(&sv->notify, text, now);
}
