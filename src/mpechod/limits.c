/*
 * limits: a chained hash table of client addresses. An entry lives while its
 * address has live sessions or a rate bucket that is not yet full again. When
 * the table is full, only entries that hold nothing are evicted: no live
 * session, and a bucket full again (a new entry would be the same). If none
 * is, a new address is refused as over the rate until one is: failing closed,
 * so a flood of new (forged) sources cannot push out the addresses the rate
 * is holding back and hand them a full bucket. An address with live sessions
 * always has room: the table is sized for every session at once.
 */
#include "limits.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Tokens are counted in thousandths so that refill needs no floating point. */
#define MILLI 1000

struct source {
	struct net_addr addr;
	int live;
	int64_t tokens;		/* thousandths of a token */
	int64_t refilled_ms;
	int next;		/* next entry in the chain, or -1; the free list when unused */
};

struct limits {
	int max_per_source;
	int rate;
	int capacity;
	int used;
	int free_head;
	int64_t evict_ms;	/* when full: no entry holds nothing before this time */
	int *heads;		/* chain heads, nbuckets of them */
	unsigned nbuckets;
	struct source *v;
	bool shared;		/* made by limits_new_shared(): its memory is mem_shared()'s */
};

static unsigned
addr_hash(const struct limits *l, const struct net_addr *a)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	int i, n = a->family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h & (l->nbuckets - 1);
}

static bool
addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static void *
limits_alloc(bool shared, size_t len)
{
	return shared ? mem_shared(len) : calloc(1, len);
}

static struct limits *
limits_make(int sources, int max_per_source, int rate, bool shared)
{
	struct limits *l = limits_alloc(shared, sizeof(*l));
	int i;

	if (l == NULL)
		return NULL;
	l->shared = shared;
	l->max_per_source = max_per_source;
	l->rate = rate;
	l->capacity = sources;
	l->nbuckets = 1;
	while (l->nbuckets < (unsigned)sources)
		l->nbuckets <<= 1;
	l->heads = limits_alloc(shared, l->nbuckets * sizeof(*l->heads));
	l->v = limits_alloc(shared, (size_t)sources * sizeof(*l->v));
	if (l->heads == NULL || l->v == NULL) {
		limits_free(l);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < (int)l->nbuckets; i++)
		l->heads[i] = -1;
	for (i = 0; i < sources; i++)
		l->v[i].next = i + 1 < sources ? i + 1 : -1;
	l->free_head = 0;
	return l;
}

struct limits *
limits_new(int sources, int max_per_source, int rate)
{
	return limits_make(sources, max_per_source, rate, false);
}

struct limits *
limits_new_shared(int sources, int max_per_source, int rate)
{
	return limits_make(sources, max_per_source, rate, true);
}

void
limits_free(struct limits *l)
{
	if (l == NULL)
		return;
	if (l->shared) {
		mem_free(l->heads, l->nbuckets * sizeof(*l->heads));
		mem_free(l->v, (size_t)l->capacity * sizeof(*l->v));
		mem_free(l, sizeof(*l));
		return;
	}
	free(l->heads);
	free(l->v);
	free(l);
}

static int
find(const struct limits *l, const struct net_addr *a)
{
	int i;

	for (i = l->heads[addr_hash(l, a)]; i >= 0; i = l->v[i].next)
		if (addr_equal(&l->v[i].addr, a))
			return i;
	return -1;
}

static void
unlink_entry(struct limits *l, int idx)
{
	int *p = &l->heads[addr_hash(l, &l->v[idx].addr)];

	while (*p != idx)
		p = &l->v[*p].next;
	*p = l->v[idx].next;
	l->v[idx].next = l->free_head;
	l->free_head = idx;
	l->used--;
}

/*
 * When the entry holds nothing: no live session and, at now_ms, a full bucket
 * (which it always has without a rate). INT64_MAX while it has live sessions.
 * Not a timer: evict_empty() only compares it with now_ms (at or before: drop
 * it now; after: the earliest such time gates the next scan of a full table).
 */
