/* service_daytime: RFC 867: one line with the date and time here, then the end of the session. */
#include "service.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "stream.h"

/*
 * RFC 867 fixes no syntax; this is the one inetd's daytime has always sent,
 * ctime(3)'s, in local time, with CRLF: "Sun Nov 22 06:31:11 2026\r\n".
 */
size_t
service_daytime_line(char *line, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		return 0;
	return strftime(line, cap, "%a %b %e %H:%M:%S %Y\r\n", &tm);
}

static enum end
daytime_run(struct stream *st)
{
	char line[64];
	size_t n = service_daytime_line(line, sizeof(line));

	if (n == 0)
		return END_ERROR;
	return stream_write(st, line, n) < 0 ? end_of_errno(errno) : END_EOF;
}

const struct service service_daytime = { "daytime", daytime_run, true };
