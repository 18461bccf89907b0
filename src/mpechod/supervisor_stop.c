/*
 * supervisor_stop: the way out, one step per signal or deadline: leaving
 * (--shutdown-delay: not ready, still accepting), draining (the listeners
 * closed, sessions finishing within --grace), then SIGTERM and SIGKILL to
 * what is left.
 */
#include "supervisor.h"

#include <signal.h>

#include "clock.h"
#include "listener.h"
#include "log.h"
#include "model.h"
#include "options.h"

#define KILL_AFTER_MS 2000	/* after SIGTERM to the sessions, SIGKILL for the rest */

bool
supervisor_ready(const struct supervisor *sv)
{
	return sv->stage == RUNNING && !sv->leaving;
}

/* What the agent tells HAProxy: ready, leaving (still accepting) or draining. */
enum agent_state
supervisor_agent_state(void *ctx)
{
	const struct supervisor *sv = ctx;

	return supervisor_ready(sv) ? AGENT_READY : sv->stage == RUNNING ? AGENT_LEAVING :
	    AGENT_DRAINING;
}

/*
 * --shutdown-delay: not ready any more (/readyz 503, the agent says drain), yet
 * still accepting, while balancers and endpoints learn that this server is
 * leaving; the drain begins when the delay is over.
 */
static void
supervisor_leave(struct supervisor *sv, int sig)
{
	sv->leaving = true;
	sv->stop_signal = sig;
	sv->stage_deadline_ms = clock_ms() + (int64_t)sv->cfg->shutdown_delay * 1000;
	notify_send(&sv->notify, "STOPPING=1\nSTATUS=leaving, still accepting");
	log_msg(LOG_LVL_NOTICE, "event=leaving signal=%s sessions=%d delay=%d",
	    end_signal_name(sig), supervisor_tally(sv).sessions, sv->cfg->shutdown_delay);
}

void
supervisor_drain(struct supervisor *sv, bool handed_over)
{
	if (handed_over)
		listeners_close(sv->ls);	/* the successor's now: never shut down */
	else {
		listeners_shutdown(sv->ls);
		privsep_run(&sv->privsep, PRIVSEP_SOCKET_FILES);
	}
	supervisor_udp_stop(sv);	/* datagrams have no session to drain */
	notify_send(&sv->notify, "STOPPING=1\nSTATUS=%s", handed_over ? "handed over, draining" :
	    "draining");
	sv->model->notify(&sv->menv, MODEL_DRAIN);
	sv->stage = DRAINING;
	sv->menv.draining = true;
	sv->stage_deadline_ms = clock_ms() + (int64_t)sv->cfg->grace * 1000;
}

void
supervisor_stop_advance(struct supervisor *sv, int sig)
{
	switch (sv->stage) {
	case RUNNING:
		if (sv->cfg->shutdown_delay > 0 && !sv->leaving) {
			supervisor_leave(sv, sig);
			break;
		}
		/* Stop listening first: once the line is logged, new clients are refused. */
		supervisor_drain(sv, false);
		while (sv->pending.n > 0)	/* no session yet: nothing to drain */
			pending_remove(&sv->pending, sv->pending.n - 1, false);
		log_msg(LOG_LVL_NOTICE, "event=shutdown signal=%s sessions=%d grace=%d",
		    end_signal_name(sig != 0 ? sig : sv->stop_signal), supervisor_tally(sv).sessions,
		    sv->cfg->grace);
		break;
	case DRAINING:
		log_msg(LOG_LVL_NOTICE, "event=terminate sessions=%d signal=TERM", sv->tab.live);
		proctab_signal(&sv->tab, SIGTERM);
		sv->stage = TERMINATING;
		sv->stage_deadline_ms = clock_ms() + KILL_AFTER_MS;
		break;
	case TERMINATING:
	case KILLING:
		log_msg(LOG_LVL_WARN, "event=terminate sessions=%d signal=KILL", sv->tab.live);
		proctab_signal(&sv->tab, SIGKILL);
		supervisor_udp_signal(sv, SIGKILL);
		sv->stage = KILLING;
		sv->stage_deadline_ms = -1;
		break;
	}
}
