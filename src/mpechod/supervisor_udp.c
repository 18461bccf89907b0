/*
 * supervisor_udp: the supervisor's side of the UDP process (udp.c): it forks
 * it once the sockets are bound, starts it again if it dies (a second later
 * if it died young), forwards SIGUSR1, and stops it with the drain.
 */
#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acl_shared.h"
#include "clock.h"
#include "end.h"
#include "listener.h"
#include "log.h"
#include "mem.h"
#include "net.h"
#include "options.h"
#include "sandbox.h"
#include "udp.h"

#define UDP_YOUNG_MS 1000	/* a UDP process that dies younger waits this long to be started again */

/* The port fd is bound to, if it is an IP socket; 0 otherwise. */
static int
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ss.ss_family == AF_INET || ss.ss_family == AF_INET6 ? net_port((struct sockaddr *)&ss) : 0;
}

/* Every port mpechod listens on, TCP and UDP, metrics and agent: no echo goes to one. */
static size_t
own_ports(const struct supervisor *sv, int *ports)
{
	size_t i, n = 0;
	int p;

	for (i = 0; i < sv->ls->n; i++)
		if ((p = bound_port(sv->ls->v[i].fd)) > 0)
			ports[n++] = p;
	for (i = 0; i < sv->udp.socks->n; i++)
		if ((p = bound_port(sv->udp.socks->v[i].fd)) > 0)
			ports[n++] = p;
	if ((p = bound_port(sv->metrics.fd)) > 0)
		ports[n++] = p;
	if ((p = bound_port(sv->agent.fd)) > 0)
		ports[n++] = p;
	return n;
}

int
supervisor_udp_start(struct supervisor *sv)
{
	struct udp_job job = { .socks = sv->udp.socks, .rules = acl_shared_view(sv->rules),
	    .rate = sv->cfg->udp_rate, .prefix6 = sv->cfg->source_prefix6, .supervisor = getpid() };
	struct child_keep keep = { .ls = sv->udp.socks, .fd = -1, .line = true };
	int *ports;
	sigset_t mask;
	pid_t pid;

	sv->udp.respawn_ms = 0;
	if (sv->udp.socks == NULL || sv->udp.socks->n == 0)
		return 0;
	if (sv->udp.counts == NULL &&
	    (sv->udp.counts = mem_shared(UDP_COUNTS * sizeof(*sv->udp.counts))) == NULL)
		return -1;
	job.shared = sv->udp.counts;
	if ((ports = malloc((sv->ls->n + sv->udp.socks->n + 2) * sizeof(*ports))) == NULL)
		return -1;
	job.ports = ports;
	job.nports = own_ports(sv, ports);
	if ((pid = fork()) == 0) {
		child_mask(&mask);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGHUP);
		sigaddset(&mask, SIGUSR1);
		sigaddset(&mask, SIGUSR2);
		child_begin(&sv->child, &keep, &mask, SIGUSR2, "udp-error", 1);
		if (sandbox_signal_self_only() < 0) {
			log_msg(LOG_LVL_ERROR, "event=udp-error pid=%ld error=%s", (long)getpid(),
			    log_qerrf("cannot confine its signals"));
			_exit(1);
		}
		udp_run(&job);
	}
	free(ports);
	if (pid < 0)
		return -1;
	sv->udp.pid = pid;
	sv->udp.started_ms = clock_ms();
	log_msg(LOG_LVL_DEBUG, "event=udp-start pid=%ld sockets=%zu", (long)pid, sv->udp.socks->n);
	return 0;
}

bool
supervisor_udp_reaped(struct supervisor *sv, pid_t pid, int status)
{
	char how[64];
	int64_t now = clock_ms();

	if (pid != sv->udp.pid || pid <= 0)
		return false;
	sv->udp.pid = 0;
	if (sv->stage != RUNNING)
		return true;	/* stopped with the drain */
	log_msg(LOG_LVL_ERROR, "event=udp-exit pid=%ld %s action=restart", (long)pid,
	    end_wait_text(status, how, sizeof(how)));
	sv->udp.respawn_ms = now - sv->udp.started_ms < UDP_YOUNG_MS ? now + UDP_YOUNG_MS : now;
	return true;
}

int64_t
supervisor_udp_tick(struct supervisor *sv, int64_t now_ms)
{
	if (sv->udp.respawn_ms == 0 || sv->stage != RUNNING)
		return INT64_MAX;
	if (now_ms < sv->udp.respawn_ms)
		return sv->udp.respawn_ms;
	if (supervisor_udp_start(sv) < 0) {
		log_msg(LOG_LVL_ERROR, "event=fork-failed error=%s action=retry",
		    log_qerr());
		sv->udp.respawn_ms = now_ms + UDP_YOUNG_MS;
		return sv->udp.respawn_ms;
	}
	return INT64_MAX;
}

void
supervisor_udp_signal(const struct supervisor *sv, int sig)
{
	if (sv->udp.pid > 0)
		kill(sv->udp.pid, sig);
}

void
supervisor_udp_stop(struct supervisor *sv)
{
	/* Unread, they would still take their share of a successor's datagrams (SO_REUSEPORT). */
	if (sv->udp.socks != NULL)
		listeners_close(sv->udp.socks);
	supervisor_udp_signal(sv, SIGTERM);
}

void
supervisor_udp_free(struct supervisor *sv)
{
	mem_free(sv->udp.counts, UDP_COUNTS * sizeof(*sv->udp.counts));
	sv->udp.counts = NULL;
}

void
supervisor_udp_metrics(const struct supervisor *sv, struct metrics_text *t)
{
	static const char *const drops[] = { "port", "acl", "rate", "send", "loop" };
	uint64_t c[UDP_COUNTS];
	int i;

	if (sv->udp.counts == NULL)
		return;
	for (i = 0; i < UDP_COUNTS; i++)
		c[i] = __atomic_load_n(&sv->udp.counts[i], __ATOMIC_RELAXED);
	metrics_printf(t, "# HELP mpechod_udp_received_total UDP datagrams received.\n"
	    "# TYPE mpechod_udp_received_total counter\nmpechod_udp_received_total %llu\n"
	    "# HELP mpechod_udp_echoed_total UDP datagrams sent back.\n"
	    "# TYPE mpechod_udp_echoed_total counter\nmpechod_udp_echoed_total %llu\n"
	    "# HELP mpechod_udp_received_bytes_total Bytes of the UDP datagrams received.\n"
	    "# TYPE mpechod_udp_received_bytes_total counter\nmpechod_udp_received_bytes_total %llu\n"
	    "# HELP mpechod_udp_sent_bytes_total Bytes of the UDP datagrams sent back.\n"
	    "# TYPE mpechod_udp_sent_bytes_total counter\nmpechod_udp_sent_bytes_total %llu\n"
	    "# HELP mpechod_udp_dropped_total UDP datagrams not sent back, by why.\n"
	    "# TYPE mpechod_udp_dropped_total counter\n", (unsigned long long)c[UDP_RECEIVED],
	    (unsigned long long)c[UDP_ECHOED], (unsigned long long)c[UDP_BYTES],
	    (unsigned long long)c[UDP_BYTES_ECHOED]);
	for (i = 0; i < (int)(sizeof(drops) / sizeof(drops[0])); i++)
		metrics_printf(t, "mpechod_udp_dropped_total{reason=\"%s\"} %llu\n", drops[i],
		    (unsigned long long)c[UDP_DROP_PORT + i]);
}
