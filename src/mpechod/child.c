/* child: what a forked process closes, unblocks and drops before it serves. */
#include "child.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "logline.h"
#include "orphan.h"
#include "privs.h"

static volatile pid_t child_supervisor;

/* SIGTERM from the supervisor (its drain is over): die of it; from anyone else: not ours to act on. */
static void
child_on_term(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_pid != child_supervisor)
		return;
	signal(sig, SIG_DFL);
	raise(sig);	/* delivered once this handler returns */
}

void
child_prepare(const struct child_env *env)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_sigaction = child_on_term;
	child_supervisor = env->supervisor;
	sigaction(SIGTERM, &sa, NULL);
}

void
child_mask(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
}

/* What a child keeps besides stdin, stdout and stderr. */
struct child_kept {
	const struct child_keep *keep;	/* NULL: only fds */
	const int *fds;
	size_t nfds;
};

/* The lowest descriptor at or above from that *k keeps; INT_MAX if none. */
static int
child_next_kept(const struct child_kept *k, int from)
{
	int next = INT_MAX;
	size_t i;

	for (i = 0; i < k->nfds; i++)
		if (k->fds[i] >= from && k->fds[i] < next)
			next = k->fds[i];
	for (i = 0; k->keep != NULL && k->keep->ls != NULL && i < k->keep->ls->n; i++)
		if (k->keep->ls->v[i].fd >= from && k->keep->ls->v[i].fd < next)
			next = k->keep->ls->v[i].fd;
	if (k->keep != NULL && k->keep->fd >= from && k->keep->fd < next)
		next = k->keep->fd;
	return next;
}

/*
 * Close every descriptor from 3 up but the kept ones, a close_range() over
 * each gap between them: no table to build, nothing allocated in the child.
 */
static int
child_close_gaps(const struct child_kept *k)
{
	int from = 3, next;

	while ((next = child_next_kept(k, from)) != INT_MAX) {
		if (next > from && close_range((unsigned)from, (unsigned)next - 1, 0) < 0)
			return -1;
		from = next + 1;
	}
	return close_range((unsigned)from, ~0U, 0);
}

int
child_close_except(const int *fds, size_t n)
{
	struct child_kept k = { .keep = NULL, .fds = fds, .nfds = n };

	return child_close_gaps(&k);
}

/* The child's descriptors: those of *keep and the log's (its line too, if keep says so). */
static int
child_close_others(const struct child_keep *keep)
{
	int logs[5];
	struct child_kept k = { .keep = keep, .fds = logs, .nfds = log_fds(logs, 4) };

	if (keep->line && logline_child_fd() >= 0)
		logs[k.nfds++] = logline_child_fd();
	return child_close_gaps(&k);
}

void
child_begin(const struct child_env *env, const struct child_keep *keep, const sigset_t *mask,
    int orphan_signal, const char *event, int fail_status)
{
	char why[160];
	bool failed = false;

	if (child_close_others(keep) < 0) {
		log_errtext(why, sizeof(why), "cannot close the supervisor's descriptors");
		failed = true;
	} else if (env->privs != NULL && privs_drop(env->privs) < 0) {
		log_errtext(why, sizeof(why), "cannot become %s", env->privs->name);
		failed = true;
	}
	orphan_watch(env->supervisor, orphan_signal);	/* the supervisor's death, even a SIGKILL */
	/* sigprocmask() would only call this: one page of the C library less to fault in */
	pthread_sigmask(SIG_SETMASK, mask, NULL);
	if (failed) {
		log_msg(LOG_LVL_ERROR, "event=%s pid=%ld error=%s", event, (long)getpid(), log_qf("%s", why));
		_exit(fail_status);
	}
}
