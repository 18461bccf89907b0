/* cli: naming what was wrong on a command line, as the person typed it. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

const char *
cli_complaint(int c, char **argv, const struct option *longopts, char *buf, size_t len)
{
	const char *arg = argv[optind - 1];
	const struct option *o;
	size_t n;

	if (strncmp(arg, "--", 2) != 0) {
		snprintf(buf, len, c == ':' ? "option '-%c' needs a value" : "unknown option '-%c'", optopt);
		return buf;
	}
	n = strcspn(arg, "=");
	if (c == ':') {
		snprintf(buf, len, "option '%.*s' needs a value", (int)n, arg);
		return buf;
	}
	for (o = longopts; o->name != NULL; o++)
		if (strlen(o->name) == n - 2 && strncmp(o->name, arg + 2, n - 2) == 0)
			break;
	if (o->name != NULL && arg[n] == '=' && o->has_arg == no_argument)
		snprintf(buf, len, "option '%.*s' takes no value", (int)n, arg);
	else
		snprintf(buf, len, "unknown option '%.*s'", (int)n, arg);
	return buf;
}
