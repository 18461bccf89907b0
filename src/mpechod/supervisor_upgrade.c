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
#include "sockfile.h"
#include "upgrade.h"

/* The pidfile's name goes to the successor; this server keeps its file as NAME.old. */
static int
supervisor_upgrade_pidfile(struct supervisor *sv, bool to_old)
{
	return privsep_run(&sv->privsep, to_old ? PRIVSEP_PIDFILE_OLD : PRIVSEP_PIDFILE_BACK);
}

/* The server's own endpoints go with the listeners: the successor takes those it still has. */
static size_t
supervisor_upgrade_extras(const struct supervisor *sv, struct upgrade_extra *x)
{
	size_t n = 0;

	if (sv->metrics.fd >= 0)
		x[n++] = (struct upgrade_extra){ .name = "metrics", .fd = sv->metrics.fd };
	if (sv->agent.fd >= 0)
		x[n++] = (struct upgrade_extra){ .name = "agent", .fd = sv->agent.fd };
	return n;
}

void
supervisor_upgrade_accept(struct supervisor *sv)
{
	int conn = accept4(sv->upgrade_fd, NULL, NULL, SOCK_CLOEXEC);
	struct upgrade_extra x[UPGRADE_EXTRAS];
	size_t nx = supervisor_upgrade_extras(sv, x);

	if (conn < 0)
		return;
	if (sv->successor_fd >= 0 || sv->stage != RUNNING) {	/* one at a time, none while stopping */
		upgrade_refuse(conn, sv->successor_fd >= 0 ? UPGRADE_BUSY : UPGRADE_STOPPING,
		    sv->successor_pid);
		return;
	}
	sv->successor_pid = upgrade_peer_pid(conn);
	if (supervisor_upgrade_pidfile(sv, true) < 0 || upgrade_offer(conn, sv->ls, x, nx) < 0) {
		log_msg(LOG_LVL_ERROR, "event=upgrade-failed successor=%ld error=%s",
		    (long)sv->successor_pid, log_qerr());
		supervisor_upgrade_pidfile(sv, false);
		close(conn);
		return;
	}
	sv->successor_fd = conn;
	sv->successor_deadline_ms = clock_ms() + UPGRADE_READY_MS;
	log_msg(LOG_LVL_NOTICE, "event=upgrade-offer successor=%ld listeners=%zu endpoints=%zu",
	    (long)sv->successor_pid, sv->ls->n, nx);
}

/* READY: the successor serves. Stop accepting (its endpoints too), keep the sessions, drain them. */
static void
supervisor_handover(struct supervisor *sv)
{
	if (sv->upgrade_fd >= 0)
		close(sv->upgrade_fd);
	sv->upgrade_fd = -1;
	metrics_close_listener(&sv->metrics);	/* scrapes in hand are answered still */
	agent_close_listener(&sv->agent);
	supervisor_drain(sv, true);
	log_msg(LOG_LVL_NOTICE, "event=handover successor=%ld sessions=%d grace=%d",
	    (long)sv->successor_pid, sv->tab.live, sv->cfg->grace);
}

/* The successor left, or was given up: the pidfile gets its name back, and nothing changes. */
static void
supervisor_upgrade_failed(struct supervisor *sv, const char *why)
{
	if (sv->successor_fd >= 0)
		upgrade_refuse(sv->successor_fd, UPGRADE_TIMEOUT, 0);	/* read only if it waits */
	sv->successor_fd = -1;
	supervisor_upgrade_pidfile(sv, false);
	log_msg(LOG_LVL_ERROR, "event=upgrade-failed successor=%ld error=%s", (long)sv->successor_pid,
	    log_qf("%s", why));
}

void
supervisor_upgrade_reply(struct supervisor *sv)
{
	char buf[16], why[64];
	ssize_t n = recv(sv->successor_fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	snprintf(why, sizeof(why), "no READY within %d s", UPGRADE_READY_MS / 1000);
	if (n == 6 && memcmp(buf, "READY\n", 6) == 0 && clock_ms() > sv->successor_deadline_ms) {
		supervisor_upgrade_failed(sv, why);	/* too late: it is told so, and gives up */
		return;
	}
	if (n == 6 && memcmp(buf, "READY\n", 6) == 0) {
		close(sv->successor_fd);	/* its answer: the listeners are the successor's */
		sv->successor_fd = -1;
		supervisor_handover(sv);
		return;
	}
	close(sv->successor_fd);
	sv->successor_fd = -1;
	supervisor_upgrade_failed(sv, "it left before it was ready");
}

int64_t
supervisor_upgrade_tick(struct supervisor *sv, int64_t now)
{
	char why[64];

	if (sv->successor_fd < 0)
		return INT64_MAX;
	if (now < sv->successor_deadline_ms)
		return sv->successor_deadline_ms;
	snprintf(why, sizeof(why), "no READY within %d s", UPGRADE_READY_MS / 1000);
	supervisor_upgrade_failed(sv, why);
	return INT64_MAX;
}

int
supervisor_upgrade_start(struct supervisor *sv, struct supervisor_env *env, char *err, size_t errlen)
{
	if (env->upgrade_conn >= 0) {	/* READY first: a predecessor that gave up keeps the path */
		if (upgrade_ready(env->upgrade_conn, env->upgrade_from, err, errlen) < 0) {
			env->upgrade_conn = -1;
			return -1;
		}
		env->upgrade_conn = -1;
		log_msg(LOG_LVL_NOTICE, "event=upgrade from=%ld listeners=%zu endpoints=%s",
		    (long)env->upgrade_from, sv->ls->n, env->handed[0] != '\0' ? env->handed : "none");
	}
	if (sv->cfg->upgrade_socket == NULL)
		return 0;
	if ((sv->upgrade_fd = upgrade_listen(sv->cfg->upgrade_socket, &sv->upgrade_file)) < 0)
		log_msg(LOG_LVL_ERROR, "event=error during=upgrade-socket error=%s",
		    log_qerrf("%s", sv->cfg->upgrade_socket));
	return 0;
}
