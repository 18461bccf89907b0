/* pace: --rate's schedule, and the connections waiting for their time in a binary min-heap. */
#include "pace.h"

#include <stdlib.h>

int
pace_init(struct pace *p, int cap)
{
	int i;

	p->n = 0;
	p->cap = cap;
	p->heap = calloc(cap > 0 ? (size_t)cap : 1, sizeof(*p->heap));
	p->pos = calloc(cap > 0 ? (size_t)cap : 1, sizeof(*p->pos));
	if (p->heap == NULL || p->pos == NULL)
		return -1;
	for (i = 0; i < cap; i++)
		p->pos[i] = -1;
	return 0;
}

void
pace_free(struct pace *p)
{
	free(p->heap);
	free(p->pos);
	p->heap = NULL;
	p->pos = NULL;
	p->n = p->cap = 0;
}

int64_t
pace_due(int64_t epoch, double rate, int conns, unsigned id, uint64_t k)
{
	return epoch + (int64_t)(((double)id + (double)k * conns) * 1e9 / rate);
}

static void
swap(struct pace *p, int i, int j)
{
	struct pace_slot s = p->heap[i];

	p->heap[i] = p->heap[j];
	p->heap[j] = s;
	p->pos[p->heap[i].id] = i;
	p->pos[p->heap[j].id] = j;
}

/* Move slot i up, then down, to where its time puts it. */
static void
settle(struct pace *p, int i)
{
	int c;

	while (i > 0 && p->heap[(i - 1) / 2].due > p->heap[i].due) {
		swap(p, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	while ((c = 2 * i + 1) < p->n) {
		if (c + 1 < p->n && p->heap[c + 1].due < p->heap[c].due)
			c++;
		if (p->heap[i].due <= p->heap[c].due)
			break;
		swap(p, i, c);
		i = c;
	}
}

int
pace_push(struct pace *p, int id, int64_t due)
{
	if (id < 0 || id >= p->cap || p->pos[id] >= 0)
		return -1;	/* never: each connection waits at most once */
	p->heap[p->n] = (struct pace_slot){ due, id };
	p->pos[id] = p->n++;
	settle(p, p->n - 1);
	return 0;
}

void
pace_remove(struct pace *p, int id)
{
	int i = id >= 0 && id < p->cap ? p->pos[id] : -1;

	if (i < 0)
		return;
	p->pos[id] = -1;
	if (i == --p->n)
		return;
	p->heap[i] = p->heap[p->n];
	p->pos[p->heap[i].id] = i;
	settle(p, i);
}

int
pace_pop(struct pace *p, int64_t now)
{
	int id;

	if (p->n == 0 || p->heap[0].due > now)
		return -1;
	id = p->heap[0].id;
	pace_remove(p, id);
	return id;
}

int64_t
pace_next(const struct pace *p)
{
	return p->n > 0 ? p->heap[0].due : INT64_MAX;
}
