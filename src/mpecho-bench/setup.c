/* setup: what the parsed options need before the load: the target, TLS, the --html file, descriptors. */
#include "bench.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "mpecho.h"
#include "net.h"
#include "tls.h"

/* The target's address (a unix: socket's is already there), and --sources' loopback rule. */
static int
setup_resolve(struct bench *b, char *err, size_t errlen)
{
	struct addrinfo *ai;
	int gai;

	if (bench_unix(b))
		return EXIT_OK;
	if ((gai = net_resolve(b->host, b->port, 0, AF_UNSPEC, &ai)) != 0)
		return cli_error(EXIT_NOT_RUN, err, errlen, "cannot resolve '%s': %s", b->host,
		    gai_strerror(gai));
	memcpy(&b->addr, ai->ai_addr, ai->ai_addrlen);
	b->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (b->sources > 0 && (b->addr.ss_family != AF_INET ||
	    (ntohl(((struct sockaddr_in *)&b->addr)->sin_addr.s_addr) >> 24) != 127))
		return cli_error(EXIT_USAGE, err, errlen, "--sources needs an IPv4 loopback target "
		    "(127.0.0.0/8)");
	return EXIT_OK;
}

/*
 * Room for every connection's descriptor (--procs: one generator's share):
 * the soft limit raised to the hard one if needed.
 */
static int
setup_fd_limit(const struct bench *b, char *err, size_t errlen)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)((b->conns + b->procs - 1) / b->procs) + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return EXIT_OK;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		return cli_error(EXIT_USAGE, err, errlen, "%d connections need %llu descriptors; the "
		    "limit is %llu%s", (int)(need - 64), (unsigned long long)need, (unsigned long long)rl.rlim_cur,
		    b->procs == 1 ? " (--procs splits them over processes)" : "");
	return EXIT_OK;
}

int
bench_setup(struct bench *b, char *err, size_t errlen)
{
	int rc;

	if ((rc = setup_resolve(b, err, errlen)) != EXIT_OK)
		return rc;
	if (b->tls && (b->tls_ctx = tls_client_context(b->ca, b->insecure, err, errlen)) == NULL)
		return EXIT_NOT_RUN;
	if (b->html != NULL && (b->html_file = fopen(b->html, "w")) == NULL)
		return cli_error(EXIT_NOT_RUN, err, errlen, "cannot write %s: %s", b->html,
		    strerror(errno));
	return setup_fd_limit(b, err, errlen);
}
