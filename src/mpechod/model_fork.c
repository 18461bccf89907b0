/*
 * model_fork: the classic model. The supervisor accepts; each admitted
 * connection gets a process of its own, which serves it and exits with the
 * session's end reason; the supervisor reaps it and logs its end line.
 */
#include "model.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admission.h"
#include "child.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "options.h"
#include "proctab.h"
#include "session.h"
#include "tally.h"

struct fork_state {
	struct stream_counters *ctrs;	/* a session's byte counts, by slot: shared with the sessions */
	bool at_limit_logged;		/* the limit line is logged once per stretch at -c... */
	struct log_throttle limit_log;	/* ...and at most once a second, however often it dips below */
	struct log_throttle fork_log;	/* fork-failed lines: FORK_FAILED_LINES a second at most */
	sigset_t child_mask;		/* a session's (made once: see fork_child) */
};

#define FORK_FAILED_LINES 10

static int
fork_start(struct model_env *env)
{
	struct fork_state *fs = calloc(1, sizeof(*fs));

	if (fs == NULL)
		return -1;
	env->data = fs;
	fs->limit_log.max = 1;
	fs->fork_log.max = FORK_FAILED_LINES;
	child_mask(&fs->child_mask);
	session_watch_orphan(env->cfg->grace);	/* an orphan finishes within --grace, as in a drain */
	fs->ctrs = mem_shared((size_t)env->cfg->max_conns * sizeof(*fs->ctrs));
	return fs->ctrs == NULL ? -1 : 0;
}

static void
fork_stop(struct model_env *env)
{
	struct fork_state *fs = env->data;

	mem_free(fs->ctrs, (size_t)env->cfg->max_conns * sizeof(*fs->ctrs));
	free(fs);
	env->data = NULL;
}

/*
 * In the new child: drop the supervisor's part, serve, leave with the end
 * reason as the status. What a child would otherwise set up, the supervisor
 * made once (the mask here, child_prepare(), session_watch_orphan()): every
 * page a child writes or code page it runs is one more page fault per
 * connection, and fork and exit are most of a short session's cost.
 */
static void __attribute__((noreturn))
fork_child(struct model_env *env, const struct fork_state *fs, int fd, bool tls,
    struct stream_counters *ctr)
{
	struct child_keep keep = { .ls = NULL, .fd = fd, .line = false };

	child_begin(env->child, &keep, &fs->child_mask, SESSION_ORPHAN_SIGNAL, "session-error",
	    END_ERROR);
	_exit(session_run(fd, tls, env->session, ctr));
}

static void
fork_serve(struct model_env *env, int fd, const struct peer *peer)
{
	struct fork_state *fs = env->data;
	int slot = proctab_claim(env->tab);	/* the supervisor accepts only while there is room */
	struct proc_slot *sl = &env->tab->slots[slot];
	char who[PEER_TEXT_MAX];
	pid_t pid;

	sl->peer = *peer;
	sl->start_ms = clock_ms();
	fs->ctrs[slot].bytes_in = fs->ctrs[slot].bytes_out = fs->ctrs[slot].check = 0;
	if ((pid = fork()) == 0)
		fork_child(env, fs, fd, peer->tls, &fs->ctrs[slot]);
	close(fd);
	if (pid < 0) {
		if (log_throttle_allow(&fs->fork_log, clock_ms(), "fork-failed-held"))
			log_msg(LOG_LVL_ERROR, "event=fork-failed %s error=%s action=closed",
			    peer_text(peer, who, sizeof(who)), log_qerr());
		admission_release(env->adm, peer);
		proctab_unclaim(env->tab, slot);
		env->ended->fork_failures++;
		return;
	}
	proctab_bind(env->tab, slot, pid);
	if (log_enabled(peer->check ? LOG_LVL_DEBUG : LOG_LVL_INFO))	/* -q: no text to build */
		session_log_connect(peer_text(peer, who, sizeof(who)), peer->check, (long)pid,
		    env->tab->live);
	if (env->tab->live == env->cfg->max_conns && !fs->at_limit_logged) {
		fs->at_limit_logged = true;
		if (log_throttle_allow(&fs->limit_log, clock_ms(), "limit-held"))
			log_msg(LOG_LVL_WARN, "event=limit sessions=%d max_conns=%d action=backlog",
			    env->tab->live, env->cfg->max_conns);
	}
}

