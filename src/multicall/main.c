/* main: the three programs in one file, for the container image: the name it is run by
 * (mpechod, mpecho, mpecho-bench: a link's name), or a first argument naming one, picks. */
#include <stdio.h>
#include <string.h>

#include "mpecho.h"

/* Each program's main(), renamed when the Makefile links its objects into one. */
int mpechod_main(int argc, char **argv);
int mpecho_main(int argc, char **argv);
int mpecho_bench_main(int argc, char **argv);

struct program {
	const char *name;
	int (*main)(int, char **);
};

static const struct program programs[] = {
	{ "mpechod", mpechod_main },
	{ "mpecho", mpecho_main },
	{ "mpecho-bench", mpecho_bench_main },
};

/* The program called name (a path's last part), or NULL. */
static const struct program *
multicall_find(const char *name)
{
	const char *slash = strrchr(name, '/');

	name = slash != NULL ? slash + 1 : name;
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		if (strcmp(name, programs[i].name) == 0)
			return &programs[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	const struct program *p = argc > 0 ? multicall_find(argv[0]) : NULL;

	if (p != NULL)
		return p->main(argc, argv);
	if (argc > 1 && (p = multicall_find(argv[1])) != NULL)
		return p->main(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s mpechod|mpecho|mpecho-bench [ARGS...] (or run it by one "
	    "of those names)\n", argc > 0 ? argv[0] : "mpecho-multicall");
	return EXIT_USAGE;
}
