/* main: mpecho-bench in four steps: options, threads, warm-up and measure, report. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "clock.h"
#include "log.h"
#include "lookup.h"
#include "mpecho.h"

#define JOIN_GRACE_S 10			/* a thread still running this long after its drain is reported */

/* Sleep until `until` (ns), printing a progress line each second on a terminal. */
static void
main_wait_phase(const struct bench *b, struct thread *th, int64_t start, int64_t until)
{
	bool tty = !b->quiet && isatty(STDERR_FILENO);
	uint64_t ops, bytes;
	int64_t now;
	int i;

	while ((now = clock_ns()) < until && load_phase() != PHASE_DRAIN) {
		int64_t step = until - now < 1000000000 ? until - now : 1000000000;
		struct timespec ts = { step / 1000000000, step % 1000000000 };

		nanosleep(&ts, NULL);
		if (!tty)
			continue;
		for (ops = bytes = 0, i = 0; i < b->threads; i++) {
			ops += __atomic_load_n(&th[i].progress_ops, __ATOMIC_RELAXED);
			bytes += __atomic_load_n(&th[i].progress_bytes, __ATOMIC_RELAXED);
		}
		fprintf(stderr, "\r%6.1fs %s %s: %llu ops, %.1f MB echoed   ",
		    (double)(clock_ns() - start) / 1e9, mode_names[b->mode],
		    load_phase() == PHASE_WARMUP ? "warm-up" : "measuring", (unsigned long long)ops,
		    (double)bytes / 1e6);
	}
	if (tty)
		fprintf(stderr, "\r%60s\r", "");
}

/*
 * Wait for the threads to drain: each ends once no echo is owed to it, which
 * --timeout bounds. One that has not ended JOIN_GRACE_S seconds after that is
 * reported, and the process exits regardless.
 */
static int
main_join_threads(const struct bench *b, struct thread *th, int n)
{
	struct timespec deadline;
	int i, rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += JOIN_GRACE_S + b->timeout_ms / 1000 + 1;
	for (i = 0; i < n; i++) {
		if (pthread_timedjoin_np(th[i].tid, NULL, &deadline) != 0) {
			log_plain("thread %d did not stop; its figures may be incomplete", i);
			rc = -1;
		}
	}
	return rc;
}

/* Step 2: threads, each with its share of the connections and its own epoll loop. */
static struct thread *
main_start_threads(const struct bench *b)
{
	struct thread *th = calloc((size_t)b->threads, sizeof(*th));
	int i, per = b->conns / b->threads, rest = b->conns % b->threads;

	if (th == NULL)
		log_die(EXIT_FAIL, "out of memory");
	for (i = 0; i < b->threads; i++)
		if (load_thread_init(&th[i], b, (unsigned)(i * per + (i < rest ? i : rest)),
		    per + (i < rest)) < 0)
			log_die(EXIT_FAIL, "cannot set up thread %d: %s", i, strerror(errno));
	for (i = 0; i < b->threads; i++)
		if (pthread_create(&th[i].tid, NULL, load_thread_run, &th[i]) != 0)
			log_die(EXIT_FAIL, "cannot start a thread");
	return th;
}

/* Step 3: warm up, measure, drain. Returns the seconds measured; *stuck if a thread did not stop. */
static double
main_measure(const struct bench *b, struct thread *th, bool *stuck)
{
	int64_t start = clock_ns(), measure_start, end;

	main_wait_phase(b, th, start, start + (int64_t)(b->warmup * 1e9));
	measure_start = clock_ns();
	load_set_phase(PHASE_MEASURE);
	main_wait_phase(b, th, start, measure_start + (int64_t)(b->duration * 1e9));
	end = clock_ns();
	load_set_phase(PHASE_DRAIN);
	*stuck = main_join_threads(b, th, b->threads) < 0;
	return (double)(end - measure_start) / 1e9;
}

int
main(int argc, char **argv)
{
	static struct stats lat;
	struct totals tot = { .lat = &lat };
	struct thread *th;
	struct bench b;
	bool stuck;
	int i, rc;

	/* 1. Options, target, descriptors, pattern. */
	lookup_init();
	log_init("mpecho-bench", LOG_LVL_INFO);
	options_parse(&b, argc, argv);
	probe_target(&b);
	signal(SIGPIPE, SIG_IGN);
	check_init();
	stats_init(&lat);

	/* 2. Threads, each with its share of the connections. */
	th = main_start_threads(&b);

	/* 3. Warm up, measure, drain (what is still owed is awaited for --timeout). */
	tot.seconds = main_measure(&b, th, &stuck);

	/* 4. Report: lost, extra or corrupted bytes first; a thread that never stopped is a connection error. */
	report_sum(th, b.threads, &tot);
	report_print(&b, &tot);
	rc = report_status(&b, &tot);
	if (stuck) {
		fflush(stdout);
		_exit(rc == EXIT_OK ? EXIT_CONN_ERRORS : rc);	/* leave without freeing what it uses */
	}
	for (i = 0; i < b.threads; i++)
		load_thread_free(&th[i]);
	free(th);
	SSL_CTX_free(b.tls_ctx);
	return rc;
}
