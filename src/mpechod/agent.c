/* agent: answering HAProxy's agent-check in the supervisor's loop: accept, answer, read, close. */
#include "agent.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"

int
agent_poll_fill(const struct agent *a, struct pollfd *pfd)
{
	int i, n = 0;

	if (a->fd < 0 && a->n == 0)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = a->n < AGENT_CLIENTS && a->resume_ms == 0 ? a->fd : -1,
	    .events = POLLIN };
	for (i = 0; i < a->n; i++)
		pfd[n++] = (struct pollfd){ .fd = a->clients[i].fd, .events = POLLIN };
	return n;
}

/* Done with a client: a debug line with what it asked (a peer's text, quoted) and was told. */
static void
agent_drop(struct agent *a, int i, const char *why)
{
	struct agent_client *c = &a->clients[i];
	const char *said = agent_answer(c->said);

	if (log_enabled(LOG_LVL_DEBUG))	/* the line it sent is a peer's text: quoted, cut */
		log_msg(LOG_LVL_DEBUG, "event=agent peer=%s answer=%s asked=%s end=%s", c->peer,
		    log_qf("%.*s", (int)strcspn(said, "\n"), said),
		    log_qf("%.*s", (int)strcspn(c->line, "\r\n"), c->line), why);
	close(c->fd);
	a->clients[i] = a->clients[--a->n];
}

/* The answer goes at once, then our side is shut; the client stays to have its line read. */
static void
agent_accept(struct agent *a, int64_t now_ms)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(a->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct agent_client *c;
	const char *line;

	if (fd < 0) {
		/* out of descriptors or memory: rest instead of spinning on a ready listener */
		if (!listener_transient(errno) && errno != EAGAIN && errno != EWOULDBLOCK)
			a->resume_ms = now_ms + LISTENER_PAUSE_MS;
		return;
	}
	c = &a->clients[a->n++];
	*c = (struct agent_client){ .fd = fd, .deadline_ms = now_ms + AGENT_DEADLINE_MS,
	    .said = a->state(a->ctx) };
	net_format((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
	line = agent_answer(c->said);
	/* a few bytes into a new socket's empty buffer: all of them go, or it failed */
	if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)strlen(line) ||
	    shutdown(fd, SHUT_WR) < 0)
		agent_drop(a, a->n - 1, "error");
}

/* Read what the balancer sends: its whole line, or its close, ends the exchange. */
static void
agent_read(struct agent *a, int i)
{
	struct agent_client *c = &a->clients[i];
	ssize_t n = recv(c->fd, c->line + c->have, AGENT_LINE_MAX - c->have, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		agent_drop(a, i, n == 0 ? "closed" : errno == ECONNRESET ? "reset" : "error");
		return;
	}
	c->have += (size_t)n;
	c->line[c->have] = '\0';
	switch (agent_request(c->line, c->have)) {
	case AGENT_LINE:
		agent_drop(a, i, "line");
		break;
	case AGENT_BAD:
		c->line[0] = '\0';	/* not logged: it is no line */
		agent_drop(a, i, "bad");
		break;
	default:	/* AGENT_MORE: there is room for more */
		break;
	}
}

void
agent_poll_done(struct agent *a, const struct pollfd *pfd, int n, int64_t now_ms)
{
	int i;

	if (n == 0)
		return;
	/* From the last client: dropping client i moves the last one, already seen, into its place. */
	for (i = a->n - 1; i >= 0; i--)
		if (pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR))
			agent_read(a, i);
	if (pfd[0].revents & POLLIN)
		agent_accept(a, now_ms);
}

int64_t
agent_expire(struct agent *a, int64_t now_ms)
{
	int64_t next = INT64_MAX;
	int i;

	if (a->resume_ms > 0 && now_ms >= a->resume_ms)
		a->resume_ms = 0;
	if (a->resume_ms > 0)
		next = a->resume_ms;
	for (i = a->n - 1; i >= 0; i--) {
		if (a->clients[i].deadline_ms <= now_ms)
			agent_drop(a, i, "deadline");
		else if (a->clients[i].deadline_ms < next)
			next = a->clients[i].deadline_ms;
	}
	return next;
}

static void
agent_close_fds(const struct agent *a)
{
	int i;

	if (a->fd >= 0)
		close(a->fd);
	for (i = 0; i < a->n; i++)
		close(a->clients[i].fd);
}

void
agent_close_listener(struct agent *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

void
agent_close(struct agent *a)
{
	agent_close_fds(a);
	a->fd = -1;
	a->n = 0;
}
