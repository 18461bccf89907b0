/* mem: the supervisor's two kinds of table memory: shared with its children, or kept from them. */
#ifndef MPECHO_MEM_H
#define MPECHO_MEM_H

#include <stddef.h>

/* Zeroed memory shared with every child forked later (counters, the scoreboard). NULL with errno. */
void *mem_shared(size_t len);

/*
 * Zeroed memory no child inherits (MADV_DONTFORK): a child never reads the
 * supervisor's own tables, so fork() copies no page table for them and the
 * supervisor writing them later copies no page. NULL with errno.
 */
void *mem_private(size_t len);

/* Release either kind; p may be NULL. */
void mem_free(void *p, size_t len);

#endif
