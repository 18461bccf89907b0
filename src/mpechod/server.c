/* server: the supervisor. It never touches payload: it accepts, forks, reaps and logs. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "pidfile.h"
#include "limits.h"
#include "log.h"
#include "prefork.h"
#include "privs.h"
#include "service.h"
#include "session.h"
#include "transport.h"

#define ACCEPT_BATCH 64		/* connections taken per wake-up of one listener */
#define PAUSE_MS 200		/* accepting rests this long after EMFILE, ENFILE, ENOMEM */
#define KILL_AFTER_MS 2000	/* after SIGTERM to the sessions, SIGKILL for the rest */
#define REFUSAL_LINES 10	/* refusal lines logged a second at most; the rest are counted */
#define MAINTAIN_MS 100		/* prefork: the pool is sized this often */
#define FAST_FAIL_MS 1000	/* prefork: a worker that dies this young failed fast... */
#define FAST_FAILS 5		/* ...and this many fast failures in FAIL_WINDOW_MS... */
#define FAIL_WINDOW_MS 10000
#define BACKOFF_MAX_MS 60000	/* ...hold respawns for 1 s, 2 s, 4 s ... up to this */

/* What the supervisor knows of one live session (private memory). */
struct slot {
	pid_t pid;
	bool retiring;		/* prefork: told to leave (SIGUSR1) */
	int64_t start_ms;
	struct net_addr addr;	/* counted in the per-source limits while live */
	char peer[NET_ADDRSTRLEN];
};

/* pid -> slot index, open addressing with linear probing; pid 0 marks a free cell. */
struct pid_cell {
	pid_t pid;
	int slot;
};

enum stop_stage { RUNNING, DRAINING, TERMINATING, KILLING };

/* Why a connection was closed without a session; status counters by reason. */
enum refusal { REFUSED_ACL, REFUSED_PER_SOURCE, REFUSED_RATE, NREFUSALS };

static const char *const refusal_names[NREFUSALS] = {
	[REFUSED_ACL] = "acl",
	[REFUSED_PER_SOURCE] = "per-source",
	[REFUSED_RATE] = "rate",
};


struct server {
	const struct config *cfg;
	struct session_params params;	/* what every session is given */
	struct server_env *env;
	struct listeners *ls;
	int sigfd;
	struct limits *limits;		/* NULL when no per-source limit is set */
	uint64_t refused[NREFUSALS];
	struct log_throttle refusal_log;
	bool at_limit_logged;
	struct slot *slots;
	struct stream_counters *ctrs;	/* fork model: shared with the children */
	struct worker_board *board;	/* prefork: the scoreboard, shared with the workers */
	struct prefork_totals *totals;	/* prefork: shared with the workers */
	int64_t maintain_ms;		/* prefork: next pool check */
	int64_t spawn_hold_ms;		/* prefork: no new worker before then (crash loop) */
	int64_t backoff_ms;
	int64_t fail_window_ms;
	int fast_fails;
	int *free_slots;
	int nfree;
	struct pid_cell *map;
	size_t map_mask;
	int live;
	int64_t start_ms;
	uint64_t served;		/* sessions that ended (prefork: of workers that ended) */
	uint64_t bytes_in, bytes_out;	/* of sessions that ended (prefork: of workers that ended) */
	int64_t resume_ms;		/* accepting paused until then (0: not paused) */
	bool accept_error_logged;
	enum stop_stage stage;
	int64_t stage_deadline_ms;
};

static const int handled_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
signal_name(int sig)
{
	const char *name = sigabbrev_np(sig);

	return name != NULL ? name : "?";
}

static size_t
pid_hash(const struct server *s, pid_t pid)
{
	return ((uint32_t)pid * 2654435761u) & s->map_mask;
}

static void
map_put(struct server *s, pid_t pid, int slot)
{
	size_t i = pid_hash(s, pid);

	while (s->map[i].pid != 0)
		i = (i + 1) & s->map_mask;
	s->map[i].pid = pid;
	s->map[i].slot = slot;
}

