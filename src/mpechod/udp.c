/* udp: the UDP echo process: batches in, guards, batches out, a summary line. */
#include "udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admission.h"
#include "clock.h"
#include "listener.h"
#include "log.h"
#include "logline.h"
#include "udp_guard.h"

#define UDP_BATCH 64			/* datagrams a recvmmsg or sendmmsg takes */
#define UDP_MAX 65536			/* the largest datagram, whole */
#define UDP_ROUNDS 16			/* batches from one socket before the others get a turn */
#define UDP_CMSG (CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(struct in6_pktinfo)))

const char *const udp_count_names[UDP_COUNTS] = {
	"received", "echoed", "bytes", "echoed_bytes", "dropped_port", "dropped_acl", "dropped_rate",
	"dropped_send", "dropped_loop"
};

/* One batch's room: what came in, and the replies that go back. */
struct udp_batch {
	struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
	struct iovec iov[UDP_BATCH], oiov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	char cin[UDP_BATCH][UDP_CMSG], cout[UDP_BATCH][UDP_CMSG];
	char *buf;			/* UDP_BATCH x UDP_MAX */
};

struct udp_state {
	const struct udp_job *job;
	struct admission adm;
	struct udp_guard *guard;
	struct log_throttle loop_log;
	struct udp_batch *b;
	uint64_t count[UDP_COUNTS], logged[UDP_COUNTS];
	int sigfd;
	int64_t summary_ms;		/* the next timed summary */
};

static void
udp_summary(struct udp_state *st, const char *why)
{
	char line[400];
	size_t off = 0;
	int i;

	for (i = 0; i < UDP_COUNTS; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%llu", udp_count_names[i],
		    (unsigned long long)st->count[i]);
	log_msg(LOG_LVL_NOTICE, "event=udp-summary pid=%ld%s why=%s", (long)getpid(), line, why);
	memcpy(st->logged, st->count, sizeof(st->logged));
}

/*
 * The reply to datagram i (the k-th reply) leaves from the address it came
 * to, and for IPv6 by its interface: its control data, built in cout[k].
 * Returns its length, 0 if the datagram said nothing of where it came.
 */
static socklen_t
udp_reply_from(struct udp_batch *b, int i, int k)
{
	struct msghdr *in = &b->in[i].msg_hdr;
	struct cmsghdr *cm, *out = (struct cmsghdr *)b->cout[k];

	for (cm = CMSG_FIRSTHDR(in); cm != NULL; cm = CMSG_NXTHDR(in, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			out->cmsg_level = IPPROTO_IP;
			out->cmsg_type = IP_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(out), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			out->cmsg_level = IPPROTO_IPV6;
			out->cmsg_type = IPV6_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(out), CMSG_DATA(cm), sizeof(struct in6_pktinfo));
			return CMSG_SPACE(sizeof(struct in6_pktinfo));
		}
	}
	return 0;
}

/* A source found looping: one line, at most a few a second. */
static void
udp_loop_found(struct udp_state *st, const struct sockaddr *sa, int64_t now_ms)
{
	char who[INET6_ADDRSTRLEN + 16];

	if (log_throttle_allow(&st->loop_log, now_ms, "udp-loop-held"))
		log_msg(LOG_LVL_WARN, "event=udp-loop peer=%s repeats=%d action=muted secs=%d",
		    net_format(sa, who, sizeof(who)), UDP_GUARD_REPEATS, UDP_GUARD_MUTE_MS / 1000);
}

/* Whether datagram i may be echoed; a dropped one is counted by reason. */
static bool
udp_admit(struct udp_state *st, int i, int64_t now_ms)
{
	const struct sockaddr *sa = (const struct sockaddr *)&st->b->from[i];
	struct net_addr addr;

	switch (udp_guard_check(st->guard, sa, st->b->iov[i].iov_base, st->b->in[i].msg_len, now_ms)) {
	case UDP_GUARD_PASS:
		break;
	case UDP_GUARD_PORT:
		st->count[UDP_DROP_PORT]++;
		return false;
	case UDP_GUARD_LOOP_FOUND:
		udp_loop_found(st, sa, now_ms);
		/* fall through */
	case UDP_GUARD_LOOP:
		st->count[UDP_DROP_LOOP]++;
		return false;
	}
	if (net_addr_of(sa, &addr) < 0) {
		st->count[UDP_DROP_PORT]++;
		return false;
	}
	switch (admission_datagram(&st->adm, &addr, now_ms)) {
	case ADMITTED:
		return true;
	case REFUSED_ACL:
		st->count[UDP_DROP_ACL]++;
		return false;
	default:
		st->count[UDP_DROP_RATE]++;
		return false;
	}
}

/* Send the k replies queued; one a peer's address refuses is dropped and the rest go on. */
static void
udp_send(struct udp_state *st, int fd, int k)
{
	int off = 0, n;

	while (off < k) {
		n = sendmmsg(fd, st->b->out + off, (unsigned)(k - off), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			st->count[UDP_DROP_SEND] += (uint64_t)(k - off);	/* no room: like a full queue */
			return;
		}
		if (n <= 0) {
			st->count[UDP_DROP_SEND]++;
			off++;
			continue;
		}
		st->count[UDP_ECHOED] += (uint64_t)n;
		for (; n > 0; n--, off++)
			st->count[UDP_BYTES_ECHOED] += st->b->out[off].msg_len;
	}
}

