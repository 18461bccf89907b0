/*
 * udp: the UDP echo process (-l udp:ADDR:PORT). The supervisor forks it once
 * (again if it dies) and never reads a datagram itself. It sends each datagram
 * back to its sender, unchanged, from the address it came to, in batches
 * (recvmmsg, sendmmsg); it drops what could make it a loop or a reflector
 * (udp_guard.h: well-known service ports, as an echo to chargen's port is
 * CVE-1999-0103's loop, mpechod's own ports, sources that repeat themselves
 * like a loop), datagrams from clients the access rules refuse, and above
 * --udp-rate per source. It logs a summary line, never one per datagram.
 */
#ifndef MPECHO_UDP_H
#define MPECHO_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct acl_shared;
struct listeners;

/* What the UDP process counts; published to the supervisor (its /metrics) after each batch. */
enum udp_count { UDP_RECEIVED, UDP_ECHOED, UDP_BYTES, UDP_BYTES_ECHOED, UDP_DROP_PORT, UDP_DROP_ACL,
	UDP_DROP_RATE, UDP_DROP_SEND, UDP_DROP_LOOP, UDP_COUNTS };

/* Their names in the summary line: "received", "echoed", "bytes", "echoed_bytes", ..., "dropped_loop". */
extern const char *const udp_count_names[UDP_COUNTS];

struct udp_job {
	const struct listeners *socks;	/* the bound UDP sockets */
	uint64_t *shared;		/* UDP_COUNTS counters shared with the supervisor; a new
					 * UDP process goes on from where the last one left them */
	const struct acl_shared *rules;	/* the access rules in force */
	int rate;			/* datagrams a second from one source; 0: no limit */
	int prefix6;			/* IPv6 sources are counted by this prefix */
	pid_t supervisor;		/* the one sender of SIGTERM it obeys */
	const int *ports;		/* every port mpechod listens on: no datagram from them is answered */
	size_t nports;
};

/* Every how long the summary line is logged, if anything happened since the last one. */
#define UDP_SUMMARY_MS 60000

/*
 * Serve until SIGTERM from the supervisor or the supervisor's death: exit 0,
 * after a last summary line. SIGHUP reopens the log, SIGUSR1 logs the summary.
 * The caller has blocked SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 (the orphan
 * signal, taken only once the parent is another): they are read from a signalfd.
 */
void udp_run(const struct udp_job *job) __attribute__((noreturn));

#endif
