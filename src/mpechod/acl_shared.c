/* acl_shared: the access rules in force, published by the supervisor, read by every process. */
#include "acl_shared.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct acl_shared {
	unsigned seq;			/* odd while a publish is under way; never 0 once published */
	size_t cap;			/* set at creation, read only by the publisher */
	void *view;			/* the read-only mapping of this, for the children */
	size_t n;
	bool any_allow;
	struct acl_rule rules[];
};

static size_t
acl_shared_size(size_t cap)
{
	return sizeof(struct acl_shared) + cap * sizeof(struct acl_rule);
}

struct acl_shared *
acl_shared_new(size_t cap)
{
	void *w = NULL, *view = mem_published(acl_shared_size(cap), &w);
	struct acl_shared *s = w;

	if (view == NULL)
		return NULL;
	s->cap = cap;
	s->view = view;
	return s;
}

const struct acl_shared *
acl_shared_view(const struct acl_shared *s)
{
	return s->view;
}

int
acl_shared_publish(struct acl_shared *s, const struct acl *acl)
{
	if (acl->n > s->cap) {
		errno = E2BIG;
		return -1;
	}
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);	/* odd: readers wait it out */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (acl->n > 0)
		memcpy(s->rules, acl->rules, acl->n * sizeof(acl->rules[0]));
	s->n = acl->n;
	s->any_allow = acl->any_allow;
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	return 0;
}

void
acl_shared_free(struct acl_shared *s)
{
	size_t len;

	if (s == NULL)
		return;
	len = acl_shared_size(s->cap);
	mem_free(s->view, len);
	mem_free(s, len);
}

/* One try at copying the set published as seq: true if no publish overlapped it. */
static bool
acl_view_copy(struct acl_view *v, unsigned seq)
{
	const struct acl_shared *s = v->from;
	size_t n = s->n;
	struct acl_rule *r;

	if (n > s->cap)
		return false;	/* read while a publish changed it: the check below says so too */
	if (n > v->acl.n && (r = realloc(v->acl.rules, n * sizeof(*r))) != NULL)
		v->acl.rules = r;
	else if (n > v->acl.n)
		return true;	/* no memory: keep the old copy, try at the next judgement */
	if (n > 0)
		memcpy(v->acl.rules, s->rules, n * sizeof(s->rules[0]));
	v->acl.n = n;
	v->acl.any_allow = s->any_allow;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq)
		return false;
	v->seen = seq;
	return true;
}

/*
 * A publish takes microseconds; the tries are bounded all the same, so that a
 * supervisor that died in the middle of one leaves its children on the rules
 * they had rather than spinning.
 */
#define ACL_VIEW_TRIES 100000

const struct acl *
acl_view_get(struct acl_view *v)
{
	unsigned seq;
	int tries;

	for (tries = 0; tries < ACL_VIEW_TRIES; tries++) {
		seq = __atomic_load_n(&v->from->seq, __ATOMIC_ACQUIRE);
		if (seq == v->seen || ((seq & 1) == 0 && acl_view_copy(v, seq)))
			break;
	}
	return &v->acl;
}

void
acl_view_free(struct acl_view *v)
{
	acl_free(&v->acl);
	v->seen = 0;
}
