/*
 * mem: the supervisor's kinds of table memory: shared with its children, kept
 * from them, or published to them (theirs to read only); and the libraries
 * its children never call, kept from them.
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

/*
 * Zeroed memory the supervisor writes and its children may only read: the
 * returned mapping is read-only, inherited by every child forked later, and
 * cannot be made writable (mprotect() fails with EACCES): it maps a memfd
 * sealed against writable mappings (F_SEAL_FUTURE_WRITE) before it was made.
 * *writer is the supervisor's own, writable, mapping of the same pages, kept
 * from children (MADV_DONTFORK). The memfd is closed: nothing else reaches
 * the pages. NULL with errno.
 */
void *mem_published(size_t len, void **writer);

/* Release any kind (each of mem_published()'s two mappings); p may be NULL. */
void mem_free(void *p, size_t len);

#endif
