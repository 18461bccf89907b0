/* acl: --allow and --deny rules on client addresses. */
#include "acl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "number.h"

/* Clear the bits after the prefix so that a rule compares whole bytes. */
static void
mask_host_bits(unsigned char *bytes, int prefix, int len)
{
	int i;

	for (i = 0; i < len; i++) {
		int keep = prefix - i * 8;

		if (keep <= 0)
			bytes[i] = 0;
		else if (keep < 8)
			bytes[i] &= (unsigned char)(0xff << (8 - keep));
	}
}

static bool
prefix_matches(const unsigned char *a, const unsigned char *net, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, (size_t)full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ net[full]) & (0xff << (8 - rest))) == 0;
}

int
acl_parse(const char *text, bool allow, struct acl_rule *out)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char addr[INET6_ADDRSTRLEN];
	unsigned char given[sizeof(out->net.bytes)];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	long prefix;
	int max;

	memset(out, 0, sizeof(*out));
	out->allow = allow;
	if (alen == 0 || alen >= sizeof(addr))
		goto invalid;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->net.bytes) == 1) {
		out->net.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->net.bytes) == 1) {
		out->net.family = AF_INET6;
		max = 128;
	} else {
		goto invalid;
	}
	prefix = max;
	if (slash != NULL && number_parse(slash + 1, 0, max, &prefix) < 0)
		goto invalid;
	out->prefix = (int)prefix;
	if (out->net.family == AF_INET6 && out->prefix >= 96 &&
	    memcmp(out->net.bytes, mapped, sizeof(mapped)) == 0) {
		out->net.family = AF_INET;
		memmove(out->net.bytes, out->net.bytes + 12, 4);
		memset(out->net.bytes + 4, 0, 12);
		out->prefix -= 96;
		max = 32;
	}
	memcpy(given, out->net.bytes, sizeof(given));
	mask_host_bits(out->net.bytes, out->prefix, max / 8);
	return memcmp(given, out->net.bytes, sizeof(given)) == 0 ? 0 : ACL_HOST_BITS;
invalid:
	errno = EINVAL;
	return -1;
}

int
acl_add(struct acl *acl, const struct acl_rule *rule)
{
	struct acl_rule *r = realloc(acl->rules, (acl->n + 1) * sizeof(*r));

	if (r == NULL)
		return -1;
	acl->rules = r;
	r[acl->n++] = *rule;
	if (rule->allow)
		acl->any_allow = true;
	return 0;
}

bool
acl_permits(const struct acl *acl, const struct net_addr *addr)
{
	bool allowed = !acl->any_allow;
	size_t i;

	for (i = 0; i < acl->n; i++) {
		const struct acl_rule *r = &acl->rules[i];

		if (r->net.family != addr->family || !prefix_matches(addr->bytes, r->net.bytes, r->prefix))
			continue;
		if (!r->allow)
			return false;
		allowed = true;
	}
	return allowed;
}

/* Whether rule outer holds every address of rule inner. */
static bool
acl_covers(const struct acl_rule *outer, const struct acl_rule *inner)
{
	return outer->net.family == inner->net.family && outer->prefix <= inner->prefix &&
	    prefix_matches(inner->net.bytes, outer->net.bytes, outer->prefix);
}

/* Whether rule i changes nothing: *cause is the rule that makes it so (i itself: no allow near it). */
static bool
acl_rule_idle(const struct acl *acl, size_t i, size_t *cause)
{
	const struct acl_rule *r = &acl->rules[i], *o;
	bool near_allow = false;
	size_t j;

	for (j = 0; j < acl->n; j++) {
		o = &acl->rules[j];
		if (j == i)
			continue;
		/* a deny covers an allow whatever the order; of two equal rules of a kind, the later is idle */
		if (acl_covers(o, r) && ((!o->allow && r->allow) ||
		    (o->allow == r->allow && (o->prefix < r->prefix || j < i)))) {
			*cause = j;
			return true;
		}
		near_allow |= o->allow && (acl_covers(o, r) || acl_covers(r, o));
	}
	*cause = i;
	return !r->allow && acl->any_allow && !near_allow;
}

int
acl_idle(const struct acl *acl, size_t *rule, size_t *cause)
{
	size_t i;

	for (i = 0; i < acl->n; i++)
		if (acl_rule_idle(acl, i, cause)) {
			*rule = i;
			return 1;
		}
	return 0;
}

const char *
acl_rule_text(const struct acl_rule *r, char *buf, size_t len)
{
	char net[INET6_ADDRSTRLEN] = "?";

	inet_ntop(r->net.family, r->net.bytes, net, sizeof(net));
	snprintf(buf, len, "%s/%d", net, r->prefix);
	return buf;
}

void
acl_free(struct acl *acl)
{
	free(acl->rules);
	acl->rules = NULL;
	acl->n = 0;
	acl->any_allow = false;
}