/* Remove pid from the map and return its slot, or -1. Backward-shift deletion keeps probes short. */
static int
map_take(struct server *s, pid_t pid)
{
	size_t i = pid_hash(s, pid), j, home;
	int slot;

	while (s->map[i].pid != pid) {
		if (s->map[i].pid == 0)
			return -1;
		i = (i + 1) & s->map_mask;
	}
	slot = s->map[i].slot;
	for (j = (i + 1) & s->map_mask; s->map[j].pid != 0; j = (j + 1) & s->map_mask) {
		home = pid_hash(s, s->map[j].pid);
		/* The entry at j may move to the hole at i unless its home lies in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		s->map[i] = s->map[j];
		i = j;
	}
	s->map[i].pid = 0;
	return slot;
}

/* Block the signals the loop reads from its signalfd; dispositions to default first (an ignored signal is never queued). */
static int
signals_open(void)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++) {
		signal(handled_signals[i], SIG_DFL);
		sigaddset(&set, handled_signals[i]);
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/*
 * In a new child: drop what belongs to the supervisor, restore the signal
 * mask, serve. It only closes descriptors and writes nothing to the
 * supervisor's memory, so no page of it is copied just for that.
 */
static void
child_run(struct server *s, int fd, int slot)
{
	sigset_t none;
	size_t i;

	for (i = 0; i < s->ls->n; i++)
		close(s->ls->v[i].fd);
	close(s->sigfd);
	if (s->env->pidfile != NULL)
		close(s->env->pidfile->fd);	/* the lock stays with the supervisor alone */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (s->cfg->privs.set && privs_drop(&s->cfg->privs) < 0) {
		log_msg(LOG_LVL_ERROR, "event=session-error pid=%ld error=\"cannot become %s: %s\"",
		    (long)getpid(), s->cfg->privs.name, strerror(errno));
		_exit(END_ERROR);
	}
	_exit(session_run(fd, &s->params, &s->ctrs[slot]));
}

static void
spawn(struct server *s, int fd, const struct net_addr *addr, const char *peer)
{
	int idx = s->free_slots[--s->nfree];
	struct slot *sl = &s->slots[idx];
	pid_t pid;

	memcpy(sl->peer, peer, sizeof(sl->peer));
	sl->addr = *addr;
	sl->start_ms = now_ms();
	s->ctrs[idx].bytes_in = s->ctrs[idx].bytes_out = 0;
	pid = fork();
	if (pid == 0)
		child_run(s, fd, idx);
	close(fd);
	if (pid < 0) {
		log_msg(LOG_LVL_ERROR, "event=fork-failed peer=%s error=\"%s\" action=closed",
		    sl->peer, strerror(errno));
		if (s->limits != NULL)
			limits_release(s->limits, addr);
		s->free_slots[s->nfree++] = idx;
		return;
	}
	sl->pid = pid;
	map_put(s, pid, idx);
	s->live++;
	log_msg(LOG_LVL_INFO, "event=connect peer=%s pid=%ld sessions=%d",
	    sl->peer, (long)pid, s->live);
	if (s->live == s->cfg->max_conns && !s->at_limit_logged) {
		/* Once per stretch at the limit: it ends when the supervisor accepts again below it. */
		log_msg(LOG_LVL_WARN, "event=limit sessions=%d max_conns=%d action=backlog",
		    s->live, s->cfg->max_conns);
		s->at_limit_logged = true;
	}
}

/* Log a refusal unless REFUSAL_LINES were logged this second; a flood cannot fill the disk. */
static void
log_refusal(struct server *s, enum refusal why, const char *peer, int64_t now)
{
	if (log_throttle_allow(&s->refusal_log, now, "refused-held"))
		log_msg(LOG_LVL_WARN, "event=refused peer=%s reason=%s", peer, refusal_names[why]);
}

/* Admission: access rules, then per-source limits. True if the connection may have a session. */
static bool
admit(struct server *s, int fd, const struct net_addr *addr, const char *peer)
{
	enum refusal why;
	int64_t now = now_ms();

	if (!acl_permits(&s->cfg->acl, addr)) {
		why = REFUSED_ACL;
	} else if (s->limits == NULL) {
		return true;
	} else {
		switch (limits_admit(s->limits, addr, now)) {
		case LIMITS_OK:
			return true;
		case LIMITS_PER_SOURCE:
			why = REFUSED_PER_SOURCE;
			break;
		default:
			why = REFUSED_RATE;
			break;
		}
	}
	s->refused[why]++;
	log_refusal(s, why, peer, now);
	close(fd);
	return false;
}

static void
accept_batch(struct server *s, struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH && s->live < s->cfg->max_conns; i++) {
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd >= 0) {
			struct net_addr addr;
			char peer[NET_ADDRSTRLEN];

			s->accept_error_logged = false;
			net_format((struct sockaddr *)&ss, peer, sizeof(peer));
			if (net_addr_of((struct sockaddr *)&ss, &addr) < 0) {
				close(fd);	/* not an IP client: nothing to serve */
				continue;
			}
			if (admit(s, fd, &addr, peer))
				spawn(s, fd, &addr, peer);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (listener_transient(errno))
			continue;
		/* Out of descriptors or memory: rest instead of spinning on a ready listener. */
		if (!s->accept_error_logged)
			log_msg(LOG_LVL_ERROR, "event=accept-failed listener=%s error=\"%s\" action=pause pause_ms=%d",
			    l->name, strerror(errno), PAUSE_MS);
		s->accept_error_logged = true;
		s->resume_ms = now_ms() + PAUSE_MS;
		return;
	}
}

/* --- prefork: the pool of workers --------------------------------------------------------- */

static void
worker_spawn(struct server *s)
{
	int idx = s->free_slots[--s->nfree];
	struct worker_board *b = &s->board[idx];
	pid_t pid;

	memset(b, 0, sizeof(*b));
	s->slots[idx].start_ms = now_ms();
	s->slots[idx].retiring = false;
	pid = fork();
	if (pid == 0) {
		close(s->sigfd);
		if (s->env->pidfile != NULL)
			close(s->env->pidfile->fd);
		prefork_worker(s->cfg, &s->params, s->ls, b, s->totals);
	}
	if (pid < 0) {
		log_msg(LOG_LVL_ERROR, "event=fork-failed error=\"%s\" action=retry", strerror(errno));
		s->free_slots[s->nfree++] = idx;
		s->spawn_hold_ms = now_ms() + PAUSE_MS;
		return;
	}
	s->slots[idx].pid = pid;
	map_put(s, pid, idx);
	s->live++;
	log_msg(LOG_LVL_DEBUG, "event=worker-start pid=%ld workers=%d", (long)pid, s->live);
}

/*
 * Workers that die young again and again (a crash at start) must not make the
 * supervisor fork in a loop: after FAST_FAILS in FAIL_WINDOW_MS, respawning
 * waits 1 s, then 2 s, 4 s ... up to BACKOFF_MAX_MS.
 */
static void
note_fast_failure(struct server *s, int64_t now)
{
	if (now - s->fail_window_ms > FAIL_WINDOW_MS) {
		s->fail_window_ms = now;
		s->fast_fails = 0;
	}
	if (++s->fast_fails < FAST_FAILS)
		return;
	s->backoff_ms = s->backoff_ms == 0 ? 1000 :
	    s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
	s->spawn_hold_ms = now + s->backoff_ms;
	log_msg(LOG_LVL_ERROR, "event=respawn-throttled failures=%d window_ms=%d delay_ms=%lld",
	    s->fast_fails, FAIL_WINDOW_MS, (long long)s->backoff_ms);
	s->fast_fails = 0;
	s->fail_window_ms = now;
}

static void
worker_ended(struct server *s, int idx, pid_t pid, int status)
{
	struct worker_board *b = &s->board[idx];
	int64_t now = now_ms(), age = now - s->slots[idx].start_ms;
	bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	char how[64];

	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exit=%d", WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "signal=%s", signal_name(WTERMSIG(status)));
	if (__atomic_load_n(&b->state, __ATOMIC_RELAXED) == WORKER_BUSY) {
		/* It died in a session: that session's end line is ours to write. */
		char end[80];

		snprintf(end, sizeof(end), "%s reason=killed", how);
		__atomic_sub_fetch(&s->totals->busy, 1, __ATOMIC_RELAXED);
		session_log_end(b->peer, (long)pid, end, b->cur.bytes_in, b->cur.bytes_out,
		    now - b->session_start_ms, s->totals->busy);
		s->served++;
	}
	s->served += b->sessions;
	s->bytes_in += b->bytes_in + b->cur.bytes_in;
	s->bytes_out += b->bytes_out + b->cur.bytes_out;
	s->live--;
	log_msg(failed ? LOG_LVL_WARN : LOG_LVL_DEBUG, "event=worker-exit pid=%ld %s sessions=%llu age=%lld.%03lld workers=%d",
	    (long)pid, how, (unsigned long long)b->sessions, (long long)(age / 1000),
	    (long long)(age % 1000), s->live);
	if (failed && age < FAST_FAIL_MS && s->stage == RUNNING)
		note_fast_failure(s, now);
	s->slots[idx].pid = 0;
	s->free_slots[s->nfree++] = idx;
	s->maintain_ms = now;	/* replace it at once (unless respawning is held) */
}

/* Size the pool: start workers while too few are idle, retire one while too many are. */
static void
pool_maintain(struct server *s, int64_t now)
{
	int i, idle = 0, plan, state, victim = -1;

	s->maintain_ms = now + MAINTAIN_MS;
	if (s->stage != RUNNING)
		return;
	for (i = 0; i < s->cfg->max_conns; i++) {
		if (s->slots[i].pid <= 0 || s->slots[i].retiring)
			continue;
		state = __atomic_load_n(&s->board[i].state, __ATOMIC_RELAXED);
		if (state != WORKER_BUSY) {
			idle++;
			if (state == WORKER_IDLE)
				victim = i;
		}
	}
	if (idle == 0 && s->live == s->cfg->max_conns && !s->at_limit_logged) {
		log_msg(LOG_LVL_WARN, "event=limit sessions=%d max_conns=%d action=backlog",
		    s->live, s->cfg->max_conns);
		s->at_limit_logged = true;
	} else if (idle > 0) {
		s->at_limit_logged = false;
	}
	plan = prefork_plan(idle, s->live, s->cfg);
	if (plan > 0 && now >= s->spawn_hold_ms) {
		while (plan-- > 0)
			worker_spawn(s);
	} else if (plan < 0 && victim >= 0) {
		s->slots[victim].retiring = true;
		kill(s->slots[victim].pid, SIGUSR1);	/* it leaves now, or after a connection it just took */
	}
}

static void
session_ended(struct server *s, pid_t pid, int status)
{
	int idx = map_take(s, pid);
	struct slot *sl;

	if (idx >= 0 && s->board != NULL) {
		worker_ended(s, idx, pid, status);
		return;
	}
	uint64_t in, out;
	int64_t ms;
	char how[64];

	if (idx < 0) {
		log_msg(LOG_LVL_DEBUG, "event=reap pid=%ld note=unknown-child", (long)pid);
		return;
	}
	sl = &s->slots[idx];
	in = __atomic_load_n(&s->ctrs[idx].bytes_in, __ATOMIC_RELAXED);
	out = __atomic_load_n(&s->ctrs[idx].bytes_out, __ATOMIC_RELAXED);
	ms = now_ms() - sl->start_ms;
	end_describe(status, how, sizeof(how));
	if (s->limits != NULL)
		limits_release(s->limits, &sl->addr);
	s->live--;
	s->served++;
	s->bytes_in += in;
	s->bytes_out += out;
	session_log_end(sl->peer, (long)pid, how, in, out, ms, s->live);
	sl->pid = 0;
	s->free_slots[s->nfree++] = idx;
}

/* Signals coalesce: one SIGCHLD may stand for many children, so reap until none is left. */
static void
reap(struct server *s)
{
	pid_t pid;
	int status, n = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		session_ended(s, pid, status);
		n++;
	}
	if (n > 0)
		log_msg(LOG_LVL_DEBUG, "event=reap children=%d sessions=%d", n, s->live);
}

