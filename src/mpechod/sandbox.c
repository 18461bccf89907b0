/* sandbox: no_new_privs, and a seccomp filter that refuses the system calls no process of the server makes. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>

/* The one architecture whose system call numbers the filter knows; a call in any other ABI is refused. */
#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#else
#define SANDBOX_ARCH 0		/* unknown here: no filter, no_new_privs only */
#endif
#define SANDBOX_X32 0x40000000U	/* x86_64's x32 calls carry this bit */

/*
 * An ASan build's LeakSanitizer stops the threads with ptrace(2) at exit,
 * from a process of its own: that build keeps the call, and stays dumpable.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_KEEP_PTRACE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_KEEP_PTRACE 1
#endif
#endif

/* Never made by mpechod: a compromised process finds them refused. */
static const unsigned int sandbox_refused[] = {
	SYS_execve, SYS_execveat,				/* run another program */
	SYS_process_vm_readv, SYS_process_vm_writev, SYS_kcmp, SYS_pidfd_getfd,	/* reach into another process */
	SYS_pidfd_send_signal,					/* signal one (kill(2) is judged below) */
#ifndef SANDBOX_KEEP_PTRACE
	SYS_ptrace,
#endif
	SYS_init_module, SYS_finit_module, SYS_delete_module,	/* kernel code */
	SYS_kexec_load, SYS_bpf, SYS_perf_event_open, SYS_userfaultfd,
	SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,	/* the file system's shape */
	SYS_unshare, SYS_setns,					/* namespaces */
	SYS_keyctl, SYS_add_key, SYS_request_key,		/* the kernel keyring */
	SYS_settimeofday, SYS_clock_settime, SYS_adjtimex, SYS_clock_adjtime,	/* the clock */
	SYS_reboot, SYS_swapon, SYS_swapoff, SYS_acct, SYS_syslog, SYS_quotactl,
	SYS_personality, SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_vhangup,
#ifdef SYS_kexec_file_load
	SYS_kexec_file_load,
#endif
#ifdef SYS_iopl
	SYS_iopl, SYS_ioperm,
#endif
#ifdef SYS_uselib
	SYS_uselib,
#endif
};

#define SANDBOX_NREFUSED (sizeof(sandbox_refused) / sizeof(sandbox_refused[0]))
#define SANDBOX_DENY BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

/*
 * The filter: another ABI is refused; then each refused number in turn (a
 * match returns EPERM, else the next is tried); anything else is allowed.
 */
static int
sandbox_filter(void)
{
	struct sock_filter f[6 + 2 * SANDBOX_NREFUSED + 1];
	struct sock_fprog prog = { .len = 0, .filter = f };
	size_t i, n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0);
	f[n++] = (struct sock_filter)SANDBOX_DENY;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SANDBOX_X32, 0, 1);
	f[n++] = (struct sock_filter)SANDBOX_DENY;
	for (i = 0; i < SANDBOX_NREFUSED; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sandbox_refused[i], 0, 1);
		f[n++] = (struct sock_filter)SANDBOX_DENY;
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* The calls that send a signal to the process (or group) named by their first argument. */
static const unsigned int sandbox_signalling[] = {
	SYS_kill, SYS_tkill, SYS_tgkill, SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo,
};
#define SANDBOX_NSIGNALLING (sizeof(sandbox_signalling) / sizeof(sandbox_signalling[0]))
#define SANDBOX_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define SANDBOX_ARG(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))

/* A jump from instruction n: to t if the value is k (JEQ) or at least k (JGE), else to e. */
#define SANDBOX_JUMP(op, k, t, e) (struct sock_filter)BPF_JUMP(BPF_JMP | (op) | BPF_K, (k), \
	(unsigned char)((t) - n - 1), (unsigned char)((e) - n - 1))

/*
 * A filter on signals, stacked on the first. The signalling calls are judged
 * by the low 32 bits of their first argument (the kernel reads a pid_t):
 * self_only, anything but pid is refused; else pid and every group or
 * broadcast (0, negative) are, and a descriptor's owner cannot be set (fcntl
 * F_SETOWN, F_SETOWN_EX; ioctl FIOSETOWN, SIOCSPGRP), which would have the
 * kernel send SIGIO or SIGURG on the caller's behalf. Jumps only go forward:
 * the labels are the instructions' places, counted below.
 */
static int
sandbox_signals(pid_t pid, bool self_only)
{
	const unsigned int sig = SANDBOX_NSIGNALLING + (self_only ? 2 : 3);
	const unsigned int fcntl_at = sig + 4, ioctl_at = fcntl_at + 3;
	const unsigned int allow = self_only ? sig + 2 : ioctl_at + 3, deny = allow + 1;
	struct sock_filter f[SANDBOX_NSIGNALLING + 16];
	struct sock_fprog prog = { .len = 0, .filter = f };
	unsigned int n = 0, i;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (i = 0; i < SANDBOX_NSIGNALLING; i++, n++)
		f[n] = SANDBOX_JUMP(BPF_JEQ, sandbox_signalling[i], sig, n + 1);
	if (!self_only) {
		f[n] = SANDBOX_JUMP(BPF_JEQ, SYS_fcntl, fcntl_at, n + 1), n++;
		f[n] = SANDBOX_JUMP(BPF_JEQ, SYS_ioctl, ioctl_at, allow), n++;
	} else {
		f[n++] = (struct sock_filter)SANDBOX_ALLOW;
	}
	f[n++] = (struct sock_filter)SANDBOX_ARG(0);	/* sig: the pid */
	if (self_only) {
		f[n] = SANDBOX_JUMP(BPF_JEQ, (unsigned int)pid, allow, deny), n++;
	} else {
		f[n] = SANDBOX_JUMP(BPF_JEQ, (unsigned int)pid, deny, n + 1), n++;
		f[n] = SANDBOX_JUMP(BPF_JEQ, 0, deny, n + 1), n++;
		f[n] = SANDBOX_JUMP(BPF_JGE, 0x80000000U, deny, allow), n++;
		f[n++] = (struct sock_filter)SANDBOX_ARG(1);	/* fcntl_at: the command */
		f[n] = SANDBOX_JUMP(BPF_JEQ, F_SETOWN, deny, n + 1), n++;
		f[n] = SANDBOX_JUMP(BPF_JEQ, F_SETOWN_EX, deny, allow), n++;
		f[n++] = (struct sock_filter)SANDBOX_ARG(1);	/* ioctl_at: the request */
		f[n] = SANDBOX_JUMP(BPF_JEQ, FIOSETOWN, deny, n + 1), n++;
		f[n] = SANDBOX_JUMP(BPF_JEQ, SIOCSPGRP, deny, allow), n++;
	}
	f[n++] = (struct sock_filter)SANDBOX_ALLOW;
	f[n++] = (struct sock_filter)SANDBOX_DENY;
	if (n != deny + 1)
		return errno = EINVAL, -1;	/* the labels above are counted wrong: install nothing */
	prog.len = (unsigned short)n;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int
sandbox_shield(pid_t supervisor)
{
	return SANDBOX_ARCH == 0 ? 0 : sandbox_signals(supervisor, false);
}

int
sandbox_signal_self_only(void)
{
	return SANDBOX_ARCH == 0 ? 0 : sandbox_signals(getpid(), true);
}

int
sandbox_enter(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
#ifndef SANDBOX_KEEP_PTRACE
	/* Not dumpable: no process of the same user may read its memory (/proc/PID/mem) or trace it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -1;
#endif
	return SANDBOX_ARCH == 0 ? 0 : sandbox_filter();
}
