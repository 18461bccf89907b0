/*
 * sandbox: what no process of the server may do, whatever code runs in it:
 * gain privileges through execve(2) (no_new_privs), or make a system call it
 * never needs (a seccomp filter: executing a program, tracing or reading
 * another process, loading kernel code or modules, mounting, namespaces, the
 * kernel keyring, the clock). A refused call fails with EPERM. Nor may another
 * process of the same user (a compromised session, without -u) read its
 * memory through /proc/PID/mem or trace it: it is not dumpable (as a process
 * that changed its user is not), and so no core file is written for it
 * either (except in an ASan build, whose leak check traces). Entered once, at
 * start, before the first fork: every process of the server inherits it, and
 * a session pays nothing for it when it is forked.
 */
#ifndef MPECHO_SANDBOX_H
#define MPECHO_SANDBOX_H

#include <sys/types.h>

/* 0, or -1 with errno (EINVAL: this kernel has no seccomp filters). */
int sandbox_enter(void);

/*
 * In the supervisor, before its first child: from now on neither it nor any
 * process it forks may signal the supervisor (pid), a process group or every
 * process (pid 0 or negative), or make the kernel do so for it (a
 * descriptor's owner, for SIGIO and SIGURG). A session, a worker, the UDP
 * process, all run as the same user after -u: without this, any of them
 * could stop or kill the supervisor. 0, or -1 with errno.
 */
int sandbox_shield(pid_t supervisor);

/*
 * In a long-lived child (a prefork or loop worker, the UDP process): it may
 * signal itself only (raise(), abort()), not a sibling. A fork-model session
 * does without (see README: the filter's cost at every fork). 0, or -1.
 */
int sandbox_signal_self_only(void);

#endif
