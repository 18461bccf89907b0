/*
 * procmem: the figures hold's memory measure reads from /proc, parsed from
 * text without reading a file (procs.c reads them): a "Key: N kB" line of
 * /proc/meminfo or /proc/PID/smaps_rollup, and the pids of
 * /proc/PID/task/TID/children.
 */
#include "bench.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define PID_MAX_TEXT 4194304		/* the kernel's largest pid_max */

int
procmem_kib(const char *text, const char *key, uint64_t *kib)
{
	size_t klen = strlen(key);
	const char *p = text;
	uint64_t v;

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, key, klen) != 0 || p[klen] != ':')
			continue;
		for (p += klen + 1; *p == ' ' || *p == '\t'; p++)
			;
		if (!isdigit((unsigned char)*p))
			break;
		for (v = 0; isdigit((unsigned char)*p); p++) {
			if (v > (UINT64_MAX >> 11) / 10)
				goto bad;	/* no memory is that large: a KiB count stays far below */
			v = v * 10 + (uint64_t)(*p - '0');
		}
		if (strncmp(p, " kB", 3) != 0 || (p[3] != '\n' && p[3] != '\0'))
			break;
		*kib = v;
		return 0;
	}
bad:
	errno = EINVAL;
	return -1;
}

int
procmem_pids(const char *text, long *pids, int max)
{
	const char *p = text;
	int n = 0;
	long v;

	for (;;) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == '\0')
			return n;
		if (!isdigit((unsigned char)*p) || n == max)
			break;
		for (v = 0; isdigit((unsigned char)*p) && v <= PID_MAX_TEXT; p++)
			v = v * 10 + (*p - '0');
		if (v == 0 || v > PID_MAX_TEXT || (*p != ' ' && *p != '\n' && *p != '\0'))
			break;
		pids[n++] = v;
	}
	errno = n == max ? E2BIG : EINVAL;
	return -1;
}
