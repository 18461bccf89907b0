/* procstat: this process's CPU time, memory, descriptors and start time, from /proc. */
#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

/* The next number of a space-separated list at *p (moved past it). 0, or -1. */
static int
procstat_field(const char **p, unsigned long long *v)
{
	char *end;

	if (**p != ' ' || (*p)[1] < '0' || (*p)[1] > '9')
		return -1;
	errno = 0;
	*v = strtoull(*p + 1, &end, 10);
	if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -1;
	*p = end;
	return 0;
}

/* Skip a field we do not keep (the state letter, numbers that may be negative). */
static int
procstat_skip(const char **p)
{
	if (**p != ' ' || (*p)[1] == ' ' || (*p)[1] == '\0' || (*p)[1] == '\n')
		return -1;
	*p += 1 + strcspn(*p + 1, " \n");
	return 0;
}

int
procstat_parse_stat(const char *text, struct procstat_ticks *out)
{
	/* after the name: 3 state ... 14 utime, 15 stime ... 22 starttime, 23 vsize, 24 rss */
	unsigned long long *keep[25] = { [14] = &out->utime, [15] = &out->stime,
	    [22] = &out->starttime, [23] = &out->vsize, [24] = &out->rss };
	const char *p = strrchr(text, ')');
	int field;

	if (p == NULL)
		goto malformed;
	p++;
	for (field = 3; field <= 24; field++)
		if ((keep[field] != NULL ? procstat_field(&p, keep[field]) : procstat_skip(&p)) < 0)
			goto malformed;
	return 0;
malformed:
	errno = EINVAL;
	return -1;
}

/* A /proc file's text (the first len - 1 bytes), NUL-terminated. 0, or -1 with errno. */
static int
procstat_slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;
	ssize_t n = 1;

	if (fd < 0)
		return -1;
	while (have < len - 1 && (n = io_read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	buf[have] = '\0';
	return n < 0 ? -1 : 0;
}

/* Descriptors open now, the one that reads the list left out. */
static long
procstat_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

int
procstat_read(struct procstat *ps)
{
	char stat[1024];
	struct procstat_ticks t;
	struct timespec now, up;
	struct rlimit rl;
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);

	/* the start is counted in ticks since boot: boot time is now less the time since boot */
	if (procstat_slurp("/proc/self/stat", stat, sizeof(stat)) < 0 ||
	    procstat_parse_stat(stat, &t) < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
	    clock_gettime(CLOCK_REALTIME, &now) < 0 || clock_gettime(CLOCK_BOOTTIME, &up) < 0 ||
	    hz <= 0 || page <= 0)
		return -1;
	*ps = (struct procstat){ .cpu_seconds = (double)(t.utime + t.stime) / (double)hz,
	    .start_time = (double)(now.tv_sec - up.tv_sec) + (double)(now.tv_nsec - up.tv_nsec) / 1e9 +
	    (double)t.starttime / (double)hz,
	    .resident_bytes = (uint64_t)t.rss * (uint64_t)page, .virtual_bytes = t.vsize,
	    .open_fds = procstat_open_fds(),
	    .max_fds = rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur };
	return 0;
}
