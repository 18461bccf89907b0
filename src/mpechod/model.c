/*
 * model: what the pool models (prefork, loop) share: forking a worker, reading
 * its signals, holding respawns back when workers crash in a loop, the limit line.
 */
#include "model.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "listener.h"
#include "log.h"
#include "proctab.h"
#include "sandbox.h"
#include "tally.h"

#define MODEL_FAST_FAIL_MS 1000	/* a worker that dies this young failed fast... */
#define MODEL_FAST_FAILS 5	/* ...and this many fast failures in MODEL_FAIL_WINDOW_MS... */
#define MODEL_FAIL_WINDOW_MS 10000
#define MODEL_BACKOFF_MAX_MS 60000	/* ...hold respawns for 1 s, 2 s, 4 s ... up to this */

pid_t
model_worker_fork(struct model_env *env, int slot, const sigset_t *signals, int orphan_signal)
{
	struct child_keep keep = { .ls = env->ls, .fd = env->gate, .line = true };
	sigset_t mask;
	pid_t pid;

	env->tab->slots[slot].start_ms = clock_ms();
	if ((pid = fork()) == 0) {
		child_mask(&mask);
		sigorset(&mask, &mask, signals);
		/* An orphaned worker ends what it serves within --grace, and frees the listeners. */
		child_begin(env->child, &keep, &mask, orphan_signal, "worker-error", 1);
		if (sandbox_signal_self_only() < 0) {
			log_msg(LOG_LVL_ERROR, "event=worker-error pid=%ld error=%s", (long)getpid(),
			    log_qerrf("cannot confine its signals"));
			_exit(1);
		}
		return 0;
	}
	if (pid < 0) {
		log_msg(LOG_LVL_ERROR, "event=fork-failed error=%s action=retry", log_qerr());
		env->ended->fork_failures++;
		proctab_unclaim(env->tab, slot);
		return -1;
	}
	proctab_bind(env->tab, slot, pid);
	env->ended->workers_started++;
	log_msg(LOG_LVL_DEBUG, "event=worker-start pid=%ld workers=%d", (long)pid, env->tab->live);
	return pid;
}

bool
model_worker_signal(int sigfd, struct signalfd_siginfo *si)
{
	ssize_t n;

	while ((n = read(sigfd, si, sizeof(*si))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(*si);
}

void
model_worker_failed(struct model_respawn *r, int64_t age, int64_t now)
{
	if (age >= MODEL_FAST_FAIL_MS)
		return;
	if (now - r->window_ms > MODEL_FAIL_WINDOW_MS) {
		r->window_ms = now;
		r->fails = 0;
	}
	if (++r->fails < MODEL_FAST_FAILS)
		return;
	r->backoff_ms = r->backoff_ms == 0 ? 1000 : r->backoff_ms * 2 > MODEL_BACKOFF_MAX_MS ?
	    MODEL_BACKOFF_MAX_MS : r->backoff_ms * 2;
	r->hold_ms = now + r->backoff_ms;
	log_msg(LOG_LVL_ERROR, "event=respawn-throttled failures=%d window_ms=%d delay_ms=%lld",
	    r->fails, MODEL_FAIL_WINDOW_MS, (long long)r->backoff_ms);
	r->fails = 0;
	r->window_ms = now;
}

void
model_limit_lines(struct log_throttle *t, uint64_t *seen, uint64_t hits, int max_conns, int64_t now)
{
	if (t->held > 0)
		log_throttle_roll(t, now, "limit-held");
	if (hits <= *seen)
		return;
	if (log_throttle_allow(t, now, "limit-held"))
		log_msg(LOG_LVL_WARN, "event=limit sessions=%d max_conns=%d action=backlog", max_conns,
		    max_conns);
	t->held += hits - *seen - 1;
	*seen = hits;
}
