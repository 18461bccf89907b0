/* inetd_peer: the client's address a relaying super-server hands on in the environment (socat, UCSPI). */
#include "inetd.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "number.h"

int
inetd_peer_parse(const char *ip, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	    .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char host[INET6_ADDRSTRLEN + 32];
	size_t n = strlen(ip);
	long p;

	/* socat writes an IPv6 address in brackets, every group in full: "[0000:...:0001]" */
	if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']')
		ip++, n -= 2;
	if (n == 0 || n >= sizeof(host) || memchr(ip, '[', n) != NULL || memchr(ip, ']', n) != NULL ||
	    number_parse(port, 1, 65535, &p) < 0)
		goto malformed;
	memcpy(host, ip, n);
	host[n] = '\0';
	if (getaddrinfo(host, port, &hints, &res) != 0)
		goto malformed;
	if (res->ai_family != AF_INET && res->ai_family != AF_INET6) {
		freeaddrinfo(res);
		goto malformed;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
malformed:
	errno = EINVAL;
	return -1;
}

/*
 * socat's pair first (a socat run under tcpserver is the nearer relay), then
 * UCSPI's: PROTO names the prefix of its variables (TCP, or TCP6 in ucspi-tcp6).
 */
int
inetd_peer_from_env(struct sockaddr_storage *ss, socklen_t *len, char *which, size_t whichlen)
{
	const char *proto = getenv("PROTO"), *ip = getenv("SOCAT_PEERADDR");
	const char *port = getenv("SOCAT_PEERPORT");
	char ipvar[32], portvar[32];

	snprintf(which, whichlen, "SOCAT_PEERADDR and SOCAT_PEERPORT");
	if ((ip == NULL || port == NULL) && proto != NULL &&
	    (strcmp(proto, "TCP") == 0 || strcmp(proto, "TCP6") == 0)) {
		snprintf(ipvar, sizeof(ipvar), "%sREMOTEIP", proto);
		snprintf(portvar, sizeof(portvar), "%sREMOTEPORT", proto);
		ip = getenv(ipvar);
		port = getenv(portvar);
		snprintf(which, whichlen, "%s and %s", ipvar, portvar);
	}
	if (ip == NULL || port == NULL)
		return 0;
	return inetd_peer_parse(ip, port, ss, len) < 0 ? -1 : 1;
}
