/*
 * sandbox: what no process of the server may do, whatever code runs in it:
 * gain privileges through execve(2) (no_new_privs), or make a system call it
 * never needs (a seccomp filter: executing a program, tracing or reading
 * another process, loading kernel code or modules, mounting, namespaces, the
 * kernel keyring, the clock). A refused call fails with EPERM. Entered once, at
 * start, before the first fork: every process of the server inherits it, and
 * a session pays nothing for it when it is forked.
 */
#ifndef MPECHO_SANDBOX_H
#define MPECHO_SANDBOX_H

/* 0, or -1 with errno (EINVAL: this kernel has no seccomp filters). */
int sandbox_enter(void);

#endif
