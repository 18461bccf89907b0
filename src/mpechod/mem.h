/*
 * mem: the supervisor's two kinds of table memory, shared with its children or
 * kept from them; and the libraries its children never call, kept from them.
 */
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

/*
 * Keep every mapping of the shared library whose file name starts with name
 * ("libcrypto.so") from the children forked later (MADV_DONTFORK): a server
 * without TLS never calls OpenSSL in a child, and fork() and exit() then skip
 * its mappings (about an eighth of the fork model's connection rate here).
 * Only for a library no child calls, not even at exit: children leave by
 * _exit(). Returns the mappings marked, or -1 with errno; 0 in an
 * AddressSanitizer build, whose runtime reads every module in the children.
 */
int mem_dontfork_library(const char *name);

/* Release either kind; p may be NULL. */
void mem_free(void *p, size_t len);

#endif
