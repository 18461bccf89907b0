/*
 * notify: readiness and status for a service manager, in systemd's
 * sd_notify protocol without libsystemd: one datagram of "KEY=value" lines
 * to the Unix socket named by $NOTIFY_SOCKET (a path, or "@name" for an
 * abstract one). With no such variable, every call does nothing.
 */
#ifndef MPECHO_NOTIFY_H
#define MPECHO_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define NOTIFY_STATUS_MS 1000	/* STATUS= is refreshed at most this often */

struct notify {
	int fd;				/* -1: no service manager listens */
	struct sockaddr_un addr;
	socklen_t addrlen;
	int64_t watchdog_ms;		/* WATCHDOG=1 this often (half of WATCHDOG_USEC); 0: none */
	int64_t next_watchdog_ms;
	int64_t next_status_ms;
	char status[256];		/* the last STATUS= sent */
};

/*
 * Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, and remove them from
 * the environment (sessions must not talk to the manager). 0, or -1 with
 * a message in err if NOTIFY_SOCKET is unusable.
 */
int notify_open(struct notify *n, char *err, size_t errlen);
void notify_close(struct notify *n);

/* Send one message ("READY=1\nSTATUS=..."); a manager that went away is not an error. */
void notify_send(const struct notify *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether it is time to look at the status again (NOTIFY_STATUS_MS after the last look). */
bool notify_status_due(const struct notify *n, int64_t now_ms);

/* If it is time: send STATUS=text, unless it is what was sent last. */
void notify_status(struct notify *n, const char *text, int64_t now_ms);

/* Ping the watchdog if it is due; returns when the next ping or status is due (INT64_MAX: never). */
int64_t notify_tick(struct notify *n, int64_t now_ms);

#endif
