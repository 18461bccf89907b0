/*
 * supervisor_proxy: connections on PROXY listeners in the fork model. The
 * supervisor reads each header itself, non-blocking, so admission (rules,
 * per-source limits, rate) judges the real client before any fork; the
 * header is taken off the socket and nothing after it, so the session gets
 * the client's bytes untouched.
 */
#include "supervisor.h"

#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "model.h"
#include "options.h"

void
supervisor_proxy_accept(struct supervisor *sv, int fd, const struct peer *balancer)
{
	int64_t now = clock_ms();

	if (!admission_proxy_from(&sv->adm, balancer, now) ||
	    pending_add(&sv->pending, fd, balancer, now + (int64_t)sv->cfg->proxy_timeout * 1000) < 0)
		close(fd);
}

/* Entry i is readable: one step; a header that is in hands its client to admission and the model. */
static void
supervisor_proxy_step(struct supervisor *sv, int i)
{
	struct pending_conn *c = &sv->pending.v[i];
	int64_t now = clock_ms();
	struct peer client;
	int fd;

	switch (proxy_wait_step(&c->w, c->fd)) {
	case PROXY_WAIT_AGAIN:
		return;
	case PROXY_WAIT_CHECK:
		admission_health_check(&sv->adm, &c->balancer);
		break;
	case PROXY_WAIT_FAILED:
		admission_proxy_failed(&sv->adm, &c->balancer, c->w.why, now);
		break;
	case PROXY_WAIT_DONE:
		if (proxy_wait_peer(&c->w, &c->balancer, &client) < 0) {
			admission_proxy_failed(&sv->adm, &c->balancer, "client address", now);
			break;
		}
		if (client.check)
			sv->adm.checks++;
		if (admission_check(&sv->adm, &client, now) == ADMITTED) {
			fd = c->fd;	/* out of the table first: the session forked next must not close it */
			pending_remove(&sv->pending, i, true);
			sv->model->serve(&sv->menv, fd, &client);
			return;
		}
		break;
	}
	pending_remove(&sv->pending, i, false);
}

void
supervisor_proxy_ready(struct supervisor *sv, const struct pollfd *pfd, int n)
{
	int i;

	/*
	 * From the last: removing entry i moves the last one, already seen, into
	 * its place. The table may have shrunk since the poll (a stop read in this
	 * turn closes every waiting connection): an entry is stepped only if it is
	 * still there and still the connection that was polled.
	 */
	for (i = n - 1; i >= 0; i--)
		if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) && i < sv->pending.n &&
		    sv->pending.v[i].fd == pfd[i].fd)
			supervisor_proxy_step(sv, i);
}

int64_t
supervisor_proxy_expire(struct supervisor *sv, int64_t now)
{
	int i;

	for (i = sv->pending.n - 1; i >= 0; i--) {
		if (sv->pending.v[i].deadline_ms > now)
			continue;
		admission_proxy_failed(&sv->adm, &sv->pending.v[i].balancer, "timeout", now);
		pending_remove(&sv->pending, i, false);
	}
	return pending_next_deadline(&sv->pending);
}
