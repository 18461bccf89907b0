/* peer: a client's description for log lines. */
#include "peer.h"

#include <stdio.h>

const char *
peer_text(const struct peer *p, char *buf, size_t len)
{
	if (p->local)
		snprintf(buf, len, "peer=unix peer_uid=%lu peer_pid=%ld", p->uid, p->pid);
	else if (p->via[0] != '\0')
		snprintf(buf, len, "peer=%s via=%s", p->name, p->via);
	else
		snprintf(buf, len, "peer=%s", p->name);
	return buf;
}
