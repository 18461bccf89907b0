/* main: mpecho-bench in four steps: options, threads, warm-up, measure and drain, report (procs.c: in N processes). */
#include <errno.h>
#include <poll.h>
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
#include "html.h"
#include "result.h"

#define JOIN_GRACE_S 10			/* a thread still running this long after its drain is reported */

/*
 * Wait until `until` (ns) or the end of the measured part, whichever comes
 * first (a thread reaching --count ends it and wakes this at once), taking
 * the progress ticks that fall due meanwhile.
 */
static void
main_wait_phase(struct progress *pg, int wake_fd, int64_t until)
{
	struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };
	int64_t now, next, step;
	struct timespec ts;

	while ((now = clock_ns()) < until && load_phase() != PHASE_DRAIN) {
		next = progress_next(pg);
		if (now >= next) {
			progress_tick(pg, now);
			continue;
		}
		step = (next < until ? next : until) - now;
		ts = (struct timespec){ step / 1000000000, step % 1000000000 };
		ppoll(&pfd, wake_fd >= 0 ? 1 : 0, &ts, NULL);
	}
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
			log_warnx("thread %d did not stop; its figures may be incomplete", i);
			rc = -1;
		}
	}
	return rc;
}

/* --start-at: sleep until then (the wall clock), so that generators on several machines begin together. */
static void
main_start_at(const struct bench *b)
{
	double now = clock_wall_s();
	struct timespec ts;

	if (b->start_at <= 0)
		return;
	if (b->start_at < now) {
		log_warnx("--start-at %.3f is %.3f s past: starting now", b->start_at, now - b->start_at);
		return;
	}
	ts.tv_sec = (time_t)b->start_at;
	ts.tv_nsec = (long)((b->start_at - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Step 2: threads, each with its share of the connections, started together (at --start-at). */
static struct thread *
main_start_threads(const struct bench *b, struct totals *tot, int *wake)
{
	struct thread *th = calloc((size_t)b->threads, sizeof(*th));
	int i, per = b->conns / b->threads, rest = b->conns % b->threads;

	if (th == NULL)
		fatalx(EXIT_NOT_RUN, "out of memory");
	for (i = 0; i < b->threads; i++)
		if (load_thread_init(&th[i], b, (unsigned)(i * per + (i < rest ? i : rest)),
		    per + (i < rest)) < 0)
			fatal(EXIT_NOT_RUN, "cannot set up thread %d", i);
	main_start_at(b);
	tot->started = clock_wall_s();
	if ((*wake = load_begin(clock_ns())) < 0)
		fatal(EXIT_NOT_RUN, "cannot make an eventfd");
	for (i = 0; i < b->threads; i++)
		if (pthread_create(&th[i].tid, NULL, load_thread_run, &th[i]) != 0)
			fatalx(EXIT_NOT_RUN, "cannot start a thread");
	return th;
}

/*
 * Step 3: warm up, measure (until the duration, or --count), drain. The
 * measured seconds end where the measured part ended. True if a thread did
 * not stop.
 */
static bool
main_measure(const struct bench *b, struct thread *th, struct totals *tot, int wake,
    struct progress *pg)
{
	int64_t start = load_epoch(), measure_start, end;
	bool stuck;

	main_wait_phase(pg, wake, start + (int64_t)(b->warmup * 1e9));
	measure_start = clock_ns();
	tot->measure_start = clock_wall_s();
	load_set_phase(PHASE_MEASURE);
	main_wait_phase(pg, wake, measure_start + (int64_t)(b->duration * 1e9));
	end = load_end_measure(clock_ns());
	tot->seconds = (double)(end - measure_start) / 1e9;
	stuck = main_join_threads(b, th, b->threads) < 0;
	tot->ended = clock_wall_s();
	progress_last(pg, clock_ns());	/* --html: the drain's interval */
	return stuck;
}

/* Step 1: the command line (--help and --version end here), what it needs, the probe. */
static void
main_options(struct bench *b, int argc, char **argv)
{
	char err[512];
	int rc;

	switch (bench_parse(b, argc, argv, err, sizeof(err))) {
	case BENCH_HELP:
		fputs(bench_usage(), stdout);
		exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_NOT_RUN);
	case BENCH_VERSION:
		printf("mpecho-bench %s\n", MPECHO_VERSION);
		exit(EXIT_OK);
	case BENCH_USAGE:
		fatalx(EXIT_USAGE, "%s", err);
	case BENCH_RUN:
		break;
	}
	if ((rc = bench_setup(b, err, sizeof(err))) != EXIT_OK)
		fatalx(rc, "%s", err);
	if ((rc = probe_target(b, err, sizeof(err))) != EXIT_OK)
		fatalx(rc, "%s", err);
}

/*
 * The result with its intervals (progress_free() frees them): as text or
 * JSON to out, and with --html as the page, into the file bench_setup()
 * opened. A page not written is status 4.
 */
static void
main_report(const struct bench *b, struct result *res, struct progress *pg, FILE *out)
{
	res->intervals = progress_samples(pg, &res->nintervals);
	if (b->json)
		result_write_json(out, res);
	else
		report_text(out, res);
	if (b->html_file == NULL)
		return;
	html_report(b->html_file, res);
	if (ferror(b->html_file) || fclose(b->html_file) != 0) {
		log_warn("cannot write %s", b->html);
		if (res->status == EXIT_OK)
			res->status = EXIT_NOT_RUN;
	}
}

/* --procs' generator: hold its connections until the parent has measured (end of file on release). */
static void
main_hold_until(FILE *out, int release)
{
	char c;

	fflush(out);
	if (release < 0)
		return;
	while (read(release, &c, 1) > 0 || errno == EINTR)
		;
}

/* Steps 2 to 4: one generator's load and its result (to out): its exit status. */
int
main_run(struct bench *b, FILE *out, int release)
{
	static struct stats lat;
	static struct result res;
	struct totals tot = { .lat = &lat };
	struct progress *pg;
	struct thread *th;
	bool stuck;
	int i, wake;

	stats_init(&lat);

	/* 2. Threads, each with its share of the connections. */
	th = main_start_threads(b, &tot, &wake);

	/* 3. Warm up, measure, drain (what is still owed is awaited for --timeout). */
	if ((pg = progress_new(b, th, load_epoch())) == NULL)
		fatalx(EXIT_NOT_RUN, "out of memory");
	stuck = main_measure(b, th, &tot, wake, pg);

	/* 4. Report: lost, extra or corrupted bytes first; a thread that never stopped is a connection error. */
	report_sum(th, b->threads, &tot);
	result_of_run(&res, b, &tot);
	if (stuck && res.status == EXIT_OK)
		res.status = EXIT_CONN_ERRORS;
	main_report(b, &res, pg, out);
	main_hold_until(out, release);
	if (stuck) {
		fflush(out);
		_exit(res.status);	/* leave without freeing what it uses */
	}
	for (i = 0; i < b->threads; i++)
		load_thread_free(&th[i]);
	free(th);
	progress_free(pg);
	return res.status;
}

int
main(int argc, char **argv)
{
	struct bench b;
	int rc;

	/* 1. Options, target, descriptors, pattern (or merge: results of other runs). */
	lookup_init();
	log_init("mpecho-bench", LOG_LVL_INFO);
	if (argc > 1 && strcmp(argv[1], "merge") == 0)
		return merge_main(argc - 1, argv + 1);
	main_options(&b, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	check_init();

	/* 2 to 4 here, or in each of --procs' generators. */
	rc = b.procs > 1 || b.server_pid > 0 ? procs_main(&b) : main_run(&b, stdout, -1);
	SSL_CTX_free(b.tls_ctx);
	return rc;
}