static void
signal_sessions(struct server *s, int sig)
{
	int i;

	for (i = 0; i < s->cfg->max_conns; i++)
		if (s->slots[i].pid > 0)
			kill(s->slots[i].pid, sig);
}

/* SIGUSR1: counters of both models, live sessions' bytes included. */
static void
log_status(struct server *s)
{
	uint64_t in = s->bytes_in, out = s->bytes_out, served = s->served;
	uint64_t refused_acl = s->refused[REFUSED_ACL];
	int i, busy = 0, sessions = s->live;
	char pool[64] = "";

	for (i = 0; i < s->cfg->max_conns; i++) {
		if (s->slots[i].pid <= 0)
			continue;
		if (s->board != NULL) {
			struct worker_board *b = &s->board[i];

			in += __atomic_load_n(&b->bytes_in, __ATOMIC_RELAXED) +
			    __atomic_load_n(&b->cur.bytes_in, __ATOMIC_RELAXED);
			out += __atomic_load_n(&b->bytes_out, __ATOMIC_RELAXED) +
			    __atomic_load_n(&b->cur.bytes_out, __ATOMIC_RELAXED);
			served += __atomic_load_n(&b->sessions, __ATOMIC_RELAXED);
			if (__atomic_load_n(&b->state, __ATOMIC_RELAXED) == WORKER_BUSY)
				busy++;
		} else {
			in += __atomic_load_n(&s->ctrs[i].bytes_in, __ATOMIC_RELAXED);
			out += __atomic_load_n(&s->ctrs[i].bytes_out, __ATOMIC_RELAXED);
		}
	}
	if (s->board != NULL) {
		sessions = busy;
		refused_acl += __atomic_load_n(&s->totals->refused_acl, __ATOMIC_RELAXED);
		snprintf(pool, sizeof(pool), " workers=%d", s->live);
	}
	log_msg(LOG_LVL_NOTICE, "event=status sessions=%d served=%llu refused_acl=%llu "
	    "refused_per_source=%llu refused_rate=%llu in=%llu out=%llu uptime=%lld%s",
	    sessions, (unsigned long long)served, (unsigned long long)refused_acl,
	    (unsigned long long)s->refused[REFUSED_PER_SOURCE],
	    (unsigned long long)s->refused[REFUSED_RATE], (unsigned long long)in,
	    (unsigned long long)out, (long long)((now_ms() - s->start_ms) / 1000), pool);
}

