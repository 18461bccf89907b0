/*
 * model_loop_timer: a worker's sessions in a binary min-heap by their next
 * deadline. Every session is in it (INT64_MAX: no deadline), so the heap is
 * also the list of a worker's sessions. A deadline that moves later (the
 * idle timeout, on every byte) is not updated here on each I/O: when it
 * comes, the session computes its true one and goes back in.
 */
#include "model_loop.h"

#include <errno.h>
#include <stdlib.h>

#include "session.h"
#include "tls_server.h"

int
loop_heap_init(struct loop_heap *h, int cap)
{
	h->n = 0;
	h->cap = cap > 16 ? cap : 16;
	h->v = malloc((size_t)h->cap * sizeof(*h->v));
	return h->v == NULL ? -1 : 0;
}

void
loop_heap_free(struct loop_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

static void
heap_put(struct loop_heap *h, int i, struct loop_session *s)
{
	h->v[i] = s;
	s->heap_at = i;
}

static void
heap_up(struct loop_heap *h, int i)
{
	struct loop_session *s = h->v[i];
	int parent;

	while (i > 0 && h->v[parent = (i - 1) / 2]->due_ms > s->due_ms) {
		heap_put(h, i, h->v[parent]);
		i = parent;
	}
	heap_put(h, i, s);
}

static void
heap_down(struct loop_heap *h, int i)
{
	struct loop_session *s = h->v[i];
	int child;

	while ((child = 2 * i + 1) < h->n) {
		if (child + 1 < h->n && h->v[child + 1]->due_ms < h->v[child]->due_ms)
			child++;
		if (h->v[child]->due_ms >= s->due_ms)
			break;
		heap_put(h, i, h->v[child]);
		i = child;
	}
	heap_put(h, i, s);
}

int
loop_heap_set(struct loop_heap *h, struct loop_session *s, int64_t due)
{
	struct loop_session **v;
	int64_t was = s->due_ms;

	s->due_ms = due;
	if (s->heap_at >= 0) {
		if (due < was)
			heap_up(h, s->heap_at);
		else
			heap_down(h, s->heap_at);
		return 0;
	}
	if (h->n == h->cap) {
		if ((v = realloc(h->v, (size_t)h->cap * 2 * sizeof(*v))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		h->v = v;
		h->cap *= 2;
	}
	heap_put(h, h->n++, s);
	heap_up(h, s->heap_at);
	return 0;
}

void
loop_heap_remove(struct loop_heap *h, struct loop_session *s)
{
	int i = s->heap_at;
	struct loop_session *last;

	if (i < 0)
		return;
	s->heap_at = -1;
	last = h->v[--h->n];
	if (last == s)
		return;
	heap_put(h, i, last);
	heap_up(h, i);
	heap_down(h, last->heap_at);
}

struct loop_session *
loop_heap_top(const struct loop_heap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

/* When a session is next due: its linger's end, its handshake's, --idle-timeout's or --max-time's. */
int64_t
loop_session_deadline(const struct loop_worker *w, const struct loop_session *s)
{
	const struct session_params *p = w->job->session;
	int64_t due = INT64_MAX;

	if (s->state == LOOP_LINGER)
		return s->linger_ms;
	if (s->state == LOOP_HANDSHAKE)
		due = s->start_ms + p->tls->timeout_ms;
	else if (p->idle_timeout > 0)
		due = s->last_ms + (int64_t)p->idle_timeout * 1000;
	if (p->max_time > 0 && s->start_ms + (int64_t)p->max_time * 1000 < due)
		due = s->start_ms + (int64_t)p->max_time * 1000;
	return due;
}
