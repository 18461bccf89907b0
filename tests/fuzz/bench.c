/*
 * bench: a libFuzzer target for mpecho-bench's command line (bench_parse(): the
 * options, MODE, HOST, PORT, unix:PATH). The input is split at NUL bytes into
 * arguments; whatever they are, bench_parse() must answer with one of its
 * results, a one-line message when it refuses, settings within the ranges
 * --help states when it runs (--procs and --server-pid included), and the same
 * answer when asked again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A run's settings hold what --help and the checks promise. */
static bool
bench_sane(const struct bench *b)
{
	bool paced = b->mode == MODE_CONNRATE || b->mode == MODE_PINGPONG || b->mode == MODE_UDP;

	return (int)b->mode >= 0 && b->mode < MODES && b->host != NULL && b->port != NULL &&
	    b->conns >= 1 && b->conns <= 1000000 && b->size >= 1 && b->size <= 16777216 &&
	    b->threads >= 1 && b->threads <= b->conns && b->timeout_ms >= 10 &&
	    b->duration >= 0.01 && b->warmup >= 0 && b->sources >= 0 && b->ramp >= 0 &&
	    (b->rate == 0 || paced) && (b->mode != MODE_UDP || (b->size >= 8 && b->size <= 65507 &&
	    !b->tls && !b->banner && b->sources == 0 && b->ramp == 0 && !bench_unix(b))) &&
	    (b->sources == 0 || !bench_unix(b)) && (!b->insecure || b->tls) &&
	    (b->ca == NULL || (b->tls && !b->insecure)) && b->procs >= 1 && b->procs <= PROCS_MAX &&
	    b->procs <= b->conns && b->sources <= 65534 &&
	    (b->server_pid == 0 || b->mode == MODE_HOLD);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[1024], *argv[34], err[512], again_err[512];
	struct bench b, again;
	enum bench_parsed r;
	int argc;

	if ((argc = fuzz_argv(data, size, buf, sizeof(buf), argv, 34, "mpecho-bench")) < 0)
		return 0;
	err[0] = '\0';
	r = bench_parse(&b, argc, argv, err, sizeof(err));
	if (r != BENCH_RUN && r != BENCH_HELP && r != BENCH_VERSION && r != BENCH_USAGE)
		abort();
	if (r == BENCH_USAGE && (err[0] == '\0' || strchr(err, '\n') != NULL))
		abort();
	if (r == BENCH_RUN && !bench_sane(&b))
		abort();
	/* No state is carried from one parse to the next (getopt's is reset). */
	again_err[0] = '\0';
	if (bench_parse(&again, argc, argv, again_err, sizeof(again_err)) != r ||
	    strcmp(err, again_err) != 0 || (r == BENCH_RUN && (again.mode != b.mode ||
	    again.conns != b.conns || again.size != b.size || again.threads != b.threads ||
	    again.host != b.host || again.port != b.port)))
		abort();
	return 0;
}
