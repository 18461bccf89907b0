/* supervisor: signals, listeners, admission, reaping and the drain, in one poll loop. */
#include "supervisor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acl_shared.h"
#include "clock.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "logline.h"
#include "model.h"
#include "mpecho.h"
#include "options.h"
#include "pidfile.h"
#include "sandbox.h"
#include "service.h"
#include "sockfile.h"
#include "tls_server.h"

#define ACCEPT_BATCH 64		/* connections taken per wake-up of one listener */

/* SIGUSR2 is a forked session's (its supervisor died): one sent here is read and dropped. */
static const int supervisor_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };

/* Block the signals the loop reads from its signalfd; dispositions to default first (an ignored signal is never queued). */
static int
supervisor_signals_open(void)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(supervisor_signals) / sizeof(supervisor_signals[0]); i++) {
		signal(supervisor_signals[i], SIG_DFL);
		sigaddset(&set, supervisor_signals[i]);
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Room for one more connection: sessions and connections awaiting a header stay under -c. */
static bool
supervisor_room(const struct supervisor *sv)
{
	return sv->tab.live + sv->pending.n < sv->cfg->max_conns;
}

/* Take up to ACCEPT_BATCH connections from a ready listener; admit each, and hand it to the model. */
static void
supervisor_accept(struct supervisor *sv, const struct listener *l)
{
	struct peer peer;
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH && supervisor_room(sv); i++) {
		if ((fd = listener_accept(l, &peer, 0)) >= 0) {
			sv->accept_error_logged = false;
			if (l->proxy)
				supervisor_proxy_accept(sv, fd, &peer);
			else if (admission_check(&sv->adm, &peer, clock_ms()) == ADMITTED)
				sv->model->serve(&sv->menv, fd, &peer);
			else
				close(fd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (listener_transient(errno))
			continue;
		/* Out of descriptors or memory: rest instead of spinning on a ready listener. */
		if (!sv->accept_error_logged)
			log_msg(LOG_LVL_ERROR, "event=accept-failed listener=%s error=%s action=pause pause_ms=%d",
			    l->name, log_qerr(), LISTENER_PAUSE_MS);
		sv->accept_error_logged = true;
		sv->ended.accept_pauses++;
		sv->resume_ms = clock_ms() + LISTENER_PAUSE_MS;
		return;
	}
}

/* Signals coalesce: one SIGCHLD may stand for many children, so reap until none is left. */
static void
supervisor_reap(struct supervisor *sv)
{
	pid_t pid;
	int status, slot, n = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		n++;
		if (supervisor_udp_reaped(sv, pid, status))
			continue;
		if ((slot = proctab_reap(&sv->tab, pid)) < 0)
			log_msg(LOG_LVL_DEBUG, "event=reap pid=%ld note=unknown-child", (long)pid);
		else
			sv->model->reaped(&sv->menv, slot, pid, status);
	}
	if (n > 0)
		log_msg(LOG_LVL_DEBUG, "event=reap children=%d sessions=%d", n, sv->tab.live);
}

/* The status figures: those of ended sessions, plus what the model's live children hold. */
struct tally
supervisor_tally(const struct supervisor *sv)
{
	struct tally t = sv->ended;

	t.workers = -1;
	memcpy(t.refused, sv->adm.refused, sizeof(t.refused));
	t.checks = sv->adm.checks;
	sv->model->tally(&sv->menv, &t);
	return t;
}

/*
 * SIGHUP: the log file opened again (by the privileged process under -u) and
 * published on the log's line, from which the workers and the UDP process,
 * told SIGHUP, take it: they may not be able to open it themselves.
 */
static void
supervisor_reopen(struct supervisor *sv)
{
	int fd = privsep_run(&sv->privsep, PRIVSEP_LOG);
	const char *why = NULL;

	if (fd >= 0 && logline_publish(fd) < 0)
		why = log_qerrf("cannot hand it to the workers");
	if (log_reopen_fd(fd) < 0)
		why = log_qf("%s", log_strerror(errno));
	if (why != NULL)
		log_msg(LOG_LVL_ERROR, "event=reopen signal=HUP error=%s", why);
	else
		log_msg(LOG_LVL_NOTICE, "event=reopen signal=HUP");
	sv->model->notify(&sv->menv, MODEL_REOPEN);
	supervisor_udp_signal(sv, SIGHUP);	/* the UDP process takes it too */
	if (sv->tls != NULL && tls_server_reload(sv->tls) == 0)
		sv->model->notify(&sv->menv, MODEL_RENEW);	/* prefork: workers hold the old credentials */
	supervisor_rules_reload(sv);	/* every process takes the new rules up by itself */
}

static void
supervisor_read_signals(struct supervisor *sv)
{
	struct signalfd_siginfo si[16];
	ssize_t n;
	size_t i;

	while ((n = read(sv->sigfd, si, sizeof(si))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			switch (si[i].ssi_signo) {
			case SIGTERM:
			case SIGINT:
				/* The first starts the drain; a second ends the sessions at once. */
				supervisor_stop_advance(sv, (int)si[i].ssi_signo);
				break;
			case SIGUSR1:
				supervisor_status(sv);
				break;
			case SIGHUP:
				supervisor_reopen(sv);
				break;
			default:
				break;
			}
		}
	}
	supervisor_reap(sv);
}

/* Timers due now run; returns the poll timeout until the next one (-1: none). */
static int
supervisor_timers(struct supervisor *sv, int64_t now)
{
	int64_t next, t;

	if (sv->resume_ms > 0 && now >= sv->resume_ms)
		sv->resume_ms = 0;
	next = admission_tick(&sv->adm, now);
	if ((t = sv->model->tick(&sv->menv, now)) < next)
		next = t;
	if ((t = supervisor_proxy_expire(sv, now)) < next)
		next = t;
	if ((t = supervisor_udp_tick(sv, now)) < next)
		next = t;
	if ((t = supervisor_upgrade_tick(sv, now)) < next)
		next = t;
	if ((t = metrics_expire(&sv->metrics, now)) < next)
		next = t;
	if ((t = agent_expire(&sv->agent, now)) < next)
		next = t;
	if (sv->metrics.fd >= 0 && now >= sv->sample_ms)
		supervisor_metrics_sample(sv, now);
	if (sv->metrics.fd >= 0 && sv->sample_ms < next)
		next = sv->sample_ms;
	if (notify_status_due(&sv->notify, now))
		supervisor_notify_status(sv, now);
	if ((t = notify_tick(&sv->notify, now)) < next)
		next = t;
	if (sv->stage_deadline_ms >= 0 && now >= sv->stage_deadline_ms)	/* -1 while running */
		supervisor_stop_advance(sv, 0);
	if (sv->resume_ms > 0 && sv->resume_ms < next)
		next = sv->resume_ms;
	if (sv->stage_deadline_ms >= 0 && sv->stage_deadline_ms < next)
		next = sv->stage_deadline_ms;
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

/* Something left to serve: accepting, or sessions, headers or the UDP process still to finish. */
static bool
supervisor_busy(const struct supervisor *sv)
{
	return sv->stage == RUNNING || sv->tab.live > 0 || sv->pending.n > 0 || sv->udp.pid > 0;
}

/*
 * One turn of the loop: wait for signals, connections owing a PROXY header
 * and, when admitting, new connections. Back-pressure: at the limit, or
 * resting, the listeners are not polled and the kernel's backlog holds new
 * clients. A model whose workers accept has none to poll.
 */
static int
supervisor_turn(struct supervisor *sv, struct pollfd *pfd)
{
	int timeout = supervisor_timers(sv, clock_ms()), i, npending = sv->pending.n, nmetrics, nagent;
	size_t nls = 0, n = 3;

	if (!supervisor_busy(sv))	/* a timer just began a drain with nothing to drain */
		return 0;
	pfd[0] = (struct pollfd){ .fd = sv->sigfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sv->upgrade_fd, .events = POLLIN };	/* -1: ignored */
	pfd[2] = (struct pollfd){ .fd = sv->successor_fd, .events = POLLIN };
	for (i = 0; i < npending; i++, n++)
		pfd[n] = (struct pollfd){ .fd = sv->pending.v[i].fd, .events = POLLIN };
	if (sv->model->serve != NULL && sv->stage == RUNNING && sv->resume_ms == 0 && supervisor_room(sv))
		for (nls = 0; nls < sv->ls->n; nls++, n++)
			pfd[n] = (struct pollfd){ .fd = sv->ls->v[nls].fd, .events = POLLIN };
	nmetrics = metrics_poll_fill(&sv->metrics, pfd + n);
	nagent = agent_poll_fill(&sv->agent, pfd + n + nmetrics);
	if (poll(pfd, n + (size_t)nmetrics + (size_t)nagent, timeout) < 0)
		return errno == EINTR ? 0 : -1;
	if (pfd[0].revents & POLLIN)
		supervisor_read_signals(sv);
	if (pfd[1].revents & POLLIN)
		supervisor_upgrade_accept(sv);
	if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))
		supervisor_upgrade_reply(sv);
	supervisor_proxy_ready(sv, pfd + 3, npending);
	metrics_poll_done(&sv->metrics, pfd + n, nmetrics, clock_ms());
	agent_poll_done(&sv->agent, pfd + n + nmetrics, nagent, clock_ms());
	for (i = 0; (size_t)i < nls && sv->stage == RUNNING; i++)
		if (pfd[3 + npending + i].revents & POLLIN)
			supervisor_accept(sv, &sv->ls->v[i]);
	return 0;
}

