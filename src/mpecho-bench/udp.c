/*
 * udp: mpecho-bench's udp mode. Each of C connected UDP sockets keeps one
 * datagram in flight: its sequence number (8 bytes), then a slice of the
 * shared pattern (check.c), so every byte that comes back is checked. A
 * datagram not back within the loss timeout counts as dropped and the next
 * one goes; one that comes back after that, or out of order, as reordered.
 * While draining, a flow sends nothing more and waits for its last datagram
 * until the loss timeout. With --rate each datagram is due at its time (pace.h).
 */
#include "bench.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

#define UDP_LOSS_MS 1000		/* not back by then: dropped (or --timeout, if shorter) */

struct flow {
	int fd;
	int idx;			/* its place in the thread's flows */
	uint64_t seq;			/* the datagram in flight (or, waiting, the next) */
	uint64_t base;			/* where this flow starts in the pattern */
	int64_t sent_ns;		/* for the loss timeout */
	int64_t due;			/* where its latency counts from: sent, or due by --rate */
	uint64_t paced;			/* --rate: datagrams begun */
	bool waiting;			/* --rate: waiting for its next datagram's time */
	bool done;			/* drained: its last datagram came back or was dropped */
};

/* Datagram seq of a flow: its number, then the pattern at its place. */
static void
udp_fill(const struct thread *t, const struct flow *f, uint64_t seq, unsigned char *buf)
{
	size_t size = (size_t)t->b->size;

	memcpy(buf, &seq, sizeof(seq));
	memcpy(buf + sizeof(seq), check_pattern(f->base + seq * size), size - sizeof(seq));
}

static void
udp_send(struct thread *t, struct flow *f, unsigned char *buf)
{
	udp_fill(t, f, f->seq, buf);
	f->sent_ns = clock_ns();
	if (t->b->rate <= 0)
		f->due = f->sent_ns;
	if (send(f->fd, buf, (size_t)t->b->size, MSG_DONTWAIT) < 0 && errno != EAGAIN)
		t->err.connect++;	/* ECONNREFUSED: the port said no (ICMP); the loss timer resends */
}

/* The next datagram: now, or (--rate) when it is due, the flow waiting in the heap till then. */
static void
udp_next(struct thread *t, struct flow *f, unsigned char *buf)
{
	const struct bench *b = t->b;

	if (b->rate > 0) {
		f->due = pace_due(load_epoch(), b->rate, b->conns, t->first_id + (unsigned)f->idx,
		    f->paced++);
		if (f->due > clock_ns() && pace_push(&t->pace, f->idx, f->due) == 0) {
			f->waiting = true;
			return;
		}
	}
	udp_send(t, f, buf);
}

/* One datagram back: checked, counted, and the next one sent when it was the one awaited. */
static void
udp_receive(struct thread *t, struct flow *f, const unsigned char *in, size_t n, unsigned char *buf)
{
	size_t size = (size_t)t->b->size, i;
	uint64_t seq;
	int64_t now = clock_ns();

	if (n != size) {
		t->err.corrupt += n > size ? n - size : size - n;	/* a datagram comes back whole */
		return;
	}
	memcpy(&seq, in, sizeof(seq));
	if (seq > f->seq || (seq == f->seq && f->waiting)) {
		t->err.extra += n;	/* never sent */
		return;
	}
	udp_fill(t, f, seq, buf);
	for (i = sizeof(seq); i < n; i++)
		t->err.corrupt += in[i] != buf[i];
	if (seq < f->seq) {
		t->err.reordered++;	/* late: counted dropped already */
		return;
	}
	load_count_op(t, f->due, now);
	if (load_phase() == PHASE_MEASURE)
		t->bytes += n;
	f->seq++;
	if (load_phase() == PHASE_DRAIN)
		f->done = true;
	else
		udp_next(t, f, buf);
}

/*
 * Datagrams not back within the loss timeout count as dropped (not in the
 * warm-up); the next one goes, unless draining. The flows still owed one.
 */
static int
udp_sweep(struct thread *t, struct flow *fl, unsigned char *buf)
{
	int64_t loss = (int64_t)(t->b->timeout_ms < UDP_LOSS_MS ? t->b->timeout_ms : UDP_LOSS_MS) *
	    1000000, now = clock_ns();
	enum phase p = load_phase();
	int i, owed = 0;

	for (i = 0; i < t->nconns; i++) {
		if (fl[i].waiting && p == PHASE_DRAIN)
			fl[i].done = true;	/* nothing in flight: nothing owed */
		if (fl[i].done)
			continue;
		if (!fl[i].waiting && now - fl[i].sent_ns > loss) {
			if (p != PHASE_WARMUP)
				t->err.dropped++;
			fl[i].seq++;
			if (p == PHASE_DRAIN) {
				fl[i].done = true;
				continue;
			}
			udp_next(t, &fl[i], buf);
		}
		owed++;
	}
	load_publish(t);
	return owed;
}

/* The flows' sockets, connected, in the epoll set. 0 or -1. */
static int
udp_open(struct thread *t, struct flow *fl)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char why[160];
	int i;

	for (i = 0; i < t->nconns; i++)
		fl[i].fd = -1;
	for (i = 0; i < t->nconns; i++) {
		fl[i].idx = i;
		fl[i].base = (uint64_t)(t->first_id + (unsigned)i) * 7919u * 64u;
		fl[i].fd = socket(t->b->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ev.data.ptr = &fl[i];
		if (fl[i].fd < 0 || sockopt_apply(fl[i].fd, &t->b->so, SOCKOPT_AT_CLIENT_UDP, why,
		    sizeof(why)) < 0 || connect(fl[i].fd, (const struct sockaddr *)&t->b->addr,
		    t->b->addrlen) < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, fl[i].fd, &ev) < 0)
			return -1;
	}
	return 0;
}

void *
udp_thread_run(struct thread *t)
{
	struct flow *fl = calloc((size_t)t->nconns, sizeof(*fl));
	unsigned char *in = malloc(65536), *out = malloc(65536);
	struct epoll_event ev[256];
	int64_t last_sweep = clock_ns();
	ssize_t r;
	int i, n, owed = t->nconns;	/* flows owed a datagram; checked each turn once draining */

	if (fl == NULL || in == NULL || out == NULL || udp_open(t, fl) < 0) {
		t->err.connect++;
		owed = 0;
	}
	for (i = 0; i < owed; i++)
		udp_next(t, &fl[i], out);
	while (owed > 0) {
		n = load_wait(t, ev, 256, 20);
		for (i = 0; i < n; i++) {
			struct flow *f = ev[i].data.ptr;

			while ((r = recv(f->fd, in, 65536, MSG_DONTWAIT)) >= 0 || errno == ECONNREFUSED)
				if (r >= 0 && !f->done)
					udp_receive(t, f, in, (size_t)r, out);
		}
		while (load_phase() != PHASE_DRAIN && (i = pace_pop(&t->pace, clock_ns())) >= 0) {
			fl[i].waiting = false;
			udp_send(t, &fl[i], out);
		}
		if (load_phase() == PHASE_DRAIN || clock_ns() - last_sweep > 20000000) {
			owed = udp_sweep(t, fl, out);
			last_sweep = clock_ns();
		}
	}
	for (i = 0; fl != NULL && i < t->nconns; i++)
		if (fl[i].fd >= 0)
			close(fl[i].fd);
	free(fl);
	free(in);
	free(out);
	return NULL;
}
