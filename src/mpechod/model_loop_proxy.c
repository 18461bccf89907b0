/*
 * model_loop_proxy: a connection on a ,proxy listener in a loop worker: held
 * (counted under -c, logged as nothing) until its PROXY header is in, read a
 * step at a time by proxy_wait.c as the socket becomes readable and under
 * --proxy-timeout; then admitted and served as the client it names, or
 * refused, or counted as a balancer's health check, as in the other models.
 */
#include "model_loop.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "proxy_wait.h"

int
loop_session_proxied(struct loop_worker *w, int fd, const struct peer *balancer)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct proxy_wait *pw;
	struct loop_session *s;

	if (!admission_proxy_from(&w->adm, balancer, w->now) || (pw = malloc(sizeof(*pw))) == NULL) {
		close(fd);
		return -1;
	}
	proxy_wait_init(pw);
	if ((s = loop_session_new(w, fd, balancer, pw)) == NULL) {
		free(pw);
		return -1;
	}
	w->pending++;
	ev.data.ptr = s;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		loop_session_drop(w, s);
		return -1;
	}
	s->events = LOOP_WANT_IN;
	return 0;
}

/* The client a header named: admitted (under the per-source lock) and served, or closed. */
static void
header_done(struct loop_worker *w, struct loop_session *s, int64_t now)
{
	struct peer client;
	int spot;

	if (proxy_wait_peer(s->pw, &s->peer, &client) < 0) {
		admission_proxy_failed(&w->adm, &s->peer, "client address", now);
		loop_session_drop(w, s);
		return;
	}
	if (loop_admit(w, &client, &spot) != ADMITTED) {
		loop_session_drop(w, s);
		return;
	}
	s->spot = spot;
	free(s->pw);
	s->pw = NULL;
	w->pending--;
	s->peer = client;
	s->start_ms = s->last_ms = s->window_ms = now;
	loop_heap_set(&w->timers, s, loop_session_deadline(w, s));
	loop_session_begin(w, s, false);
}

/* A step of the header: not yet, done, a balancer's check, or a failure (each as the fork model). */
void
loop_proxy_step(struct loop_worker *w, struct loop_session *s)
{
	int64_t now = w->now;

	switch (proxy_wait_step(s->pw, s->fd)) {
	case PROXY_WAIT_AGAIN:
		return;
	case PROXY_WAIT_DONE:
		header_done(w, s, now);
		return;
	case PROXY_WAIT_CHECK:
		admission_health_check(&w->adm, &s->peer);
		__atomic_store_n(&w->me->checks, w->me->checks + 1, __ATOMIC_RELAXED);
		break;
	default:
		admission_proxy_failed(&w->adm, &s->peer, s->pw->why, now);
		break;
	}
	loop_session_drop(w, s);
}