static bool
supervisor_proxied(const struct listeners *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		if (ls->v[i].proxy)
			return true;
	return false;
}

static int
supervisor_init(struct supervisor *sv, const struct config *cfg, struct supervisor_env *env)
{
	memset(sv, 0, sizeof(*sv));
	sv->privsep = (struct privsep){ .fd = -1, .pidfile = env->pidfile, .ls = env->ls,
	    .upgrade_path = cfg->upgrade_socket, .upgrade_file = &sv->upgrade_file,
	    .cert = cfg->tls_cert, .key = cfg->tls_key, .rules = cfg->rules };
	sv->sigfd = sv->gate = sv->notify.fd = sv->upgrade_fd = sv->successor_fd = -1;
	sv->pidfile = env->pidfile;
	sv->start_unix = (int64_t)time(NULL);
	sv->metrics = (struct metrics){ .fd = env->metrics_fd, .allow = &cfg->metrics_allow,
	    .render = supervisor_metrics_render, .ctx = sv };
	sv->agent = (struct agent){ .fd = env->agent_fd, .state = supervisor_agent_state, .ctx = sv };
	env->metrics_fd = env->agent_fd = -1;	/* the supervisor's now */
	sv->cfg = cfg;
	sv->ls = env->ls;
	sv->start_ms = clock_ms();
	sv->stage_deadline_ms = -1;
	sv->model = cfg->model == MODEL_LOOP ? &model_loop : cfg->model == MODEL_PREFORK ?
	    &model_prefork : &model_fork;
	sv->session = options_session_params(cfg);
	sv->session.tls = sv->tls = env->tls;
	if (sv->tls != NULL)	/* a session process serves one client: its key goes after the handshake */
		sv->tls->forget_keys = cfg->model == MODEL_FORK;
	sv->udp.socks = env->udp;
	if (notify_open(&sv->notify, env->error, sizeof(env->error)) < 0)
		return -1;
	if (proctab_init(&sv->tab, sv->model->children != NULL ? sv->model->children(cfg) :
	    cfg->max_conns) < 0 ||
	    admission_init(&sv->adm, &cfg->acl, sv->model->serve != NULL ? cfg->max_per_source : 0,
	    sv->model->serve != NULL ? cfg->rate : 0, cfg->max_conns) < 0 ||
	    supervisor_rules_start(sv, &env->rules) < 0 ||
	    listeners_tune(sv->ls, cfg->idle_timeout) < 0 ||
	    (sv->model->serve != NULL && supervisor_proxied(sv->ls) &&
	    pending_init(&sv->pending, cfg->max_conns) < 0) ||
	    (sv->sigfd = supervisor_signals_open()) < 0 || supervisor_lines(sv, env) < 0)
		return -1;
	sv->adm.proxy_from = &cfg->proxy_from;
	sv->adm.prefix6 = cfg->source_prefix6;
	sv->child = (struct child_env){ .privs = cfg->privs.set ? &cfg->privs : NULL,
	    .supervisor = getpid() };
	child_prepare(&sv->child);
	if (sandbox_shield(getpid()) < 0)	/* from now on, no process of ours may signal this one */
		return -1;
	sv->menv = (struct model_env){ .cfg = cfg, .session = &sv->session, .child = &sv->child, .ls = sv->ls,
	    .tab = &sv->tab, .ended = &sv->ended, .adm = &sv->adm, .rules = acl_shared_view(sv->rules),
	    .gate = sv->gate };
	return 0;
}

