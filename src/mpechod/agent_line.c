/* agent_line: the agent-check's words: the answer for a state, and the judge of a balancer's line. */
#include "agent.h"

/*
 * HAProxy applies every word it reads. "up" and "ready" are said while all is
 * well because only the agent can undo its own "drain" or "down": a server
 * started again on the same address must take clients again. Leaving, the
 * server stays up (its live sessions are never cut as a down server's may be)
 * but takes no new client; draining, its listeners are closed, and it says so.
 */
const char *
agent_answer(enum agent_state st)
{
	switch (st) {
	case AGENT_READY:
		return "up ready\n";
	case AGENT_LEAVING:
		return "up drain\n";
	default:
		return "drain down#draining\n";
	}
}

enum agent_read
agent_request(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < AGENT_LINE_MAX; i++) {
		if (buf[i] == '\n')
			return AGENT_LINE;
		if (buf[i] == '\r' && (i + 1 == len || buf[i + 1] == '\n'))
			continue;
		if ((unsigned char)buf[i] < ' ' && buf[i] != '\t')
			return AGENT_BAD;
		if ((unsigned char)buf[i] > '~')
			return AGENT_BAD;
	}
	return len >= AGENT_LINE_MAX ? AGENT_BAD : AGENT_MORE;
}