/* Move shutdown one step on: drain (listeners closed), then SIGTERM, then SIGKILL to the sessions. */
static void
stop_advance(struct server *s, int sig)
{
	switch (s->stage) {
	case RUNNING:
		/* Stop listening first: once the line is logged, new clients are refused. */
		listeners_shutdown(s->ls);
		if (s->board != NULL)
			signal_sessions(s, SIGUSR1);	/* workers: leave after the current session */
		log_msg(LOG_LVL_NOTICE, "event=shutdown signal=%s sessions=%d grace=%d",
		    signal_name(sig), s->board != NULL ? s->totals->busy : s->live, s->cfg->grace);
		s->stage = DRAINING;
		s->stage_deadline_ms = now_ms() + (int64_t)s->cfg->grace * 1000;
		break;
	case DRAINING:
		log_msg(LOG_LVL_NOTICE, "event=terminate sessions=%d signal=TERM", s->live);
		signal_sessions(s, SIGTERM);
		s->stage = TERMINATING;
		s->stage_deadline_ms = now_ms() + KILL_AFTER_MS;
		break;
	case TERMINATING:
	case KILLING:
		log_msg(LOG_LVL_WARN, "event=terminate sessions=%d signal=KILL", s->live);
		signal_sessions(s, SIGKILL);
		s->stage = KILLING;
		s->stage_deadline_ms = -1;
		break;
	}
}