static void
supervisor_free(struct supervisor *sv)
{
	if (sv->menv.data != NULL)
		sv->model->stop(&sv->menv);
	listeners_close(sv->ls);
	if (sv->sigfd >= 0)
		close(sv->sigfd);
	if (sv->gate >= 0)
		close(sv->gate);
	logline_close();
	proctab_free(&sv->tab);
	admission_free(&sv->adm);
	acl_shared_free(sv->rules);
	if (sv->pending.v != NULL)
		pending_free(&sv->pending);
	notify_close(&sv->notify);
	if (sv->upgrade_fd >= 0)
		close(sv->upgrade_fd);
	if (sv->successor_fd >= 0)
		close(sv->successor_fd);
	metrics_close(&sv->metrics);
	agent_close(&sv->agent);
	supervisor_udp_free(sv);
}

/*
 * -u as root: from here on the supervisor runs as the user, as its children
 * do, and a small root process keeps what must stay privileged (privsep.h);
 * a child forked from now on has no user to become. Reloading the TLS files
 * goes through it. 0, or -1 with msg.
 */
static int
supervisor_drop(struct supervisor *sv, char *msg, size_t msglen)
{
	if (privsep_start(&sv->privsep, sv->child.privs) < 0) {
		log_errtext(msg, msglen, "cannot become %s", sv->cfg->privs.name);
		return -1;
	}
	if (privsep_dropped(&sv->privsep))
		sv->child.privs = NULL;
	if (sv->tls != NULL) {
		sv->tls->open = privsep_tls_open;
		sv->tls->open_ctx = &sv->privsep;
	}
	return 0;
}

