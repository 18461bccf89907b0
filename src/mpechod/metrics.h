/*
 * metrics: the --metrics endpoint, a tiny, strict, non-blocking HTTP/1.1
 * responder in the supervisor's poll loop: a request size cap (HTTP_MAX), a
 * read deadline, a cap on clients served at once (more wait in the backlog),
 * and an access rule of its own. What it answers comes from a render
 * callback; every answer closes the connection.
 */
#ifndef MPECHO_METRICS_H
#define MPECHO_METRICS_H

#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define METRICS_CLIENTS 16		/* answered at once */
#define METRICS_DEADLINE_MS 2000	/* a request must be in, and the answer out, within this */
#define METRICS_ACCEPT_BATCH 64	/* connections taken per wake-up (refused ones take no slot) */

struct acl;

/* A growing text buffer for rendering an answer, and how it is to be sent. */
struct metrics_text {
	char *p;
	size_t len, cap;
	int failed;		/* out of memory: the answer is 503 */
	const char *type;	/* its Content-Type; NULL: plain text */
	const char *headers;	/* NULL, or more header lines, each ending in CRLF */
};

void metrics_printf(struct metrics_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct metrics_client {
	int fd;
	int64_t deadline_ms;
	size_t have;
	char req[HTTP_MAX];
	char *out;		/* the answer being written, or NULL */
	size_t out_len, out_off;
	int closing;		/* answered: our side shut, its unread input drained until it closes */
};

struct metrics {
	int fd;					/* the listener; -1: no endpoint */
	const struct acl *allow;		/* who may scrape */
	/* Write the page r asks for into t; returns its status (200, or 503: not ready). */
	int (*render)(void *ctx, const struct http_request *r, struct metrics_text *t);
	void *ctx;
	struct metrics_client clients[METRICS_CLIENTS];
	int n;
	uint64_t answered, refused;
};

/* Fill pfd with what to wait on; returns how many entries. */
int metrics_poll_fill(const struct metrics *m, struct pollfd *pfd);

/* Act on what poll reported for those entries. */
void metrics_poll_done(struct metrics *m, const struct pollfd *pfd, int n, int64_t now_ms);

/* Close clients past their deadline; returns the next deadline, or INT64_MAX. */
int64_t metrics_expire(struct metrics *m, int64_t now_ms);

/* Close the listener only (handed to a successor): the clients in hand are answered still. */
void metrics_close_listener(struct metrics *m);

/* Close the listener and every client, and release their buffers. */
void metrics_close(struct metrics *m);

#endif