static void
fork_reaped(struct model_env *env, int slot, pid_t pid, int wstatus)
{
	struct fork_state *fs = env->data;
	const struct proc_slot *sl = &env->tab->slots[slot];
	uint64_t in = __atomic_load_n(&fs->ctrs[slot].bytes_in, __ATOMIC_RELAXED);
	uint64_t out = __atomic_load_n(&fs->ctrs[slot].bytes_out, __ATOMIC_RELAXED);
	enum session_kind kind = session_kind(sl->peer.check, &fs->ctrs[slot]);
	char how[64], who[PEER_TEXT_MAX];

	admission_release(env->adm, &sl->peer);
	tally_end(env->ended, &env->adm->checks, kind, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : END_KILLED,
	    clock_ms() - sl->start_ms);
	env->ended->bytes_in += in;
	env->ended->bytes_out += out;
	if (log_enabled(sl->peer.check ? LOG_LVL_DEBUG : LOG_LVL_INFO))
		session_log_end(peer_text(&sl->peer, who, sizeof(who)), kind,
		    (long)pid, end_describe(wstatus, how, sizeof(how)), in, out,
		    clock_ms() - sl->start_ms, env->tab->live);
	fs->at_limit_logged = false;	/* below the limit again: a new stretch */
}

/* Lines a throttle held back are summed up once their second is over. */
static int64_t
fork_tick(struct model_env *env, int64_t now_ms)
{
	struct fork_state *fs = env->data;
	int64_t next = INT64_MAX;

	if (fs->limit_log.held > 0)
		log_throttle_roll(&fs->limit_log, now_ms, "limit-held");
	if (fs->fork_log.held > 0)
		log_throttle_roll(&fs->fork_log, now_ms, "fork-failed-held");
	if (fs->limit_log.held > 0)
		next = fs->limit_log.window_ms + 1000;
	if (fs->fork_log.held > 0 && fs->fork_log.window_ms + 1000 < next)
		next = fs->fork_log.window_ms + 1000;
	return next;
}

static void
fork_tally(const struct model_env *env, struct tally *t)
{
	const struct fork_state *fs = env->data;
	int i;

	t->sessions = env->tab->live;
	for (i = 0; i < env->tab->size; i++) {
		if (env->tab->slots[i].pid <= 0)
			continue;
		t->bytes_in += __atomic_load_n(&fs->ctrs[i].bytes_in, __ATOMIC_RELAXED);
		t->bytes_out += __atomic_load_n(&fs->ctrs[i].bytes_out, __ATOMIC_RELAXED);
	}
}

static int
fork_peers(const struct model_env *env, struct net_addr *out, int max)
{
	int i, n = 0;

	for (i = 0; i < env->tab->size && n < max; i++)
		if (env->tab->slots[i].pid > 0 && !env->tab->slots[i].peer.local && !env->tab->slots[i].peer.check)
			out[n++] = env->tab->slots[i].peer.addr;
	return n;
}

/*
 * Nothing to tell: a session forked after a reopen inherits the new log
 * file and the new TLS credentials, and in a drain sessions finish on their
 * own.
 */
static void
fork_notify(struct model_env *env, enum model_event ev)
{
	(void)env;
	(void)ev;
}

const struct model model_fork = {
	.name = "fork",
	.start = fork_start,
	.serve = fork_serve,
	.reaped = fork_reaped,
	.tick = fork_tick,
	.tally = fork_tally,
	.peers = fork_peers,
	.notify = fork_notify,
	.stop = fork_stop,
};
