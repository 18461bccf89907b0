/*
 * options_effect: the one rule, "an option that cannot take effect is a usage
 * error", as a table: what each option needs, checked once the command line is
 * read and again once the sockets are known (main.c).
 */
#include "options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "service.h"

/* What an option may need, to take effect. */
enum need {
	NEED_STREAM, NEED_LISTENING, NEED_PROXY, NEED_TLS, NEED_LOCAL, NEED_UDP,
	NEED_PREFORK, NEED_LOOP, NEED_PROCESS, NEED_NOT_PREFORK, NEED_NOT_FORK, NEED_METRICS, NEED_ECHO, NEED_IDLE_WINDOW, NEED_PER_SOURCE
};

/* One thing an option needs; an option may need several (the first one missing is named). */
struct effect {
	int id;
	enum need need;
	const char *needs;	/* ends "it needs ..." */
	bool zero_is_off;	/* given as 0 it asks for nothing (no limit, no minimum): always fine */
};

static bool
effect_met(enum need need, const struct config *cfg, const struct options_scene *sc)
{
	switch (need) {
	case NEED_STREAM:
		return sc->stream;
	case NEED_LISTENING:
		return sc->listening;
	case NEED_PROXY:
		return sc->proxy;
	case NEED_TLS:
		return sc->tls;
	case NEED_LOCAL:
		return sc->local;
	case NEED_UDP:
		return sc->udp;
	case NEED_PREFORK:
		return cfg->model == MODEL_PREFORK;
	case NEED_LOOP:
		return cfg->model == MODEL_LOOP;
	case NEED_PROCESS:
		return cfg->model != MODEL_LOOP;
	case NEED_NOT_PREFORK:
		return cfg->model != MODEL_PREFORK;
	case NEED_NOT_FORK:
		return cfg->model != MODEL_FORK;
	case NEED_METRICS:
		return cfg->metrics != NULL;
	case NEED_ECHO:
		return strcmp(cfg->service->name, "echo") == 0;
	case NEED_IDLE_WINDOW:
		return cfg->idle_timeout > 0;
	default:	/* NEED_PER_SOURCE */
		return cfg->max_per_source > 0 || cfg->rate > 0 || cfg->udp_rate > 0;
	}
}

#define STREAM "a stream listener (TCP or unix:); a udp: listener echoes datagrams as they come"
#define LISTENING "listeners: with -i and a connection on standard input there is one session " \
	"and no supervisor"

