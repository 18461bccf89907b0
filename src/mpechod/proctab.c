/* proctab: slots, a free list and a pid map for the supervisor's children. */
#include "proctab.h"

#include <signal.h>

#include "mem.h"

static size_t
proctab_hash(const struct proctab *t, pid_t pid)
{
	return ((uint32_t)pid * 2654435761u) & t->mask;
}

int
proctab_init(struct proctab *t, int size)
{
	size_t cells = 1;
	int i;

	while (cells < (size_t)size * 2)
		cells <<= 1;
	t->size = size;
	t->live = 0;
	t->mask = cells - 1;
	t->slots = mem_private((size_t)size * sizeof(*t->slots));
	t->free = mem_private((size_t)size * sizeof(*t->free));
	t->map = mem_private(cells * sizeof(*t->map));
	if (t->slots == NULL || t->free == NULL || t->map == NULL) {
		proctab_free(t);
		return -1;
	}
	for (t->nfree = 0, i = size - 1; i >= 0; i--)
		t->free[t->nfree++] = i;
	return 0;
}

void
proctab_free(struct proctab *t)
{
	mem_free(t->slots, (size_t)t->size * sizeof(*t->slots));
	mem_free(t->free, (size_t)t->size * sizeof(*t->free));
	mem_free(t->map, (t->mask + 1) * sizeof(*t->map));
	t->slots = NULL;
	t->free = NULL;
	t->map = NULL;
}

int
proctab_claim(struct proctab *t)
{
	return t->nfree > 0 ? t->free[--t->nfree] : -1;
}

void
proctab_unclaim(struct proctab *t, int slot)
{
	t->free[t->nfree++] = slot;
}

void
proctab_bind(struct proctab *t, int slot, pid_t pid)
{
	size_t i = proctab_hash(t, pid);

	while (t->map[i].pid != 0)
		i = (i + 1) & t->mask;
	t->map[i].pid = pid;
	t->map[i].slot = slot;
	t->slots[slot].pid = pid;
	t->live++;
}

/* Remove pid from the map and return its slot, or -1. Backward-shift deletion keeps probes short. */
static int
proctab_unmap(struct proctab *t, pid_t pid)
{
	size_t i = proctab_hash(t, pid), j, home;
	int slot;

	while (t->map[i].pid != pid) {
		if (t->map[i].pid == 0)
			return -1;
		i = (i + 1) & t->mask;
	}
	slot = t->map[i].slot;
	for (j = (i + 1) & t->mask; t->map[j].pid != 0; j = (j + 1) & t->mask) {
		home = proctab_hash(t, t->map[j].pid);
		/* The entry at j may move to the hole at i unless its home lies in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->map[i] = t->map[j];
		i = j;
	}
	t->map[i].pid = 0;
	return slot;
}

int
proctab_reap(struct proctab *t, pid_t pid)
{
	int slot = proctab_unmap(t, pid);

	if (slot < 0)
		return -1;
	t->slots[slot].pid = 0;
	t->free[t->nfree++] = slot;
	t->live--;
	return slot;
}

void
proctab_signal(const struct proctab *t, int sig)
{
	int i;

	for (i = 0; i < t->size; i++)
		if (t->slots[i].pid > 0)
			kill(t->slots[i].pid, sig);
}
