/* pending: the supervisor's table of connections still owing their PROXY header. */
#include "pending.h"

#include <stdlib.h>
#include <unistd.h>

int
pending_init(struct pending *p, int cap)
{
	p->n = 0;
	p->cap = cap;
	/* Ordinary memory, not mem_private(): a forked child reads it to close these descriptors. */
	p->v = calloc((size_t)cap, sizeof(*p->v));
	return p->v == NULL ? -1 : 0;
}

void
pending_free(struct pending *p)
{
	while (p->n > 0)
		pending_remove(p, p->n - 1, false);
	free(p->v);
	p->v = NULL;
}

int
pending_add(struct pending *p, int fd, const struct peer *balancer, int64_t deadline_ms)
{
	struct pending_conn *c;

	if (p->n == p->cap)
		return -1;
	c = &p->v[p->n++];
	c->fd = fd;
	c->balancer = *balancer;
	c->deadline_ms = deadline_ms;
	proxy_wait_init(&c->w);
	return 0;
}

void
pending_remove(struct pending *p, int i, bool keep_fd)
{
	if (!keep_fd)
		close(p->v[i].fd);
	p->v[i] = p->v[--p->n];
}

int64_t
pending_next_deadline(const struct pending *p)
{
	int64_t next = INT64_MAX;
	int i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].deadline_ms < next)
			next = p->v[i].deadline_ms;
	return next;
}
