/*
 * argv: a command line from a fuzzer's input, for the targets of the three
 * programs' option parsers. The input, copied into buf (cap bytes, NUL added),
 * is split at NUL bytes into arguments after argv[0] = name: at most max - 2 of
 * them, argv NULL-terminated. Returns argc, or -1 for an input too long.
 */
#ifndef MPECHO_FUZZ_ARGV_H
#define MPECHO_FUZZ_ARGV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline int
fuzz_argv(const uint8_t *data, size_t size, char *buf, size_t cap, char **argv, int max,
    char *name)
{
	int argc = 0;
	size_t i, start = 0;

	if (size >= cap)
		return -1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = name;
	for (i = 0; i <= size && argc < max - 1; i++) {
		if (i == size || buf[i] == '\0') {
			buf[i] = '\0';
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	return argc;
}

#endif
