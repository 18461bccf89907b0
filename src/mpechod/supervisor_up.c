/*
 * supervisor_up: the lines long-lived children wait on or read (the workers'
 * gate, the log's line), and the start's last step: the gate opens, and
 * whoever waits hears it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "logline.h"
#include "options.h"
#include "supervisor.h"

int
supervisor_lines(struct supervisor *sv, const struct supervisor_env *env)
{
	bool workers = sv->model->serve == NULL;

	if (workers && (sv->gate = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -1;
	if (sv->cfg->log_target == LOG_TO_FILE && (workers || env->udp->n > 0))
		return logline_open();
	return 0;
}

/*
 * Workers started before "ready" was logged wait until the gate is readable
 * (they never read it: it stays so for every one of them), so that a
 * connection queued before the start (on an inherited socket) is logged after
 * the lines that say the server is up. Workers forked later find no gate,
 * and the fork model has none (it would cost a descriptor for nothing).
 */
static int
supervisor_open_gate(struct supervisor *sv, char *msg, size_t msglen)
{
	int rc;

	if (sv->gate < 0)	/* the supervisor accepts itself: no worker waits */
		return 0;
	if ((rc = eventfd_write(sv->gate, 1)) < 0)
		log_errtext(msg, msglen, "cannot let the workers in");
	close(sv->gate);
	sv->gate = sv->menv.gate = -1;
	return rc;
}

int
supervisor_up(struct supervisor *sv, struct supervisor_env *env, char *msg, size_t msglen)
{
	if (supervisor_open_gate(sv, msg, msglen) < 0)
		return -1;
	/* A daemon is not the process the manager started: it names itself the main one. */
	if (sv->cfg->daemonize)
		notify_send(&sv->notify, "READY=1\nMAINPID=%ld", (long)getpid());
	else
		notify_send(&sv->notify, "READY=1");
	daemon_ready(env->ready_fd, NULL);
	env->ready_fd = -1;
	return 0;
}
