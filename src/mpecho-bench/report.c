/* report: mpecho-bench's figures, as text or JSON, and the exit status they mean. */
#include "bench.h"

#include <stdio.h>

#include "mpecho.h"

void
report_sum(const struct thread *th, int n, struct totals *tot)
{
	int i;

	for (i = 0; i < n; i++) {
		tot->ops += th[i].ops;
		tot->bytes += th[i].bytes;
		tot->held += th[i].held;
		tot->moved += th[i].progress_ops + th[i].progress_bytes;
		tot->err.connect += th[i].err.connect;
		tot->err.reset += th[i].err.reset;
		tot->err.closed += th[i].err.closed;
		tot->err.timeout += th[i].err.timeout;
		tot->err.lost += th[i].err.lost;
		tot->err.extra += th[i].err.extra;
		tot->err.corrupt += th[i].err.corrupt;
		tot->err.dropped += th[i].err.dropped;
		tot->err.reordered += th[i].err.reordered;
		stats_merge(tot->lat, &th[i].lat);
	}
}

static double
report_us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void
report_text(const struct bench *b, const struct totals *t)
{
	const struct errors *e = &t->err;

	printf("mode=%s conns=%d size=%d threads=%d seconds=%.2f\n", mode_names[b->mode],
	    b->conns, b->size, b->threads, t->seconds);
	switch (b->mode) {
	case MODE_CONNRATE:
	case MODE_PINGPONG:
	case MODE_UDP:
		printf("%s: %llu (%.1f/s)\n", b->mode == MODE_CONNRATE ? "sessions" :
		    b->mode == MODE_UDP ? "datagrams" : "messages",
		    (unsigned long long)t->ops, (double)t->ops / t->seconds);
		printf("latency_us: p50=%.1f p90=%.1f p99=%.1f p99.9=%.1f max=%.1f\n",
		    report_us(stats_quantile(t->lat, 0.5)), report_us(stats_quantile(t->lat, 0.9)),
		    report_us(stats_quantile(t->lat, 0.99)), report_us(stats_quantile(t->lat, 0.999)),
		    report_us(t->lat->count ? t->lat->max : 0));
		break;
	case MODE_STREAM:
	case MODE_SINK:
	case MODE_SOURCE:
		printf("%s: %llu bytes (%.1f MB/s)\n", b->mode == MODE_STREAM ? "echoed" :
		    b->mode == MODE_SINK ? "sent" : "received", (unsigned long long)t->bytes,
		    (double)t->bytes / t->seconds / 1e6);
		break;
	case MODE_HOLD:
		printf("held: %llu of %d\n", (unsigned long long)t->held, b->conns);
		break;
	}
	printf("errors: connect=%llu reset=%llu closed=%llu timeout=%llu lost=%llu extra=%llu corrupt=%llu\n",
	    (unsigned long long)e->connect, (unsigned long long)e->reset,
	    (unsigned long long)e->closed, (unsigned long long)e->timeout,
	    (unsigned long long)e->lost, (unsigned long long)e->extra, (unsigned long long)e->corrupt);
	if (b->mode == MODE_UDP)
		printf("datagrams: dropped=%llu reordered=%llu\n", (unsigned long long)e->dropped,
		    (unsigned long long)e->reordered);
}

static void
report_json(const struct bench *b, const struct totals *t)
{
	const struct errors *e = &t->err;

	printf("{\"mode\":\"%s\",\"conns\":%d,\"size\":%d,\"threads\":%d,\"seconds\":%.3f,"
	    "\"ops\":%llu,\"ops_per_s\":%.1f,\"bytes\":%llu,\"mb_per_s\":%.2f,\"held\":%llu,"
	    "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p99.9\":%.1f,\"max\":%.1f},"
	    "\"errors\":{\"connect\":%llu,\"reset\":%llu,\"closed\":%llu,\"timeout\":%llu,"
	    "\"lost\":%llu,\"extra\":%llu,\"corrupt\":%llu,\"dropped\":%llu,\"reordered\":%llu}}\n",
	    mode_names[b->mode], b->conns, b->size, b->threads, t->seconds,
	    (unsigned long long)t->ops, (double)t->ops / t->seconds, (unsigned long long)t->bytes,
	    (double)t->bytes / t->seconds / 1e6, (unsigned long long)t->held,
	    report_us(stats_quantile(t->lat, 0.5)), report_us(stats_quantile(t->lat, 0.9)),
	    report_us(stats_quantile(t->lat, 0.99)), report_us(stats_quantile(t->lat, 0.999)),
	    report_us(t->lat->count ? t->lat->max : 0),
	    (unsigned long long)e->connect, (unsigned long long)e->reset,
	    (unsigned long long)e->closed, (unsigned long long)e->timeout,
	    (unsigned long long)e->lost, (unsigned long long)e->extra, (unsigned long long)e->corrupt,
	    (unsigned long long)e->dropped, (unsigned long long)e->reordered);
}

void
report_print(const struct bench *b, const struct totals *t)
{
	if (b->json)
		report_json(b, t);
	else
		report_text(b, t);
}

int
report_status(const struct bench *b, const struct totals *t)
{
	const struct errors *e = &t->err;

	if (e->lost || e->extra || e->corrupt)
		return EXIT_FAIL;
	if (e->connect || e->reset || e->closed || e->timeout || e->dropped ||
	    (b->mode == MODE_HOLD && t->held < (uint64_t)b->conns) ||
	    (b->mode == MODE_SOURCE && t->bytes == 0) ||	/* a source that never spoke */
	    t->moved == 0)		/* nothing came back (sink: nothing went) in the whole run */
		return EXIT_CONN_ERRORS;
	return EXIT_OK;
}
