/* child: what a forked process closes, unblocks and drops before it serves. */
#include "child.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
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

static void
child_signals(const struct child_env *env, int orphan_signal)
{
	prctl(PR_SET_PDEATHSIG, orphan_signal);
	if (getppid() != env->supervisor)
		raise(orphan_signal);	/* it died before the line above */
}

void
child_begin(const struct child_env *env, bool keep_listeners, const sigset_t *mask,
    int orphan_signal, const char *event, int fail_status)
{
	size_t i;

	if (!keep_listeners)
		for (i = 0; i < env->ls->n; i++)
			close(env->ls->v[i].fd);
	close(env->sigfd);
	if (env->pidfile_fd >= 0)
		close(env->pidfile_fd);
	if (env->close_private != NULL)
		env->close_private(env->ctx);
	child_signals(env, orphan_signal);
	/* sigprocmask() would only call this: one page of the C library less to fault in */
	pthread_sigmask(SIG_SETMASK, mask, NULL);
	if (env->privs != NULL && privs_drop(env->privs) < 0) {
		log_msg(LOG_LVL_ERROR, "event=%s pid=%ld error=%s",
		    event, (long)getpid(), log_qf("cannot become %s: %s", env->privs->name, strerror(errno)));
		_exit(fail_status);
	}
}
