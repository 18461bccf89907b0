/*
 * model_loop_service: the services as steps, for sessions that must never
 * block: what a chunk of input becomes (echo: itself; upper: upper-cased,
 * up to a "quit" line; discard: nothing), what the end of the input adds,
 * what is sent first (daytime's line), and chargen's stream, which is sent
 * as the socket takes it and so never held.
 */
#include "model_loop.h"

#include <errno.h>
#include <stdlib.h>

#include "chargen.h"
#include "service.h"
#include "session.h"

static const char *
echo_feed(struct loop_session *s, const char *in, size_t n, char *out, size_t *m, bool *quit)
{
	(void)s;
	(void)out;
	(void)quit;
	*m = n;
	return in;
}

static const char *
upper_step(struct loop_session *s, const char *in, size_t n, char *out, size_t *m, bool *quit)
{
	*m = upper_feed(&s->upper, in, n, out, quit);
	return out;
}

static size_t
upper_end(struct loop_session *s, char *out)
{
	return upper_flush(&s->upper, out);
}

static const char *
discard_feed(struct loop_session *s, const char *in, size_t n, char *out, size_t *m, bool *quit)
{
	(void)s;
	(void)n;
	(void)out;
	(void)quit;
	*m = 0;
	return in;
}

static size_t
daytime_first(char *out)
{
	return service_daytime_line(out, 64);
}

static const struct loop_service loop_services[] = {
	{ &service_echo, echo_feed, NULL, NULL, false },
	{ &service_upper, upper_step, upper_end, NULL, false },
	{ &service_discard, discard_feed, NULL, NULL, false },
	{ &service_chargen, NULL, NULL, NULL, true },
	{ &service_daytime, NULL, NULL, daytime_first, false },
};

int
loop_service_init(struct loop_worker *w)
{
	size_t i;

	for (i = 0; i < sizeof(loop_services) / sizeof(loop_services[0]); i++)
		if (loop_services[i].svc == w->job->session->service)
			w->svc = &loop_services[i];
	if (w->svc == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (!w->svc->streams)
		return 0;
	if ((w->chargen = malloc(SERVICE_BUF + CHARGEN_PERIOD)) == NULL)
		return -1;
	chargen_fill(w->chargen, SERVICE_BUF + CHARGEN_PERIOD, 0);
	return 0;
}

ssize_t
loop_service_stream(struct loop_worker *w, struct loop_session *s, int rounds)
{
	ssize_t n, sent = 0;

	while (rounds-- > 0) {
		if ((n = loop_io_send(s, w->chargen + s->chargen_at, SERVICE_BUF)) < 0)
			return sent > 0 || errno == EAGAIN || errno == EWOULDBLOCK ? sent : -1;
		sent += n;
		s->chargen_at = (uint32_t)((s->chargen_at + (size_t)n) % CHARGEN_PERIOD);
		if (n < SERVICE_BUF)
			break;
	}
	return sent;
}
