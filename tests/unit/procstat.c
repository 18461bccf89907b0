/* procstat: /proc/PID/stat's text into the fields the process_* metrics need, or refused. */
#include <string.h>

#include "procstat.h"
#include "unit.h"

static bool
parses(const char *text, unsigned long long utime, unsigned long long rss)
{
	struct procstat_ticks t;

	return procstat_parse_stat(text, &t) == 0 && t.utime == utime && t.rss == rss;
}

static bool
refused(const char *text)
{
	struct procstat_ticks t;

	return procstat_parse_stat(text, &t) < 0;
}

void
unit_procstat(void)
{
	struct procstat ps;
	struct procstat_ticks t;

	CHECK(procstat_parse_stat("16704 (cat) R 16683 16683 2185 0 -1 4194304 101 0 0 0 7 3 0 0 20 0 1 "
	    "0 6353555 3133440 413 18446744073709551615 94556120215552 0\n", &t) == 0 &&
	    t.utime == 7 && t.stime == 3 && t.starttime == 6353555 && t.vsize == 3133440 && t.rss == 413);
	/* a name with spaces and parentheses: the fields follow the last ')' */
	CHECK(parses("1 (a) b) (c) S 0 1 1 0 -1 0 0 0 0 0 12 0 0 0 -2 -20 1 0 5 6 7 0\n", 12, 7));
	CHECK(parses("1 (x) S 0 1 1 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 5 6 7", 1, 7));	/* ends at rss */
	CHECK(refused(""));
	CHECK(refused("1 cat S 0 1 1 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 5 6 7 0"));	/* no ')' */
	CHECK(refused("1 (x) S 0 1 1 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 5 6"));	/* short */
	CHECK(refused("1 (x) S 0 1 1 0 -1 0 0 0 0 0 -1 0 0 0 20 0 1 0 5 6 7 0"));	/* utime < 0 */
	CHECK(refused("1 (x) S 0 1 1 0 -1 0 0 0 0 0 1x 0 0 0 20 0 1 0 5 6 7 0"));
	CHECK(refused("1 (x) S 0 1 1 0 -1 0 0 0 0 0 99999999999999999999999 0 0 0 20 0 1 0 5 6 7 0"));
	CHECK(refused("1 (x) S  0 1 1 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 5 6 7 0"));	/* two spaces */
	/* this process: some memory, the three standard descriptors, a start before now */
	CHECK(procstat_read(&ps) == 0 && ps.resident_bytes > 0 && ps.open_fds >= 3 &&
	    ps.max_fds != 0 && ps.start_time > 1.7e9 && ps.cpu_seconds >= 0);
}