/* Every option that can fail to take effect; tests/unit/options.c has a case for each option. */
static const struct effect effects[] = {
	{ 's', NEED_STREAM, STREAM, false },
	{ 'c', NEED_STREAM, STREAM, false },
	{ 'c', NEED_LISTENING, LISTENING, false },
	{ OPT_MAX_PER_SOURCE, NEED_NOT_PREFORK, "--model fork or loop: prefork workers accept on "
	    "their own", true },
	{ OPT_MAX_PER_SOURCE, NEED_STREAM, STREAM, true },
	{ OPT_MAX_PER_SOURCE, NEED_LISTENING, LISTENING, true },
	{ OPT_RATE, NEED_NOT_PREFORK, "--model fork or loop: prefork workers accept on their own",
	    true },
	{ OPT_RATE, NEED_STREAM, STREAM, true },
	{ OPT_RATE, NEED_LISTENING, LISTENING, true },
	{ OPT_SOURCE_PREFIX6, NEED_PER_SOURCE, "--max-per-source, --rate or --udp-rate: it says "
	    "how IPv6 sources are counted for them", false },
	{ OPT_IDLE_TIMEOUT, NEED_STREAM, STREAM, true },
	{ OPT_MIN_RATE, NEED_STREAM, STREAM, true },
	{ OPT_MIN_RATE, NEED_IDLE_WINDOW, "--idle-timeout above 0: the rate is judged over each "
	    "idle-timeout window", true },
	{ OPT_MAX_TIME, NEED_STREAM, STREAM, true },
	{ OPT_BACKLOG, NEED_STREAM, STREAM, false },
	{ OPT_BACKLOG, NEED_LISTENING, LISTENING, false },
	{ OPT_GRACE, NEED_STREAM, STREAM, false },
	{ OPT_GRACE, NEED_LISTENING, LISTENING, false },
	{ OPT_MODEL, NEED_STREAM, STREAM, false },
	{ OPT_MODEL, NEED_LISTENING, LISTENING, false },
	{ OPT_START, NEED_PREFORK, "--model prefork", false },
	{ OPT_MIN_SPARE, NEED_PREFORK, "--model prefork", false },
	{ OPT_MAX_SPARE, NEED_PREFORK, "--model prefork", false },
	{ OPT_MAX_REQUESTS, NEED_NOT_FORK, "--model prefork or loop", true },
	{ OPT_SPLICE, NEED_STREAM, STREAM, false },
	{ OPT_SPLICE, NEED_ECHO, "-s echo: it is echo's zero-copy path", false },
	{ OPT_SPLICE, NEED_PROCESS, "--model fork or prefork: the loop model copies", false },
	{ OPT_WORKERS, NEED_LOOP, "--model loop", false },
	{ OPT_BANNER, NEED_STREAM, STREAM, false },
	{ OPT_PROXY_FROM, NEED_PROXY, "a listener with ,proxy (-l ADDR:PORT,proxy)", false },
	{ OPT_PROXY_TIMEOUT, NEED_PROXY, "a listener with ,proxy (-l ADDR:PORT,proxy)", false },
	{ OPT_TLS_TIMEOUT, NEED_TLS, "TLS: a listener with ,tls (-l ADDR:PORT,tls), or -i with "
	    "--tls-cert and --tls-key", false },
	{ OPT_SOCKET_MODE, NEED_LOCAL, "a unix: listener (-l unix:PATH)", false },
	{ OPT_UDP_RATE, NEED_UDP, "a udp: listener (-l udp:ADDR:PORT)", true },
	{ OPT_METRICS, NEED_LISTENING, LISTENING, false },
	{ OPT_METRICS_ALLOW, NEED_METRICS, "--metrics ADDR:PORT", false },
	{ 'p', NEED_LISTENING, LISTENING, false },
	{ OPT_UPGRADE_SOCKET, NEED_LISTENING, LISTENING, false },
	{ OPT_REUSEPORT, NEED_LISTENING, LISTENING, false },
	{ OPT_SHUTDOWN_DELAY, NEED_LISTENING, LISTENING, true },
	{ OPT_AGENT, NEED_LISTENING, LISTENING, false },
	{ 0, NEED_STREAM, NULL, false }
};

const char *
options_name(int id)
{
	const struct option *o;

	for (o = options_long; o->name != NULL; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

/* The option's value, if it is a number (its bounds table knows where it is); else -1. */
static long
effect_value(const struct config *cfg, int id)
{
	const struct options_numeric *o;

	for (o = options_numbers; o->id != 0; o++)
		if (o->id == id)
			return *(const int *)((const char *)cfg + o->offset);
	return -1;
}

int
options_effect_check(const struct config *cfg, const struct options_scene *sc, char *err,
    size_t errlen)
{
	const struct effect *e;

	for (e = effects; e->id != 0; e++) {
		if (!cfg->given[e->id] || (e->zero_is_off && effect_value(cfg, e->id) == 0) ||
		    effect_met(e->need, cfg, sc))
			continue;
		options_error(err, errlen, "--%s cannot take effect: it needs %s", options_name(e->id),
		    e->needs);
		return -1;
	}
	return 0;
}

struct options_scene
options_effect_scene(const struct config *cfg)
{
	/* no -l: the default listener (TCP); -i: its socket may be a listener or a connection */
	struct options_scene sc = { .listening = true, .stream = cfg->inetd || cfg->nlistens == 0,
	    .tls = cfg->inetd && cfg->tls_cert != NULL };
	size_t i;

	for (i = 0; i < cfg->nlistens; i++) {
		sc.stream |= !cfg->listens[i].udp;
		sc.proxy |= cfg->listens[i].proxy;
		sc.tls |= cfg->listens[i].tls;
		sc.local |= cfg->listens[i].path != NULL;
		sc.udp |= cfg->listens[i].udp;
	}
	return sc;
}
