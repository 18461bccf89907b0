/*
 * udp_guard: what keeps the UDP echo from looping or reflecting. An echo
 * answers every datagram, so a datagram whose source is an echo too (this
 * server, another instance on the same port, a reflector, another RFC 862
 * server) is answered for ever, at the speed of the two processes. Three
 * nets, from the cheapest:
 *   - ports: a datagram from a reflector's port (udp_port_reflects()), or from
 *     any port mpechod itself listens on (whatever the address: that covers
 *     the server's own address and a fleet sharing one port), is dropped;
 *   - repeats: a source whose datagrams come back the same as one of its last
 *     few, each within UDP_GUARD_GAP_MS of the one before, UDP_GUARD_REPEATS
 *     times in a row, is a loop through an echo the first net does not know:
 *     it is muted for UDP_GUARD_MUTE_MS, which breaks the loop (one datagram
 *     not answered ends it). The count is not refilled by time: only a
 *     datagram that is new, or late, starts it again;
 *   - the rate (--udp-rate, admission.c), a budget per source.
 */
#ifndef MPECHO_UDP_GUARD_H
#define MPECHO_UDP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_GUARD_REPEATS 1000		/* repeats in a row that make a loop */
#define UDP_GUARD_GAP_MS 10		/* a repeat later than this is a client's, not a loop's */
#define UDP_GUARD_MUTE_MS 60000		/* how long a looping source gets no answer */

enum udp_guard_verdict {
	UDP_GUARD_PASS,
	UDP_GUARD_PORT,		/* from a reflector's port or one of mpechod's own */
	UDP_GUARD_LOOP,		/* from a source muted as a loop */
	UDP_GUARD_LOOP_FOUND	/* this datagram made it one: log it, then as UDP_GUARD_LOOP */
};

struct udp_guard;

/* A guard for a server listening on these ports (TCP, UDP, metrics, agent). NULL with errno. */
struct udp_guard *udp_guard_new(const int *ports, size_t nports);
void udp_guard_free(struct udp_guard *g);

/* The verdict on len bytes of data from `from` at now_ms (a monotonic clock). */
enum udp_guard_verdict udp_guard_check(struct udp_guard *g, const struct sockaddr *from,
    const void *data, size_t len, int64_t now_ms);

/*
 * Whether a datagram from this source port is dropped whoever sends it: 0 and
 * the ports of services that answer datagrams (echo, daytime, chargen, time,
 * DNS, NTP, SNMP, and the rest of the usual reflectors).
 */
bool udp_port_reflects(int port);

#endif
