/*
 * options: a libFuzzer target for mpechod's command line. The input is split
 * at NUL bytes into arguments; whatever they are, options_parse() must answer
 * with one of its results and, on error, a one-line message, the same when
 * asked again, and free all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[1024], *argv[34], err[512], again_err[512];
	struct config cfg, again;
	enum options_result r;
	int argc;

	if ((argc = fuzz_argv(data, size, buf, sizeof(buf), argv, 34, "mpechod")) < 0)
		return 0;
	err[0] = '\0';
	r = options_parse(&cfg, argc, argv, err, sizeof(err));
	if (r != OPTIONS_RUN && r != OPTIONS_HELP && r != OPTIONS_VERSION && r != OPTIONS_ERROR)
		abort();
	if (r == OPTIONS_ERROR && (err[0] == '\0' || strchr(err, '\n') != NULL))
		abort();
	again_err[0] = '\0';
	if (options_parse(&again, argc, argv, again_err, sizeof(again_err)) != r ||
	    strcmp(err, again_err) != 0)
		abort();	/* no state carried from one parse to the next */
	options_free(&again);
	options_free(&cfg);
	return 0;
}