/* An endpoint of the server's own (--metrics, --agent) under its real address (port 0's too). */
static void
supervisor_log_endpoint(int fd, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char name[NET_ADDRSTRLEN];

	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		log_msg(LOG_LVL_NOTICE, "event=listen addr=%s endpoint=%s",
		    net_format((struct sockaddr *)&ss, name, sizeof(name)), what);
}

/* Readiness: one line per listener with its real address, then "ready". Scripts wait for it. */
static void
supervisor_log_ready(const struct supervisor *sv)
{
	size_t i;

	log_msg(LOG_LVL_NOTICE, "event=start version=%s pid=%ld service=%s model=%s max_conns=%d%s",
	    MPECHO_VERSION, (long)getpid(), sv->cfg->service->name, sv->model->name,
	    sv->cfg->max_conns, sv->menv.words);
	for (i = 0; i < sv->ls->n; i++)
		log_msg(LOG_LVL_NOTICE, "event=listen addr=%s%s%s%s%s%s", sv->ls->v[i].name,
		    sv->ls->v[i].label[0] != '\0' ? " " : "", sv->ls->v[i].label,
		    sv->ls->v[i].proxy ? " proxy=yes" : "", sv->ls->v[i].tls ? " tls=yes" : "",
		    sv->ls->v[i].deferred ? " deferred=yes" : "");
	for (i = 0; sv->udp.socks != NULL && i < sv->udp.socks->n; i++)
		log_msg(LOG_LVL_NOTICE, "event=listen addr=udp:%s%s%s", sv->udp.socks->v[i].name,
		    sv->udp.socks->v[i].label[0] != '\0' ? " " : "", sv->udp.socks->v[i].label);
	supervisor_log_endpoint(sv->metrics.fd, "metrics");
	supervisor_log_endpoint(sv->agent.fd, "agent");
	log_msg(LOG_LVL_NOTICE, "event=ready listeners=%zu", sv->ls->n +
	    (sv->udp.socks != NULL ? sv->udp.socks->n : 0));
}

