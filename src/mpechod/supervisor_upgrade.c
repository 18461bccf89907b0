/*
 * supervisor_upgrade: the old server's side of a zero-downtime upgrade. A
 * successor connects on --upgrade-socket; the supervisor moves its pidfile
 * aside, sends the listeners, and waits for READY: then it stops accepting
 * (closing its copies of the listeners, never shutting them down: they are
 * the successor's now) and drains as on SIGTERM. If the successor fails
 * first, the pidfile goes back and nothing changes.
 */
#include "supervisor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "model.h"
#include "options.h"
#include "pidfile.h"
#include "upgrade.h"

/* The pidfile's name goes to the successor; this server keeps its file as NAME.old. */
static int
supervisor_upgrade_pidfile(struct supervisor *sv, bool to_old)
{
	char path[4096];

	if (sv->pidfile == NULL)
		return 0;
	if (to_old)
		snprintf(path, sizeof(path), "%s.old", sv->pidfile->path);
	else
		snprintf(path, sizeof(path), "%.*s", (int)(strlen(sv->pidfile->path) - 4), sv->pidfile->path);
	return pidfile_rename(sv->pidfile, path);
}

void
supervisor_upgrade_accept(struct supervisor *sv)
{
	int conn = accept4(sv->upgrade_fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0)
		return;
	if (sv->successor_fd >= 0 || sv->stage != RUNNING) {
		close(conn);	/* one upgrade at a time, and none while stopping */
		return;
	}
	sv->successor_pid = upgrade_peer_pid(conn);
	if (supervisor_upgrade_pidfile(sv, true) < 0 || upgrade_offer(conn, sv->ls) < 0) {
		log_msg(LOG_LVL_ERROR, "event=upgrade-failed successor=%ld error=%s",
		    (long)sv->successor_pid, log_qf("%s", strerror(errno)));
		close(conn);
		return;
	}
	sv->successor_fd = conn;
	log_msg(LOG_LVL_NOTICE, "event=upgrade-offer successor=%ld listeners=%zu",
	    (long)sv->successor_pid, sv->ls->n);
}

/* READY: the successor serves. Stop accepting, keep the sessions, drain them. */
static void
supervisor_handover(struct supervisor *sv)
{
	if (sv->upgrade_fd >= 0)
		close(sv->upgrade_fd);
	sv->upgrade_fd = -1;
	supervisor_drain(sv, true);
	log_msg(LOG_LVL_NOTICE, "event=handover successor=%ld sessions=%d grace=%d",
	    (long)sv->successor_pid, sv->tab.live, sv->cfg->grace);
}

void
supervisor_upgrade_reply(struct supervisor *sv)
{
	char buf[16];
	ssize_t n = recv(sv->successor_fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	close(sv->successor_fd);
	sv->successor_fd = -1;
	if (n == 6 && memcmp(buf, "READY\n", 6) == 0) {
		supervisor_handover(sv);
		return;
	}
	supervisor_upgrade_pidfile(sv, false);
	log_msg(LOG_LVL_ERROR, "event=upgrade-failed successor=%ld error=%s",
	    (long)sv->successor_pid, log_qf("it left before it was ready"));
}

void
supervisor_upgrade_start(struct supervisor *sv, struct supervisor_env *env)
{
	if (sv->cfg->upgrade_socket == NULL)
		return;
	if ((sv->upgrade_fd = upgrade_listen(sv->cfg->upgrade_socket)) < 0)
		log_msg(LOG_LVL_ERROR, "event=error during=upgrade-socket error=%s",
		    log_qf("%s: %s", sv->cfg->upgrade_socket, strerror(errno)));
	if (env->upgrade_conn >= 0) {
		upgrade_ready(env->upgrade_conn);
		env->upgrade_conn = -1;
		log_msg(LOG_LVL_NOTICE, "event=upgrade from=%ld", (long)env->upgrade_from);
	}
}
