/*
 * address: a libFuzzer target for listen addresses ("HOST:PORT[,proxy]",
 * "[IPv6]:PORT", "unix:PATH") and the split under them: a spec is either
 * refused with a message, or holds a port that passes the port check, or an
 * absolute path; and mpecho's server
 * argument: refused with EINVAL and nothing kept, or a non-empty host (and
 * a non-empty port, if any).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"
#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	listener_spec_free(&spec);
	return 0;
}
