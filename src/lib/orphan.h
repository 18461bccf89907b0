/* orphan: a forked child that ends with its parent, rather than live on without it. */
#ifndef MPECHO_ORPHAN_H
#define MPECHO_ORPHAN_H

#include <sys/types.h>

/*
 * In a child, first thing after fork(): ask the kernel for sig when parent
 * (the forking process's pid, read before fork()) dies, and raise sig at once
 * if it died already, between the fork and the request: the child's parent is
 * then another (PID 1, or a subreaper), so the check is against parent, not 1.
 * A blocked sig stays pending, for the caller's signalfd or mask to take.
 * The kernel sends it when the thread that forked ends: fork from the thread
 * that lives as long as the process. 0, or -1 with errno (the request was
 * refused; the check was made all the same).
 */
int orphan_watch(pid_t parent, int sig);

#endif