static int64_t
empty_at(const struct limits *l, const struct source *s, int64_t now_ms)
{
	int64_t full = (int64_t)l->rate * MILLI, missing;

	if (s->live > 0)
		return INT64_MAX;
	if (l->rate == 0 || (missing = full - s->tokens) <= 0)
		return s->refilled_ms < now_ms ? s->refilled_ms : now_ms;
	return s->refilled_ms + (missing + l->rate - 1) / l->rate;
}

/*
 * Make room: drop every entry that holds nothing at now_ms, and note when the
 * first of the others will, so that a flood of new sources into a full table
 * does not scan it again for each one before then.
 */
static void
evict_empty(struct limits *l, int64_t now_ms)
{
	int64_t at, next = INT64_MAX;
	unsigned b;
	int i, following;

	if (now_ms < l->evict_ms)
		return;
	for (b = 0; b < l->nbuckets; b++) {
		for (i = l->heads[b]; i >= 0; i = following) {
			following = l->v[i].next;
			if ((at = empty_at(l, &l->v[i], now_ms)) <= now_ms)
				unlink_entry(l, i);
			else if (at < next)
				next = at;
		}
	}
	l->evict_ms = l->free_head >= 0 ? 0 : next;
}

static int
insert(struct limits *l, const struct net_addr *a, int64_t now_ms)
{
	unsigned h;
	int idx;

	if (l->free_head < 0)
		evict_empty(l, now_ms);
	if (l->free_head < 0)
		return -1;
	idx = l->free_head;
	l->free_head = l->v[idx].next;
	h = addr_hash(l, a);
	l->v[idx].addr = *a;
	l->v[idx].live = 0;
	l->v[idx].tokens = (int64_t)l->rate * MILLI;
	l->v[idx].refilled_ms = now_ms;
	l->v[idx].next = l->heads[h];
	l->heads[h] = idx;
	l->used++;
	return idx;
}

/* Refill for the time passed; take one token if there is one. */
static bool
take_token(struct limits *l, struct source *s, int64_t now_ms)
{
	int64_t full = (int64_t)l->rate * MILLI;

	if (now_ms > s->refilled_ms) {
		/* rate tokens a second = rate thousandths of a token a millisecond */
		s->tokens += (now_ms - s->refilled_ms) * l->rate;
		if (s->tokens > full)
			s->tokens = full;
		s->refilled_ms = now_ms;
	}
	if (s->tokens < MILLI)
		return false;
	s->tokens -= MILLI;
	return true;
}

enum limits_verdict
limits_admit(struct limits *l, const struct net_addr *addr, int64_t now_ms)
{
	int idx = find(l, addr);
	struct source *s;

	if (idx < 0 && (idx = insert(l, addr, now_ms)) < 0)
		return l->rate > 0 ? LIMITS_RATE : LIMITS_OK;	/* no room: see the top of this file */
	s = &l->v[idx];
	if (l->max_per_source > 0 && s->live >= l->max_per_source)
		return LIMITS_PER_SOURCE;
	if (l->rate > 0 && !take_token(l, s, now_ms))
		return LIMITS_RATE;
	s->live++;
	return LIMITS_OK;
}

void
limits_release(struct limits *l, const struct net_addr *addr)
{
	int idx = find(l, addr);

	if (idx >= 0 && l->v[idx].live > 0 && --l->v[idx].live == 0)
		l->evict_ms = 0;	/* it may hold nothing now: a full table is worth a look again */
}

int
limits_live(const struct limits *l, const struct net_addr *addr)
{
	int idx = find(l, addr);

	return idx < 0 ? 0 : l->v[idx].live;
}

void
limits_clear_live(struct limits *l)
{
	int i;

	for (i = 0; i < l->capacity; i++)
		l->v[i].live = 0;
	l->evict_ms = 0;	/* as limits_release(): entries may hold nothing now (no release will come) */
}

void
limits_hold(struct limits *l, const struct net_addr *addr, int64_t now_ms)
{
	int idx = find(l, addr);

	if (idx < 0)
		idx = insert(l, addr, now_ms);
	if (idx >= 0)
		l->v[idx].live++;
}
