/*
 * address: a libFuzzer target for listen addresses ("HOST:PORT[,proxy]",
 * "[IPv6]:PORT", "unix:PATH", a port range FIRST-LAST) and the split under
 * them: a spec is either refused with a message, or holds a port that passes
 * the port check (a range: its first, and a count that stays within 65535),
 * or an absolute path; and mpecho's server
 * argument: refused with EINVAL and nothing kept, or a non-empty host (and
 * a non-empty port, if any); and a client's address handed on by a
 * super-server (the text split at its first newline into address and port):
 * refused, or an IPv4 or IPv6 address with the port written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inetd.h"
#include "listener.h"
#include "net.h"
#include "number.h"

/* "IP\nPORT": parsed as SOCAT_PEERADDR/SOCAT_PEERPORT are, or refused. */
static void
fuzz_env_peer(const char *text)
{
	char ip[512], *nl;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	long port;

	if ((nl = strchr(text, '\n')) == NULL)
		return;
	memcpy(ip, text, (size_t)(nl - text));
	ip[nl - text] = '\0';
	if (inetd_peer_parse(ip, nl + 1, &ss, &len) < 0)
		return;
	if ((ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    number_parse(nl + 1, 1, 65535, &port) < 0 || net_port((struct sockaddr *)&ss) != port)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A range: 1 to LISTENER_RANGE_MAX ports from a number, its last port a port, copied whole. */
static void
fuzz_range(const struct listen_spec *spec)
{
	struct listen_spec last;
	char err[256];
	long first;

	if (spec->ports == 1)
		return;
	if (spec->ports < 1 || spec->ports > LISTENER_RANGE_MAX ||
	    number_parse(spec->port, 1, 65535, &first) < 0 || first + spec->ports - 1 > 65535 ||
	    listener_spec_port(spec, spec->ports - 1, &last, err, sizeof(err)) < 0 ||
	    strtol(last.port, NULL, 10) != first + spec->ports - 1 || last.ports != 1 ||
	    last.udp != spec->udp || last.proxy != spec->proxy || last.tls != spec->tls)
		abort();
	listener_spec_free(&last);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512], err[256] = "";
	struct listen_spec spec;
	char *host, *port;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_env_peer(text);
	if (net_parse_target(text, &host, &port) == 0) {
		if (host == NULL || host[0] == '\0' || (port != NULL && port[0] == '\0'))
			abort();
		free(host);
		free(port);
	} else if (host != NULL || port != NULL) {
		abort();
	}
	if (listener_parse(text, &spec, err, sizeof(err)) < 0) {
		if (err[0] == '\0' || spec.host != NULL || spec.port != NULL || spec.path != NULL)
			abort();
		return 0;
	}
	if (spec.path != NULL ? spec.path[0] != '/' || spec.port != NULL :
	    spec.port == NULL || net_check_port(spec.port) < 0)
		abort();
	fuzz_range(&spec);
	listener_spec_free(&spec);
	return 0;
}
