/*
 * agent: --agent, the answer to HAProxy's agent-check, from the supervisor's
 * poll loop and never blocking it. HAProxy connects, may send a line of its
 * own (agent-send), and reads one line of words: "up ready" while the server
 * takes clients, "up drain" while --shutdown-delay runs (no new client, the
 * live ones untouched), "drain down#draining" once the listeners are closed.
 * The answer goes at once; what HAProxy sends is then read (a line, capped)
 * only so that the close is clean: a close with unread input would reset the
 * connection and could destroy the answer in flight.
 */
#ifndef MPECHO_AGENT_H
#define MPECHO_AGENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define AGENT_CLIENTS 16		/* answered at once; more wait in the backlog */
#define AGENT_DEADLINE_MS 1000		/* a balancer's line must be in within this */
#define AGENT_LINE_MAX 256		/* the longest agent-send line read */

/* What the server is, as an agent says it. */
enum agent_state { AGENT_READY, AGENT_LEAVING, AGENT_DRAINING };

/* The line HAProxy reads for a state, newline included. */
const char *agent_answer(enum agent_state st);

/* The request read so far (HAProxy's agent-send, if any). */
enum agent_read {
	AGENT_MORE,	/* printable ASCII, no line end yet, under AGENT_LINE_MAX */
	AGENT_LINE,	/* a whole line: printable ASCII up to its LF (a CR before it allowed) */
	AGENT_BAD	/* a control byte, a byte past ASCII, or no LF within AGENT_LINE_MAX */
};

/* Judge buf[0..len) (pure: unit-tested and fuzzed). */
enum agent_read agent_request(const char *buf, size_t len);

struct agent_client {
	int fd;
	int64_t deadline_ms;
	enum agent_state said;
	char peer[NET_ADDRSTRLEN];
	size_t have;
	char line[AGENT_LINE_MAX + 1];	/* what it sent, NUL-ended */
};

struct agent {
	int fd;				/* the listener; -1: no agent */
	enum agent_state (*state)(void *ctx);
	void *ctx;
	struct agent_client clients[AGENT_CLIENTS];
	int n;
	int64_t resume_ms;		/* accepting rests until then (out of descriptors); 0: not */
};

/* Fill pfd with what to wait on; returns how many entries. */
int agent_poll_fill(const struct agent *a, struct pollfd *pfd);

/* Act on what poll reported for those entries. */
void agent_poll_done(struct agent *a, const struct pollfd *pfd, int n, int64_t now_ms);

/* Close clients past their deadline; returns the next deadline, or INT64_MAX. */
int64_t agent_expire(struct agent *a, int64_t now_ms);

/* Close the listener only (handed to a successor): the clients in hand finish. */
void agent_close_listener(struct agent *a);

/* Close the listener and every client. */
void agent_close(struct agent *a);

#endif