static void
handle_signals(struct server *s)
{
	struct signalfd_siginfo si[16];
	ssize_t n;
	size_t i;

	while ((n = read(s->sigfd, si, sizeof(si))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			switch (si[i].ssi_signo) {
			case SIGTERM:
			case SIGINT:
				/* The first starts the drain; a second ends the sessions at once. */
				stop_advance(s, (int)si[i].ssi_signo);
				break;
			case SIGUSR1:
				log_status(s);
				break;
			case SIGHUP:
				if (log_reopen() < 0)
					log_msg(LOG_LVL_ERROR, "event=reopen signal=HUP error=\"%s\"",
					    strerror(errno));
				else
					log_msg(LOG_LVL_NOTICE, "event=reopen signal=HUP");
				if (s->board != NULL)
					signal_sessions(s, SIGHUP);	/* workers reopen it too */
				break;
			default:
				break;
			}
		}
	}
	reap(s);
}

/* Milliseconds until the next timer (end of an accept pause, next stop stage), or -1 for none. */
static int
poll_timeout(const struct server *s, int64_t now)
{
	int64_t next = INT64_MAX;

	if (s->resume_ms > 0)
		next = s->resume_ms;
	if (s->refusal_log.held > 0 && s->refusal_log.window_ms + 1000 < next)
		next = s->refusal_log.window_ms + 1000;
	if (s->board != NULL && s->stage == RUNNING && s->maintain_ms < next)
		next = s->maintain_ms;
	if (s->stage != RUNNING && s->stage_deadline_ms >= 0 && s->stage_deadline_ms < next)
		next = s->stage_deadline_ms;
	if (next == INT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

/* One turn of the loop: wait for signals and, when admitting, for connections. */
static int
server_turn(struct server *s, struct pollfd *pfd)
{
	int64_t now = now_ms();
	size_t i, n = 1;
	int rc;

	if (s->resume_ms > 0 && now >= s->resume_ms)
		s->resume_ms = 0;
	if (s->refusal_log.held > 0)
		log_throttle_roll(&s->refusal_log, now, "refused-held");
	if (s->board != NULL && now >= s->maintain_ms)
		pool_maintain(s, now);
	if (s->stage != RUNNING && s->stage_deadline_ms >= 0 && now >= s->stage_deadline_ms)
		stop_advance(s, 0);
	pfd[0].fd = s->sigfd;
	pfd[0].events = POLLIN;
	/*
	 * Back-pressure: at the limit, or resting, leave new connections in the
	 * kernel's backlog. Prefork workers accept on their own.
	 */
	if (s->board == NULL && s->stage == RUNNING && s->resume_ms == 0 &&
	    s->live < s->cfg->max_conns) {
		s->at_limit_logged = false;
		for (i = 0; i < s->ls->n; i++, n++) {
			pfd[n].fd = s->ls->v[i].fd;
			pfd[n].events = POLLIN;
		}
	}
	rc = poll(pfd, n, poll_timeout(s, now));
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	if (pfd[0].revents & POLLIN)
		handle_signals(s);
	for (i = 1; i < n && s->stage == RUNNING; i++)
		if (pfd[i].revents & POLLIN)
			accept_batch(s, &s->ls->v[i - 1]);
	return 0;
}

static void *
shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The supervisor's own tables (slots, free list, pid map): zeroed and never
 * inherited (MADV_DONTFORK). A child never reads them, so fork() copies no
 * page table for them, and the supervisor writing them later copies no page:
 * every session stays as small as what it touches itself.
 */
static void *
private_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_DONTFORK) < 0) {
		munmap(p, len);
		return NULL;
	}
	return p;
}