/*
 * A start that failed: the message goes to the person who started the server
 * (the foreground process of -d says it), and to the log (log_warnx()).
 */
static void
supervisor_start_failed(struct supervisor_env *env, const char *msg)
{
	if (env->ready_fd >= 0)
		daemon_ready(env->ready_fd, msg);
	else
		log_warnx("%s", msg);
	env->ready_fd = -1;
}

/* Serve until the drain is over; 0, or -1 if poll itself failed. */
static int
supervisor_loop(struct supervisor *sv)
{
	struct pollfd *pfd = calloc(sv->ls->n + 3 + (size_t)sv->pending.cap + 1 + METRICS_CLIENTS +
	    1 + AGENT_CLIENTS, sizeof(*pfd));
	int rc = 0;

	if (pfd == NULL)
		return -1;
	while (supervisor_busy(sv)) {
		if ((rc = supervisor_turn(sv, pfd)) < 0) {
			log_msg(LOG_LVL_ERROR, "event=error error=%s during=poll",
			    log_qerr());
			proctab_signal(&sv->tab, SIGKILL);
			break;
		}
	}
	free(pfd);
	return rc;
}

int
supervisor_run(const struct config *cfg, struct supervisor_env *env)
{
	struct supervisor sv;
	char msg[256];
	int rc = EXIT_FAIL;

	env->error[0] = '\0';
	if (supervisor_init(&sv, cfg, env) < 0) {
		if (env->error[0] != '\0')
			snprintf(msg, sizeof(msg), "%s", env->error);
		else
			log_errtext(msg, sizeof(msg), "cannot start the supervisor");
		goto failed;
	}
	if (env->pidfile != NULL && pidfile_write(env->pidfile, getpid()) < 0) {
		log_errtext(msg, sizeof(msg), "cannot write the pidfile %s", env->pidfile->path);
		goto failed;
	}
	if (sv.model->start(&sv.menv) < 0 || supervisor_udp_start(&sv) < 0) {
		log_errtext(msg, sizeof(msg), "cannot start the %s model and the UDP process",
		    sv.model->name);
		goto failed;
	}
	/* the upgrade socket exists once "ready" is said; then, with -u, the supervisor drops root */
	if (supervisor_upgrade_start(&sv, env, msg, sizeof(msg)) < 0 ||
	    supervisor_drop(&sv, msg, sizeof(msg)) < 0)
		goto failed;
	supervisor_log_ready(&sv);
	if (supervisor_up(&sv, env, msg, sizeof(msg)) < 0)
		goto failed;
	if (supervisor_loop(&sv) == 0) {
		log_msg(LOG_LVL_NOTICE, "event=stop served=%llu in=%llu out=%llu",
		    (unsigned long long)sv.ended.served, (unsigned long long)sv.ended.bytes_in,
		    (unsigned long long)sv.ended.bytes_out);
		rc = EXIT_OK;
	}
	goto out;
failed:
	supervisor_start_failed(env, msg);
out:
	privsep_run(&sv.privsep, PRIVSEP_END);	/* the pidfile and the upgrade socket's file removed */
	supervisor_free(&sv);
	return rc;
}