/* One batch from fd: false once the socket has nothing more. */
static bool
udp_batch(struct udp_state *st, int fd)
{
	struct udp_batch *b = st->b;
	int64_t now = clock_ms();
	int n, i, k = 0;

	for (i = 0; i < UDP_BATCH; i++) {
		b->iov[i] = (struct iovec){ b->buf + (size_t)i * UDP_MAX, UDP_MAX };
		b->in[i].msg_hdr = (struct msghdr){ .msg_name = &b->from[i], .msg_namelen = sizeof(b->from[i]),
		    .msg_iov = &b->iov[i], .msg_iovlen = 1, .msg_control = b->cin[i],
		    .msg_controllen = sizeof(b->cin[i]) };
	}
	if ((n = recvmmsg(fd, b->in, UDP_BATCH, MSG_DONTWAIT, NULL)) <= 0)
		return n < 0 && errno == EINTR;
	for (i = 0; i < n; i++) {
		st->count[UDP_RECEIVED]++;
		st->count[UDP_BYTES] += b->in[i].msg_len;
		if (!udp_admit(st, i, now))
			continue;
		b->oiov[k] = (struct iovec){ b->iov[i].iov_base, b->in[i].msg_len };
		b->out[k].msg_hdr = (struct msghdr){ .msg_name = &b->from[i],
		    .msg_namelen = b->in[i].msg_hdr.msg_namelen, .msg_iov = &b->oiov[k], .msg_iovlen = 1,
		    .msg_control = b->cout[k] };
		memset(b->cout[k], 0, sizeof(b->cout[k]));
		b->out[k].msg_hdr.msg_controllen = udp_reply_from(b, i, k);
		if (b->out[k].msg_hdr.msg_controllen == 0)
			b->out[k].msg_hdr.msg_control = NULL;
		k++;
	}
	udp_send(st, fd, k);
	for (i = 0; i < UDP_COUNTS; i++)	/* a plain store each: the supervisor only reads */
		__atomic_store_n(&st->job->shared[i], st->count[i], __ATOMIC_RELAXED);
	return n == UDP_BATCH;
}

/* Signals, read from the signalfd: false once it is time to leave. */
static bool
udp_signals(struct udp_state *st)
{
	struct signalfd_siginfo si;

	while (read(st->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			logline_reopen();
		else if (si.ssi_signo == SIGUSR1)
			udp_summary(st, "status");
		else if ((si.ssi_signo == SIGUSR2 && getppid() != st->job->supervisor) ||
		    (si.ssi_signo == SIGTERM && (pid_t)si.ssi_pid == st->job->supervisor))
			return false;	/* the supervisor stops, or died (not a stray SIGUSR2) */
	}
	return true;
}

/* Set up: the batch room, the rules and rate, the signalfd. 0 or -1. */
static int
udp_setup(struct udp_state *st, const struct udp_job *job)
{
	sigset_t set;
	int i;

	memset(st, 0, sizeof(*st));
	st->job = job;
	st->summary_ms = clock_ms() + UDP_SUMMARY_MS;
	st->loop_log.max = 5;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if ((st->b = calloc(1, sizeof(*st->b))) == NULL ||
	    (st->b->buf = malloc((size_t)UDP_BATCH * UDP_MAX)) == NULL ||
	    (st->guard = udp_guard_new(job->ports, job->nports)) == NULL ||
	    admission_init(&st->adm, NULL, 0, job->rate, 4096) < 0 ||
	    (st->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return -1;
	st->adm.prefix6 = job->prefix6;
	admission_follow(&st->adm, job->rules);
	for (i = 0; i < UDP_COUNTS; i++)	/* a restarted process counts on */
		st->count[i] = st->logged[i] = __atomic_load_n(&job->shared[i], __ATOMIC_RELAXED);
	return 0;
}

void
udp_run(const struct udp_job *job)
{
	size_t i, n = job->socks->n;
	struct pollfd *pfd = calloc(n + 1, sizeof(*pfd));
	struct udp_state st;
	int64_t now;
	int r;

	if (pfd == NULL || udp_setup(&st, job) < 0) {
		log_msg(LOG_LVL_ERROR, "event=udp-error pid=%ld error=%s", (long)getpid(),
		    log_qerr());
		_exit(1);
	}
	for (i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = job->socks->v[i].fd, .events = POLLIN };
	pfd[n] = (struct pollfd){ .fd = st.sigfd, .events = POLLIN };
	for (;;) {
		now = clock_ms();
		if (now >= st.summary_ms) {
			if (memcmp(st.count, st.logged, sizeof(st.count)) != 0)
				udp_summary(&st, "timer");
			st.summary_ms = now + UDP_SUMMARY_MS;
		}
		if (poll(pfd, n + 1, (int)(st.summary_ms - now)) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			for (r = 0; (pfd[i].revents & POLLIN) && r < UDP_ROUNDS && udp_batch(&st, pfd[i].fd); r++)
				;
		if ((pfd[n].revents & POLLIN) && !udp_signals(&st))
			break;
	}
	udp_summary(&st, "stop");
	_exit(0);
}
