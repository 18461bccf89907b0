/* log_syslog: the syslog(3) wire format on a socket whose descriptor log.c knows. */
#include "log_syslog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_SYSLOG_PATH "/dev/log"
#define LOG_SYSLOG_MAX 2048

static int syslog_fd = -1;
static int syslog_type;

int
log_syslog_open(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = LOG_SYSLOG_PATH };
	int types[] = { SOCK_DGRAM, SOCK_STREAM }, fd, i, saved = ENOENT;

	log_syslog_close();
	for (i = 0; i < 2; i++) {
		if ((fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			syslog_fd = fd;
			syslog_type = types[i];
			return 0;
		}
		saved = errno;
		close(fd);
	}
	errno = saved;
	return -1;
}

int
log_syslog_send(int priority, const char *prog, const char *text)
{
	char msg[LOG_SYSLOG_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t len;
	int n, tries;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %T", &tm);
	n = snprintf(msg, sizeof(msg), "<%d>%s %s[%ld]: %s", LOG_DAEMON | priority, stamp, prog,
	    (long)getpid(), text);
	len = n < 0 ? 0 : (size_t)n >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)n;
	if (syslog_type == SOCK_STREAM)
		len++;	/* a stream carries the terminating NUL as the end of the message */
	for (tries = 0; tries < 2; tries++) {
		if (syslog_fd >= 0 && send(syslog_fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len)
			return 0;
		if (tries > 0 || (errno != ECONNREFUSED && errno != ENOTCONN && errno != EPIPE &&
		    errno != ECONNRESET) || log_syslog_open() < 0)
			break;
	}
	return -1;
}

int
log_syslog_fd(void)
{
	return syslog_fd;
}

void
log_syslog_close(void)
{
	if (syslog_fd >= 0)
		close(syslog_fd);
	syslog_fd = -1;
}