/*
 * The scoreboard and totals the workers share. With one listener, workers
 * block in accept(2), so it is made blocking: the supervisor never accepts.
 */
static int
prefork_init(struct server *s)
{
	int flags;

	s->board = shared_alloc((size_t)s->cfg->max_conns * sizeof(*s->board));
	s->totals = shared_alloc(sizeof(*s->totals));
	if (s->board == NULL || s->totals == NULL)
		return -1;
	if (s->ls->n == 1 && ((flags = fcntl(s->ls->v[0].fd, F_GETFL)) < 0 ||
	    fcntl(s->ls->v[0].fd, F_SETFL, flags & ~O_NONBLOCK) < 0))
		return -1;
	return 0;
}

static int
server_init(struct server *s, const struct config *cfg)
{
	size_t cells = 1;
	int i;

	s->start_ms = now_ms();
	s->params = (struct session_params){ .service = cfg->service, .transport = &transport_plain,
	    .splice = cfg->splice, .max_time = cfg->max_time };
	while (cells < (size_t)cfg->max_conns * 2)
		cells <<= 1;
	s->map_mask = cells - 1;
	s->slots = private_alloc((size_t)cfg->max_conns * sizeof(*s->slots));
	s->free_slots = private_alloc((size_t)cfg->max_conns * sizeof(*s->free_slots));
	s->map = private_alloc(cells * sizeof(*s->map));
	if (s->slots == NULL || s->free_slots == NULL || s->map == NULL)
		return -1;
	if (cfg->model == MODEL_PREFORK) {
		if (prefork_init(s) < 0)
			return -1;
	} else if ((s->ctrs = shared_alloc((size_t)cfg->max_conns * sizeof(*s->ctrs))) == NULL) {
		return -1;
	}
	for (i = cfg->max_conns - 1; i >= 0; i--)
		s->free_slots[s->nfree++] = i;
	/* Room for every live session's address plus as many recently seen ones. */
	if ((cfg->max_per_source > 0 || cfg->rate > 0) &&
	    (s->limits = limits_new(2 * cfg->max_conns + 1024, cfg->max_per_source, cfg->rate)) == NULL)
		return -1;
	if (listeners_tune(s->ls, cfg->idle_timeout) < 0)
		return -1;
	s->sigfd = signals_open();
	return s->sigfd < 0 ? -1 : 0;
}

