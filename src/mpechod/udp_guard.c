/* udp_guard: the ports no answer goes to, and a small table of sources that repeat themselves. */
#include "udp_guard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "net.h"

#define GUARD_SETS 256		/* sources tracked: GUARD_SETS x GUARD_WAYS */
#define GUARD_WAYS 4
#define GUARD_LAST 4		/* a repeat is the same as one of the last GUARD_LAST datagrams */
#define GUARD_HASHED 64		/* bytes of a datagram its fingerprint reads, with its length */

struct guard_source {
	struct net_addr addr;
	int port;		/* 0: the entry is free */
	uint64_t last[GUARD_LAST];
	unsigned next_last;
	uint32_t repeats;
	int64_t seen_ms;
	int64_t muted_until_ms;
};

struct udp_guard {
	uint64_t seed;		/* random: where a source lands cannot be chosen from outside */
	int *ports;
	size_t nports;
	struct guard_source set[GUARD_SETS][GUARD_WAYS];
};

bool
udp_port_reflects(int port)
{
	static const int ports[] = { 0, 7, 9, 13, 17, 19, 37, 53, 69, 111, 123, 137, 161, 162, 389,
	    500, 520, 1194, 1900, 3478, 3702, 5353, 11211 };
	size_t i;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (ports[i] == port)
			return true;
	return false;
}

struct udp_guard *
udp_guard_new(const int *ports, size_t nports)
{
	struct udp_guard *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	if (nports > 0 && (g->ports = malloc(nports * sizeof(*ports))) == NULL) {
		free(g);
		return NULL;
	}
	if (nports > 0)
		memcpy(g->ports, ports, nports * sizeof(*ports));
	g->nports = nports;
	if (getrandom(&g->seed, sizeof(g->seed), GRND_NONBLOCK) != (ssize_t)sizeof(g->seed))
		g->seed = (uint64_t)(uintptr_t)g ^ 0x9e3779b97f4a7c15ULL;
	return g;
}

void
udp_guard_free(struct udp_guard *g)
{
	if (g == NULL)
		return;
	free(g->ports);
	free(g);
}

/* FNV-1a over bytes, from a starting value. */
static uint64_t
guard_hash(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static bool
guard_own_port(const struct udp_guard *g, int port)
{
	size_t i;

	for (i = 0; i < g->nports; i++)
		if (g->ports[i] == port)
			return true;
	return false;
}

/*
 * The source's entry, made if new: in its set, a free way, or else the way
 * that repeated least (never a muted one while another is not): a flood of new
 * sources pushes out other newcomers, not the loop being counted.
 */
static struct guard_source *
guard_source(struct udp_guard *g, const struct net_addr *addr, int port, int64_t now_ms)
{
	uint64_t h = guard_hash(g->seed, addr->bytes, sizeof(addr->bytes));
	struct guard_source *set, *pick = NULL;
	int i;

	h = guard_hash(h, &port, sizeof(port));
	set = g->set[h % GUARD_SETS];
	for (i = 0; i < GUARD_WAYS; i++)
		if (set[i].port == port && memcmp(&set[i].addr, addr, sizeof(*addr)) == 0)
			return &set[i];
	for (i = 0; i < GUARD_WAYS; i++) {
		struct guard_source *s = &set[i];
		bool muted = s->muted_until_ms > now_ms;

		if (s->port == 0) {
			pick = s;
			break;
		}
		if (pick == NULL || (!muted && (pick->muted_until_ms > now_ms || s->repeats < pick->repeats)))
			pick = s;
	}
	if (pick->muted_until_ms > now_ms)
		return NULL;	/* every way is a muted loop: the newcomer is not counted */
	memset(pick, 0, sizeof(*pick));
	pick->addr = *addr;
	pick->port = port;
	return pick;
}

enum udp_guard_verdict
udp_guard_check(struct udp_guard *g, const struct sockaddr *from, const void *data, size_t len,
    int64_t now_ms)
{
	struct net_addr addr;
	struct guard_source *s;
	uint64_t print;
	int port = net_port(from), i;
	bool repeat = false;

	if (udp_port_reflects(port) || guard_own_port(g, port) || net_addr_of(from, &addr) < 0)
		return UDP_GUARD_PORT;
	if ((s = guard_source(g, &addr, port, now_ms)) == NULL)
		return UDP_GUARD_PASS;
	if (s->muted_until_ms > now_ms)
		return UDP_GUARD_LOOP;
	print = guard_hash(guard_hash(g->seed, &len, sizeof(len)), data, len < GUARD_HASHED ? len : GUARD_HASHED);
	for (i = 0; i < GUARD_LAST; i++)
		repeat |= s->last[i] == print;
	if (repeat && now_ms - s->seen_ms <= UDP_GUARD_GAP_MS)
		s->repeats++;
	else
		s->repeats = 0;
	s->seen_ms = now_ms;
	s->last[s->next_last++ % GUARD_LAST] = print;
	if (s->repeats < UDP_GUARD_REPEATS)
		return UDP_GUARD_PASS;
	s->repeats = 0;
	s->muted_until_ms = now_ms + UDP_GUARD_MUTE_MS;
	return UDP_GUARD_LOOP_FOUND;
}
