/* acl: --allow and --deny rules on client addresses (CIDR, IPv4 and IPv6). */
#ifndef MPECHO_ACL_H
#define MPECHO_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include <netinet/in.h>

#include "net.h"

struct acl_rule {
	struct net_addr net;	/* host bits cleared */
	int prefix;		/* 0..32 for IPv4, 0..128 for IPv6 */
	bool allow;
};

struct acl {
	struct acl_rule *rules;
	size_t n;
	bool any_allow;
};

/*
 * Parse "10.0.0.0/8", "2001:db8::/32", or a bare address (a single host).
 * An IPv4-mapped IPv6 rule (::ffff:a.b.c.d/n, n >= 96) becomes the IPv4 rule.
 * Returns 0; -1 with errno EINVAL if malformed; ACL_HOST_BITS if the address
 * has bits set past the prefix (a typo like 192.168.1.5/1 would allow half the
 * Internet): *out then holds the network it would be, for a suggestion.
 */
#define ACL_HOST_BITS (-2)
int acl_parse(const char *text, bool allow, struct acl_rule *out);

/* Append a parsed rule: 0, or -1 (ENOMEM). */
int acl_add(struct acl *acl, const struct acl_rule *rule);

/*
 * Deny wins; when any allow rule exists, an address no allow rule matches is
 * refused; with no rules, everyone is permitted.
 */
bool acl_permits(const struct acl *acl, const struct net_addr *addr);

/*
 * A rule that cannot change who is let in: one a deny rule covers (deny wins),
 * one inside another of its kind, or, when allow rules exist, a deny rule that
 * no allow rule overlaps (nobody outside them gets in anyway). 1 with the
 * first such rule's index and the index of the rule that covers it (its own
 * for the last case), or 0.
 */
int acl_idle(const struct acl *acl, size_t *rule, size_t *cause);

/* Room for acl_rule_text(). */
#define ACL_RULE_TEXT (INET6_ADDRSTRLEN + 8)

/* "10.0.0.0/8", "2001:db8::/32". */
const char *acl_rule_text(const struct acl_rule *r, char *buf, size_t len);

void acl_free(struct acl *acl);

#endif
