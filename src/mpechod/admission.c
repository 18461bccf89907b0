/* admission: access rules and per-source limits in front of every session. */
#include "admission.h"

#include <stddef.h>
#include <sys/socket.h>
#include <stdlib.h>

#include "acl.h"
#include "limits.h"
#include "peer.h"

static const char *const admission_reasons[REFUSAL_COUNT] = {
	[REFUSED_ACL] = "acl",
	[REFUSED_PER_SOURCE] = "per-source",
	[REFUSED_RATE] = "rate",
	[REFUSED_PROXY] = "proxy",
};

int
admission_init(struct admission *a, const struct acl *acl, int max_per_source, int rate,
    int live)
{
	*a = (struct admission){ .acl = acl, .prefix6 = ADMISSION_PREFIX6, .log = { .max = ADMISSION_LINES } };
	/* Room for every live session's address plus as many recently seen ones. */
	if ((max_per_source > 0 || rate > 0) &&
	    (a->limits = limits_new(2 * live + 1024, max_per_source, rate)) == NULL)
		return -1;
	return 0;
}

void
admission_free(struct admission *a)
{
	limits_free(a->limits);
	a->limits = NULL;
	acl_view_free(&a->rules);
}

void
admission_follow(struct admission *a, const struct acl_shared *shared)
{
	a->rules.from = shared;
}

/* The key a source is counted under: an IPv4 address, or an IPv6 prefix (one host has a /64). */
static struct net_addr
admission_source(const struct admission *a, const struct net_addr *addr)
{
	struct net_addr key = *addr;
	int i;

	if (key.family != AF_INET6)
		return key;
	for (i = 0; i < 16; i++) {
		if (a->prefix6 <= i * 8)
			key.bytes[i] = 0;
		else if (a->prefix6 < i * 8 + 8)
			key.bytes[i] &= (unsigned char)(0xff << (8 - (a->prefix6 - i * 8)));
	}
	return key;
}

/* One refusal counted, where the status and the metrics will see it before its log line. */
static void
admission_count(struct admission *a, enum refusal why)
{
	a->refused[why]++;
	if (a->shared_refused != NULL)
		__atomic_add_fetch(&a->shared_refused[why], 1, __ATOMIC_RELAXED);
}

static enum refusal
admission_decide(struct admission *a, const struct peer *p, int64_t now_ms)
{
	struct net_addr key;

	if (p->local)
		return ADMITTED;	/* the socket file's permissions say who may connect */
	if (!acl_permits(a->rules.from != NULL ? acl_view_get(&a->rules) : a->acl, &p->addr))
		return REFUSED_ACL;
	if (a->limits == NULL)
		return ADMITTED;
	key = admission_source(a, &p->addr);
	switch (limits_admit(a->limits, &key, now_ms)) {
	case LIMITS_OK:
		return ADMITTED;
	case LIMITS_PER_SOURCE:
		return REFUSED_PER_SOURCE;
	default:
		return REFUSED_RATE;
	}
}

void
admission_log(struct admission *a, const struct peer *p, const char *reason, const char *detail,
    int64_t now_ms)
{
	char who[PEER_TEXT_MAX], quoted[128];

	if (!log_throttle_allow(&a->log, now_ms, "refused-held"))
		return;
	if (detail != NULL)
		log_msg(LOG_LVL_WARN, "event=refused %s reason=%s detail=%s",
		    peer_text(p, who, sizeof(who)), reason, log_quote(detail, quoted, sizeof(quoted)));
	else
		log_msg(LOG_LVL_WARN, "event=refused %s reason=%s", peer_text(p, who, sizeof(who)),
		    reason);
}

enum refusal
admission_check(struct admission *a, const struct peer *p, int64_t now_ms)
{
	enum refusal why = admission_decide(a, p, now_ms);

	if (why == ADMITTED)
		return why;
	admission_count(a, why);
	admission_log(a, p, admission_reasons[why], NULL, now_ms);
	return why;
}

enum refusal
admission_datagram(struct admission *a, const struct net_addr *addr, int64_t now_ms)
{
	struct peer p = { .addr = *addr };
	enum refusal why = admission_decide(a, &p, now_ms);

	if (why == ADMITTED)
		admission_release(a, &p);	/* a datagram is not a session: nothing stays live */
	else
		admission_count(a, why);
	return why;
}

bool
admission_proxy_from(struct admission *a, const struct peer *balancer, int64_t now_ms)
{
	if (a->proxy_from == NULL || a->proxy_from->n == 0 || acl_permits(a->proxy_from, &balancer->addr))
		return true;
	admission_count(a, REFUSED_PROXY);
	admission_log(a, balancer, "proxy", "not a --proxy-from peer", now_ms);
	return false;
}

void
admission_proxy_failed(struct admission *a, const struct peer *balancer, const char *why,
    int64_t now_ms)
{
	admission_count(a, REFUSED_PROXY);
	admission_log(a, balancer, "proxy", why, now_ms);
}

void
admission_health_check(struct admission *a, const struct peer *balancer)
{
	a->checks++;
	log_msg(LOG_LVL_DEBUG, "event=health-check peer=%s", balancer->name);
}

void
admission_hold(struct admission *a, const struct peer *p, int64_t now_ms)
{
	struct net_addr key = admission_source(a, &p->addr);

	if (a->limits != NULL && !p->local)
		limits_hold(a->limits, &key, now_ms);
}

void
admission_release(struct admission *a, const struct peer *p)
{
	struct net_addr key = admission_source(a, &p->addr);

	if (a->limits != NULL && !p->local)
		limits_release(a->limits, &key);
}

int64_t
admission_tick(struct admission *a, int64_t now_ms)
{
	if (a->log.held == 0)
		return INT64_MAX;
	log_throttle_roll(&a->log, now_ms, "refused-held");
	return a->log.held > 0 ? a->log.window_ms + 1000 : INT64_MAX;
}
