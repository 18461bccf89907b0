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

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "options.h"
#include "supervisor.h"

struct fork_state {
	struct stream_counters *ctrs;	/* a session's byte counts, by slot: shared with the sessions */
	bool at_limit_logged;		/* the limit line is logged once per stretch at -c... */
	struct log_throttle limit_log;	/* ...and at most once a second, however often it dips below */
	struct log_throttle fork_log;	/* fork-failed lines: FORK_FAILED_LINES a second at most */
	sigset_t child_mask;		/* a session's (made once: see fork_child) */
};

#define FORK_FAILED_LINES 10

static int
fork_start(struct supervisor *sv)
{
	struct fork_state *fs = calloc(1, sizeof(*fs));

	if (fs == NULL)
		return -1;
	sv->model_data = fs;
	fs->limit_log.max = 1;
	fs->fork_log.max = FORK_FAILED_LINES;
	child_mask(&fs->child_mask);
	session_watch_orphan(sv->cfg->grace);	/* an orphan finishes within --grace, as in a drain */
	fs->ctrs = mem_shared((size_t)sv->cfg->max_conns * sizeof(*fs->ctrs));
	return fs->ctrs == NULL ? -1 : 0;
}

static void
fork_stop(struct supervisor *sv)
{
	struct fork_state *fs = sv->model_data;

	mem_free(fs->ctrs, (size_t)sv->cfg->max_conns * sizeof(*fs->ctrs));
	free(fs);
	sv->model_data = NULL;
}

/*
 * In the new child: drop the supervisor's part, serve, leave with the end
 * reason as the status. What a child would otherwise set up, the supervisor
 * made once (the mask here, child_prepare(), session_watch_orphan()): every
 * page a child writes or code page it runs is one more page fault per
 * connection, and fork and exit are most of a short session's cost.
 */
static void __attribute__((noreturn))
fork_child(struct supervisor *sv, const struct fork_state *fs, int fd, bool tls,
    struct stream_counters *ctr)
{
	struct child_keep keep = { .ls = NULL, .fd = fd };

	child_begin(&sv->child, &keep, &fs->child_mask, SESSION_ORPHAN_SIGNAL, "session-error",
	    END_ERROR);
	_exit(session_run(fd, tls, &sv->session, ctr));
}

static void
fork_serve(struct supervisor *sv, int fd, const struct peer *peer)
{
	struct fork_state *fs = sv->model_data;
	int slot = proctab_claim(&sv->tab);	/* the supervisor accepts only while there is room */
	struct proc_slot *sl = &sv->tab.slots[slot];
	char who[PEER_TEXT_MAX];
	pid_t pid;

	sl->peer = *peer;
	sl->start_ms = clock_ms();
	fs->ctrs[slot].bytes_in = fs->ctrs[slot].bytes_out = fs->ctrs[slot].check = 0;
	if ((pid = fork()) == 0)
		fork_child(sv, fs, fd, peer->tls, &fs->ctrs[slot]);
	close(fd);
	if (pid < 0) {
		if (log_throttle_allow(&fs->fork_log, clock_ms(), "fork-failed-held"))
			log_msg(LOG_LVL_ERROR, "event=fork-failed %s error=%s action=closed",
			    peer_text(peer, who, sizeof(who)), log_qerr());
		admission_release(&sv->adm, peer);
		proctab_unclaim(&sv->tab, slot);
		sv->ended.fork_failures++;
		return;
	}
	proctab_bind(&sv->tab, slot, pid);
	if (log_enabled(peer->check ? LOG_LVL_DEBUG : LOG_LVL_INFO))	/* -q: no text to build */
		session_log_connect(peer_text(peer, who, sizeof(who)), peer->check, (long)pid,
		    sv->tab.live);
	if (sv->tab.live == sv->cfg->max_conns && !fs->at_limit_logged) {
		fs->at_limit_logged = true;
		if (log_throttle_allow(&fs->limit_log, clock_ms(), "limit-held"))
			log_msg(LOG_LVL_WARN, "event=limit sessions=%d max_conns=%d action=backlog",
			    sv->tab.live, sv->cfg->max_conns);
	}
}

static void
fork_reaped(struct supervisor *sv, int slot, pid_t pid, int wstatus)
{
	struct fork_state *fs = sv->model_data;
	const struct proc_slot *sl = &sv->tab.slots[slot];
	uint64_t in = __atomic_load_n(&fs->ctrs[slot].bytes_in, __ATOMIC_RELAXED);
	uint64_t out = __atomic_load_n(&fs->ctrs[slot].bytes_out, __ATOMIC_RELAXED);
	enum session_kind kind = session_kind(sl->peer.check, &fs->ctrs[slot]);
	char how[64], who[PEER_TEXT_MAX];

	admission_release(&sv->adm, &sl->peer);
	tally_end(&sv->ended, &sv->adm.checks, kind, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : END_KILLED,
	    clock_ms() - sl->start_ms);
	sv->ended.bytes_in += in;
	sv->ended.bytes_out += out;
	if (log_enabled(sl->peer.check ? LOG_LVL_DEBUG : LOG_LVL_INFO))
		session_log_end(peer_text(&sl->peer, who, sizeof(who)), kind,
		    (long)pid, end_describe(wstatus, how, sizeof(how)), in, out,
		    clock_ms() - sl->start_ms, sv->tab.live);
	fs->at_limit_logged = false;	/* below the limit again: a new stretch */
}

/* Lines a throttle held back are summed up once their second is over. */
static int64_t
fork_tick(struct supervisor *sv, int64_t now_ms)
{
	struct fork_state *fs = sv->model_data;
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
fork_tally(const struct supervisor *sv, struct tally *t)
{
	const struct fork_state *fs = sv->model_data;
	int i;

	t->sessions = sv->tab.live;
	for (i = 0; i < sv->tab.size; i++) {
		if (sv->tab.slots[i].pid <= 0)
			continue;
		t->bytes_in += __atomic_load_n(&fs->ctrs[i].bytes_in, __ATOMIC_RELAXED);
		t->bytes_out += __atomic_load_n(&fs->ctrs[i].bytes_out, __ATOMIC_RELAXED);
	}
}

static int
fork_peers(const struct supervisor *sv, struct net_addr *out, int max)
{
	int i, n = 0;

	for (i = 0; i < sv->tab.size && n < max; i++)
		if (sv->tab.slots[i].pid > 0 && !sv->tab.slots[i].peer.local && !sv->tab.slots[i].peer.check)
			out[n++] = sv->tab.slots[i].peer.addr;
	return n;
}

/*
 * Nothing to tell: a session forked after a reopen inherits the new log
 * file and the new TLS credentials, and in a drain sessions finish on their
 * own.
 */
static void
fork_notify(struct supervisor *sv, enum model_event ev)
{
	(void)sv;
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
