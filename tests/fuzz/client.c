/*
 * client: a libFuzzer target for mpecho's command line, its options and its
 * target (HOST, HOST:PORT, [IPv6]:PORT, unix:PATH, HOST PORT). The input is split
 * at NUL bytes into arguments; whatever they are, args_parse() must answer with
 * one of its results, a one-line message when it refuses, the same when asked
 * again, and free all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[1024], *argv[34], err[512], again_err[512];
	struct client_args a, again;
	enum args_result r;
	int argc;

	if ((argc = fuzz_argv(data, size, buf, sizeof(buf), argv, 34, "mpecho")) < 0)
		return 0;
	err[0] = '\0';
	r = args_parse(&a, argc, argv, err, sizeof(err));
	if (r != ARGS_RUN && r != ARGS_HELP && r != ARGS_VERSION && r != ARGS_USAGE && r != ARGS_FAIL)
		abort();
	if ((r == ARGS_USAGE || r == ARGS_FAIL) && (err[0] == '\0' || strchr(err, '\n') != NULL))
		abort();
	if (r == ARGS_RUN && (a.host == NULL || (a.port != NULL && a.port[0] == '\0')))
		abort();	/* a target to reach: a host, and a port unless unix: */
	again_err[0] = '\0';
	if (args_parse(&again, argc, argv, again_err, sizeof(again_err)) != r ||
	    strcmp(err, again_err) != 0)
		abort();	/* no state carried from one parse to the next */
	args_free(&again);
	args_free(&a);
	return 0;
}
