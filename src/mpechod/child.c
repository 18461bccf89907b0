/* child: what a forked process closes, unblocks and drops before it serves. */
#include "child.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "privs.h"

void
child_begin(const struct child_env *env, bool keep_listeners, const sigset_t *mask,
    const char *event, int fail_status)
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
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (env->privs != NULL && privs_drop(env->privs) < 0) {
		log_msg(LOG_LVL_ERROR, "event=%s pid=%ld error=%s",
		    event, (long)getpid(), log_qf("cannot become %s: %s", env->privs->name, strerror(errno)));
		_exit(fail_status);
	}
}
