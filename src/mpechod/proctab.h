/*
 * proctab: the supervisor's table of its children. A slot per child (a
 * session in the fork model, a worker in prefork), a free list, and a pid
 * map, so that reaping finds a child's slot in constant time.
 */
#ifndef MPECHO_PROCTAB_H
#define MPECHO_PROCTAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "peer.h"

struct proc_slot {
	pid_t pid;		/* 0: free */
	int64_t start_ms;	/* monotonic */
	struct peer peer;	/* fork model: the client this session serves */
};

/* pid -> slot index, open addressing with linear probing; pid 0 marks a free cell. */
struct proc_cell {
	pid_t pid;
	int slot;
};

struct proctab {
	struct proc_slot *slots;
	int size;		/* slots in all: at most this many children */
	int live;		/* children now */
	int *free;		/* free slot indexes, a stack */
	int nfree;
	struct proc_cell *map;
	size_t mask;
};

/* Room for size children, in memory no child inherits. 0, or -1 with errno. */
int proctab_init(struct proctab *t, int size);
void proctab_free(struct proctab *t);

/* A free slot for a child about to be forked, or -1 if the table is full. */
int proctab_claim(struct proctab *t);

/* The fork failed: the claimed slot is free again. */
void proctab_unclaim(struct proctab *t, int slot);

/* The child pid now lives in the claimed slot. */
void proctab_bind(struct proctab *t, int slot, pid_t pid);

/*
 * pid was reaped: its slot, now free (what it holds stays readable until
 * the next claim), or -1 if pid is not in the table.
 */
int proctab_reap(struct proctab *t, pid_t pid);

/* Send sig to every live child. */
void proctab_signal(const struct proctab *t, int sig);

#endif
