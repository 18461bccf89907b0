/* notify: sd_notify datagrams to the service manager. */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "number.h"

/* The watchdog interval, if one is set for this process: half of WATCHDOG_USEC, in ms. */
static int64_t
notify_watchdog(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	long v, p;

	if (usec == NULL || number_parse(usec, 1, 2147483647L, &v) < 0)
		return 0;
	if (pid != NULL && (number_parse(pid, 1, 2147483647L, &p) < 0 || (pid_t)p != getpid()))
		return 0;
	return v / 2000 > 0 ? v / 2000 : 1;
}

int
notify_open(struct notify *n, char *err, size_t errlen)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->watchdog_ms = notify_watchdog();
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (path == NULL || *path == '\0') {
		n->watchdog_ms = 0;
		return 0;
	}
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(n->addr.sun_path)) {
		snprintf(err, errlen, "NOTIFY_SOCKET '%s' is not a socket path or an @abstract name", path);
		return -1;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0';	/* an abstract name: no terminating NUL counted */
	n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	unsetenv("NOTIFY_SOCKET");
	if ((n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		log_errtext(err, errlen, "cannot make the notification socket");
		return -1;
	}
	return 0;
}

void
notify_close(struct notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

void
notify_send(const struct notify *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int len;

	if (n->fd < 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len > 0)
		sendto(n->fd, msg, (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1,
		    MSG_NOSIGNAL, (const struct sockaddr *)&n->addr, n->addrlen);
}

bool
notify_status_due(const struct notify *n, int64_t now_ms)
{
	return n->fd >= 0 && now_ms >= n->next_status_ms;
}

void
notify_status(struct notify *n, const char *text, int64_t now_ms)
{
	if (!notify_status_due(n, now_ms))
		return;
	n->next_status_ms = now_ms + NOTIFY_STATUS_MS;
	if (strcmp(text, n->status) == 0)
		return;
	snprintf(n->status, sizeof(n->status), "%s", text);
	notify_send(n, "STATUS=%s", text);
}

int64_t
notify_tick(struct notify *n, int64_t now_ms)
{
	if (n->fd < 0)
		return INT64_MAX;
	if (n->watchdog_ms > 0 && now_ms >= n->next_watchdog_ms) {
		notify_send(n, "WATCHDOG=1");
		n->next_watchdog_ms = now_ms + n->watchdog_ms;
	}
	if (n->watchdog_ms > 0 && n->next_watchdog_ms < n->next_status_ms)
		return n->next_watchdog_ms;
	return n->next_status_ms;
}