static void
server_free(struct server *s)
{
	listeners_close(s->ls);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->ctrs != NULL)
		munmap(s->ctrs, (size_t)s->cfg->max_conns * sizeof(*s->ctrs));
	if (s->board != NULL)
		munmap(s->board, (size_t)s->cfg->max_conns * sizeof(*s->board));
	if (s->totals != NULL)
		munmap(s->totals, sizeof(*s->totals));
	if (s->slots != NULL)
		munmap(s->slots, (size_t)s->cfg->max_conns * sizeof(*s->slots));
	if (s->free_slots != NULL)
		munmap(s->free_slots, (size_t)s->cfg->max_conns * sizeof(*s->free_slots));
	if (s->map != NULL)
		munmap(s->map, (s->map_mask + 1) * sizeof(*s->map));
	limits_free(s->limits);
}

/* Readiness: one line per listener with its real address, then "ready". Scripts wait for it. */
static void
log_ready(const struct server *s)
{
	size_t i;

	log_msg(LOG_LVL_NOTICE, "event=start version=%s pid=%ld service=%s model=%s max_conns=%d",
	    MPECHO_VERSION, (long)getpid(), s->cfg->service->name,
	    s->board != NULL ? "prefork" : "fork", s->cfg->max_conns);
	for (i = 0; i < s->ls->n; i++)
		log_msg(LOG_LVL_NOTICE, "event=listen addr=%s", s->ls->v[i].name);
	log_msg(LOG_LVL_NOTICE, "event=ready listeners=%zu", s->ls->n);
}

int
server_run(const struct config *cfg, struct server_env *env)
{
	struct server s;
	struct pollfd *pfd;
	char msg[256];
	int i, rc = EXIT_FAIL;

	memset(&s, 0, sizeof(s));
	s.sigfd = -1;
	s.refusal_log.max = REFUSAL_LINES;
	s.cfg = cfg;
	s.env = env;
	s.ls = env->ls;
	pfd = calloc(s.ls->n + 1, sizeof(*pfd));
	if (pfd == NULL || server_init(&s, cfg) < 0) {
		snprintf(msg, sizeof(msg), "cannot start the supervisor: %s", strerror(errno));
		goto failed;
	}
	if (env->pidfile != NULL && pidfile_write(env->pidfile, getpid()) < 0) {
		snprintf(msg, sizeof(msg), "cannot write the pidfile %s: %s", env->pidfile->path,
		    strerror(errno));
		goto failed;
	}
	for (i = 0; s.board != NULL && i < cfg->start_workers; i++)
		worker_spawn(&s);
	log_ready(&s);
	daemon_ready(env->ready_fd, NULL);
	env->ready_fd = -1;
	while (s.stage == RUNNING || s.live > 0) {
		if (server_turn(&s, pfd) < 0) {
			log_msg(LOG_LVL_ERROR, "event=error error=\"%s\" during=poll", strerror(errno));
			signal_sessions(&s, SIGKILL);
			goto out;
		}
	}
	log_msg(LOG_LVL_NOTICE, "event=stop served=%llu in=%llu out=%llu",
	    (unsigned long long)s.served, (unsigned long long)s.bytes_in,
	    (unsigned long long)s.bytes_out);
	rc = EXIT_OK;
	goto out;
failed:
	if (cfg->log_target != LOG_TO_STDERR)
		log_msg(LOG_LVL_ERROR, "event=error during=start error=\"%s\"", msg);
	if (env->ready_fd >= 0)
		daemon_ready(env->ready_fd, msg);
	else
		log_plain("%s", msg);
out:
	if (env->pidfile != NULL)
		pidfile_remove(env->pidfile);
	server_free(&s);
	free(pfd);
	return rc;
}
