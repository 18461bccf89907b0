/*
 * service: what a session does with the bytes. Each service is a file of its
 * own (service_echo.c, service_upper.c, ...) that reads and writes a stream and
 * says how the session ended; this table names them.
 */
#ifndef MPECHO_SERVICE_H
#define MPECHO_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "end.h"

struct stream;

struct service {
	const char *name;
	enum end (*run)(struct stream *st);
	bool server_first;	/* it sends before the client has said anything (chargen, daytime) */
};

extern const struct service service_echo, service_upper, service_discard, service_chargen,
    service_daytime;

/* 64 KiB: large reads keep bulk I/O cheap; on the stack, only the pages used are touched. */
#define SERVICE_BUF (64 * 1024)

/* daytime's line, the time now, CRLF-ended, in line (cap 64 is room); 0 if there is no time. */
size_t service_daytime_line(char *line, size_t cap);

/* The service called name, or NULL. */
const struct service *service_find(const char *name);

/* "echo, upper, ...": the names, for messages. */
const char *service_names(void);

#endif
