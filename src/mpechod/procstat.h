/*
 * procstat: what the kernel says about this process, for the process_*
 * metrics Prometheus client libraries export: CPU time, memory, descriptors,
 * start time. The parsers of /proc's text are pure (unit-tested, fuzzed).
 */
#ifndef MPECHO_PROCSTAT_H
#define MPECHO_PROCSTAT_H

#include <stdint.h>

struct procstat {
	double cpu_seconds;		/* user + system */
	double start_time;		/* Unix time, to the clock tick */
	uint64_t resident_bytes, virtual_bytes;
	long open_fds, max_fds;		/* max_fds: the soft RLIMIT_NOFILE */
};

/* Fields of /proc/PID/stat, in clock ticks and (rss) pages. */
struct procstat_ticks {
	unsigned long long utime, stime, starttime, vsize, rss;
};

/*
 * Parse the text of /proc/PID/stat (the command name in it may hold spaces
 * and parentheses: the fields follow its last ')'). 0, or -1 (EINVAL).
 */
int procstat_parse_stat(const char *text, struct procstat_ticks *out);

/* This process's figures. 0, or -1 with errno. */
int procstat_read(struct procstat *ps);

#endif
