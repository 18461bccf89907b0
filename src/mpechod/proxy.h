/*
 * proxy: the PROXY protocol header a load balancer puts before a client's
 * bytes (HAProxy's proxy-protocol specification, versions 1 and 2, told
 * apart by their signatures). A pure parser over the bytes received so far:
 * no I/O, unit-tested over every field and every split, and fuzzed.
 */
#ifndef MPECHO_PROXY_H
#define MPECHO_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define PROXY_V1_MAX 107	/* a version 1 line, CRLF included, is never longer */
#define PROXY_V2_FIXED 16	/* signature, version and command, family, length */
#define PROXY_DECIDE 232	/* bytes that always suffice to decide (v2 with AF_UNIX addresses) */

struct proxy_header {
	int version;				/* 1 or 2 */
	bool local;				/* use the connection's own addresses (LOCAL, UNKNOWN, UNSPEC) */
	bool command_local;			/* v2 LOCAL: the balancer's own connection, a health check */
	struct sockaddr_storage src, dst;	/* the client and the address it reached, if !local */
};

/*
 * Look at the first len bytes received on a PROXY connection. Returns the
 * header's whole length (the caller consumes that many bytes; for version 2 it
 * may be more than len, TLVs included) and fills *h; 0 if more bytes are
 * needed to decide; -1 if this is not a valid header, with *why naming the
 * fault ("bad signature", "v1 source port", ...).
 */
long proxy_parse(const unsigned char *buf, size_t len, struct proxy_header *h, const char **why);

#endif
