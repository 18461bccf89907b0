/*
 * bench_options: a libFuzzer target for mpecho-bench's command line. The
 * input is split at NUL bytes into arguments; whatever they are, bench_parse()
 * must answer with one of its results and, on a usage error, one line; a run
 * it accepts keeps --procs and --sources within what the generators use.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[1024], *argv[34], err[512];
	enum bench_parsed r;
	struct bench b;
	int argc;

	if ((argc = fuzz_argv(data, size, buf, sizeof(buf), argv, 34, "mpecho-bench")) < 0)
		return 0;
	err[0] = '\0';
	r = bench_parse(&b, argc, argv, err, sizeof(err));
	if (r != BENCH_RUN && r != BENCH_HELP && r != BENCH_VERSION && r != BENCH_USAGE)
		abort();
	if (r == BENCH_USAGE && (err[0] == '\0' || strchr(err, '\n') != NULL))
		abort();
	if (r == BENCH_RUN && (b.procs < 1 || b.procs > PROCS_MAX || b.procs > b.conns ||
	    b.sources < 0 || b.sources > 65534 || b.threads < 1 || b.threads > b.conns ||
	    (b.server_pid != 0 && b.mode != MODE_HOLD)))
		abort();
	return 0;
}
