/*
 * admission: whether a connection may have a session: the access rules, then
 * the per-source limits. Refusals are counted by reason and logged at most
 * ADMISSION_LINES times a second, so a flood cannot fill the disk.
 */
#ifndef MPECHO_ADMISSION_H
#define MPECHO_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "acl_shared.h"
#include "log.h"

struct acl;
struct limits;
struct net_addr;
struct peer;

#define ADMISSION_LINES 10	/* refusal lines logged a second at most; the rest are counted */

enum refusal {
	ADMITTED, REFUSED_ACL, REFUSED_PER_SOURCE, REFUSED_RATE,
	REFUSED_PROXY,		/* a PROXY header that is malformed, late, or from a peer not allowed to send one */
	REFUSAL_COUNT
};

struct admission {
	const struct acl *acl;		/* the rules, unless rules.from is set */
	struct acl_view rules;		/* the rules in force, when they can change (admission_follow) */
	const struct acl *proxy_from;	/* who may send a PROXY header; no rule: anyone */
	struct limits *limits;		/* NULL when no per-source limit and no rate is set */
	int prefix6;			/* IPv6 sources are counted by this prefix (a /64: one host) */
	uint64_t refused[REFUSAL_COUNT];
	uint64_t *shared_refused;	/* or NULL: also counted there, before the line (prefork's totals) */
	uint64_t checks;		/* balancer health checks: connections closed before a session */
	struct log_throttle log;
};

/*
 * Rules from acl; per-source limits (max_per_source, rate; 0: none) for up to
 * `live` sessions at once, IPv4 sources by address, IPv6 ones by their first
 * ADMISSION_PREFIX6 bits (change prefix6 after init). 0, or -1 with errno.
 */
#define ADMISSION_PREFIX6 64
int admission_init(struct admission *a, const struct acl *acl, int max_per_source, int rate,
    int live);
void admission_free(struct admission *a);

/* Judge by the rules published in shared (the --rules file, re-read on SIGHUP) instead. */
void admission_follow(struct admission *a, const struct acl_shared *shared);

/*
 * ADMITTED (the peer then counts as live in the per-source limits until
 * admission_release()), or why not: counted, and logged as
 * "event=refused peer=... reason=...".
 */
enum refusal admission_check(struct admission *a, const struct peer *p, int64_t now_ms);

/*
 * Log a refusal "event=refused peer=... [via=...] reason=R [detail=...]" within
 * the throttle (the caller counts it).
 */
void admission_log(struct admission *a, const struct peer *p, const char *reason, const char *detail,
    int64_t now_ms);

/*
 * A connection on a PROXY listener: may this peer (the balancer) send a
 * header? If not, the refusal is counted and logged (reason=proxy).
 */
/*
 * One datagram from addr (the UDP process): the access rules, then the rate,
 * counted by reason like connections but never logged one by one.
 */
enum refusal admission_datagram(struct admission *a, const struct net_addr *addr, int64_t now_ms);

bool admission_proxy_from(struct admission *a, const struct peer *balancer, int64_t now_ms);

/* A PROXY header that failed (malformed, timeout, broken): counted and logged with why. */
void admission_proxy_failed(struct admission *a, const struct peer *balancer, const char *why,
    int64_t now_ms);

/* A balancer's health check (closed before a session): counted, logged at debug level only. */
void admission_health_check(struct admission *a, const struct peer *balancer);

/* Count p as live again, judging nothing (after limits_clear_live()). */
void admission_hold(struct admission *a, const struct peer *p, int64_t now_ms);

/* A session of an admitted peer ended. */
void admission_release(struct admission *a, const struct peer *p);

/*
 * Close the throttle's second when it is over (logging "event=refused-held
 * count=N" for lines it held back). Returns when it must be called next
 * (INT64_MAX: nothing held).
 */
int64_t admission_tick(struct admission *a, int64_t now_ms);

#endif
