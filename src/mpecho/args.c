/*
 * args: mpecho's command line into struct client_args, checked whole: an option
 * that cannot take effect is a usage error, as in mpechod. Never prints, never exits.
 */
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "mpecho.h"
#include "net.h"
#include "number.h"

static const char usage_text[] =
"Usage: mpecho [OPTIONS] [HOST [PORT]]\n"
"       mpecho [OPTIONS] HOST:PORT | [IPv6]:PORT | unix:PATH\n"
"Talk to an echo server (default 127.0.0.1 port " MPECHO_DEFAULT_PORT ").\n"
"\n"
"On a terminal: type a line, see the reply; 'quit' (sent to the server) or\n"
"Ctrl-D ends it, once the server has sent the rest back and closed.\n"
"On pipes: standard input is sent as it is and what comes back is written to\n"
"standard output; at end of input the sending side is shut down, and mpecho\n"
"exits once the server has sent everything back and closed.\n"
"\n"
"  -4                 IPv4 only\n"
"  -6                 IPv6 only\n"
"  -s ADDR            connect from this local address (an IPv4 or IPv6 address of\n"
"                     this host; it chooses the IP version too)\n"
"  -v                 a line on standard error when connected (both ends) and\n"
"                     when closed (bytes sent and received)\n"
"  -w SECS            give up when connecting takes longer, or when nothing is\n"
"                     read or sent for SECS (1-86400; default: wait for ever)\n"
"  -z                 connect only, send nothing: the exit status says whether\n"
"                     the port is open (0) or not (1)\n"
"  -O, --sockopt LIST socket options, set before connecting (comma-separated;\n"
"                     -O may be repeated): keepalive[=IDLE:INTVL:CNT],\n"
"                     user-timeout=MS, rcvbuf=BYTES, sndbuf=BYTES, tos=N|DSCP,\n"
"                     mark=N, device=IFNAME, freebind, transparent, fastopen,\n"
"                     mss=BYTES (see mpecho(1)); with -u the UDP ones only\n"
"      --banner       the server sends a line first (mpechod --banner): print it\n"
"                     on standard error, apart from the echo\n"
"      --tls          speak TLS (1.2 or 1.3): the server's certificate must be valid\n"
"                     for HOST and signed by a trusted CA (the system's, or --ca)\n"
"      --ca FILE      trust the CA certificates in FILE (PEM) instead\n"
"      --insecure     check no certificate (testing only)\n"
"  -u, --udp          echo over UDP: each read of the input (a line on a terminal)\n"
"                     is one datagram; at the end, missing echoes are awaited for\n"
"                     -w SECS (default 2)\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"An option that cannot take effect (-4 with an IPv6 address, --ca without\n"
"--tls, ...) is a usage error.\n"
"Exit status: 0 done (on pipes: every byte sent came back; with -z: the port\n"
"is open), 1 connection failed or broken (refused, unknown host, reset, timed\n"
"out, closed by the server before the end of the input or with bytes missing, a\n"
"TLS handshake or record that failed, -s not an address of this host, a socket\n"
"option the system refused (-O device=nope), a standard descriptor closed; with -z: the port is not open), 2 usage error.\n";

const struct option args_long[] = {
	{ "banner", no_argument, NULL, 'b' },
	{ "tls", no_argument, NULL, 't' },
	{ "ca", required_argument, NULL, 'C' },
	{ "insecure", no_argument, NULL, 'k' },
	{ "udp", no_argument, NULL, 'u' },
	{ "sockopt", required_argument, NULL, 'O' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

const char *
args_usage(void)
{
	return usage_text;
}

/* "unix:PATH": a Unix-domain socket, no port. */
static enum args_result
args_unix(struct client_args *a, int n, char **args, char *err, size_t errlen)
{
	if (n == 2)
		return cli_error(ARGS_USAGE, err, errlen, "unexpected argument '%s': a unix: socket has "
		    "no port", args[1]);
	if ((a->host = strdup(args[0])) == NULL)
		return cli_error(ARGS_FAIL, err, errlen, "out of memory");
	return ARGS_RUN;
}

/* The server: HOST [PORT], or HOST:PORT and [IPv6]:PORT in one argument. */
static enum args_result
args_target(struct client_args *a, int n, char **args, char *err, size_t errlen)
{
	if (n > 2)
		return cli_error(ARGS_USAGE, err, errlen, "unexpected argument '%s' (see mpecho --help)",
		    args[2]);
	if (n >= 1 && strncmp(args[0], "unix:", 5) == 0)
		return args_unix(a, n, args, err, errlen);
	if (n >= 1 && net_parse_target(args[0], &a->host, &a->port) < 0)
		return cli_error(errno == EINVAL ? ARGS_USAGE : ARGS_FAIL, err, errlen,
		    "invalid server '%s': %s", args[0], errno == EINVAL ?
		    "expected HOST, HOST:PORT or [IPv6]:PORT" : strerror(errno));
	if (n == 2 && a->port != NULL)
		return cli_error(ARGS_USAGE, err, errlen, "two ports: '%s' has one, and '%s' follows",
		    args[0], args[1]);
	if (n == 2)
		a->port = strdup(args[1]);
	if (a->host == NULL)
		a->host = strdup("127.0.0.1");
	if (a->port == NULL)
		a->port = strdup(MPECHO_DEFAULT_PORT);
	if (a->host == NULL || a->port == NULL)
		return cli_error(ARGS_FAIL, err, errlen, "out of memory");
	/* a client cannot reach port 0: the number must be 1-65535 */
	if (net_check_port(a->port) < 0 || strspn(a->port, "0") == strlen(a->port))
		return cli_error(ARGS_USAGE, err, errlen, "invalid port '%s': expected a number from 1 "
		    "to 65535 or a service name", a->port);
	return ARGS_RUN;
}

/* -s ADDR: a numeric address, no lookup; its port stays 0 (the kernel picks one). */
static enum args_result
args_source(struct client_args *a, const char *text, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;

	if (getaddrinfo(text, "0", &hints, &res) != 0)
		return cli_error(ARGS_USAGE, err, errlen, "invalid source address '%s' for -s: expected "
		    "an IPv4 or IPv6 address", text);
	memcpy(&a->source, res->ai_addr, res->ai_addrlen);
	a->source_len = res->ai_addrlen;
	a->source_name = text;
	freeaddrinfo(res);
	return ARGS_RUN;
}

/* -O LIST: socket options, added to those of an earlier -O. */
static enum args_result
args_sockopts(struct client_args *a, const char *text, char *err, size_t errlen)
{
	char why[256];

	if (sockopt_parse_list(text, &a->so, why, sizeof(why)) < 0)
		return cli_error(ARGS_USAGE, err, errlen, "-O: %s", why);
	return ARGS_RUN;
}

/* One option getopt returned. */
static enum args_result
args_apply(struct client_args *a, int c, char **argv, char *err, size_t errlen)
{
	long secs;

	if (c == '4' || c == '6') {
		if (a->family != AF_UNSPEC && a->family != (c == '4' ? AF_INET : AF_INET6))
			return cli_error(ARGS_USAGE, err, errlen, "options -4 and -6 exclude each other");
		a->family = c == '4' ? AF_INET : AF_INET6;
	} else if (c == 'b' || c == 't' || c == 'k' || c == 'u') {
		*(c == 'b' ? &a->banner : c == 't' ? &a->tls : c == 'k' ? &a->insecure : &a->udp) = true;
	} else if (c == 'v' || c == 'z') {
		*(c == 'v' ? &a->verbose : &a->zero) = true;
	} else if (c == 's') {
		return args_source(a, optarg, err, errlen);
	} else if (c == 'C') {
		a->ca = optarg;
	} else if (c == 'O') {
		return args_sockopts(a, optarg, err, errlen);
	} else if (c == 'w') {
		if (number_parse(optarg, 1, 86400, &secs) < 0)
			return cli_error(ARGS_USAGE, err, errlen, "invalid value '%s' for -w: expected "
			    "seconds from 1 to 86400", optarg);
		a->timeout_ms = (int)secs * 1000;
	} else if (c == 'h' || c == 'V') {
		return c == 'h' ? ARGS_HELP : ARGS_VERSION;
	} else {
		char said[256];

		return cli_error(ARGS_USAGE, err, errlen, "%s (see mpecho --help)",
		    cli_complaint(c, argv, args_long, said, sizeof(said)));
	}
	return ARGS_RUN;
}

/* -4 or -6 with an address of the other family, or with a unix: socket, cannot take effect. */
static enum args_result
args_check_family(const struct client_args *a, char *err, size_t errlen)
{
	unsigned char buf[sizeof(struct in6_addr)];
	int other = a->family == AF_INET ? AF_INET6 : AF_INET;

	if (a->family == AF_UNSPEC)
		return ARGS_RUN;
	if (a->port == NULL)
		return cli_error(ARGS_USAGE, err, errlen, "-%c cannot take effect: a unix: socket has no "
		    "IP version", a->family == AF_INET ? '4' : '6');
	if (inet_pton(other, a->host, buf) == 1)
		return cli_error(ARGS_USAGE, err, errlen, "-%c cannot take effect: %s is an IPv%c address",
		    a->family == AF_INET ? '4' : '6', a->host, other == AF_INET ? '4' : '6');
	return ARGS_RUN;
}

/*
 * -s against the server and -4/-6: a unix: socket has no source address, and
 * an address of one IP version cannot reach the other. Once it fits, -s
 * chooses the version of the server's addresses tried.
 */
static enum args_result
args_check_source(struct client_args *a, char *err, size_t errlen)
{
	unsigned char buf[sizeof(struct in6_addr)];
	int family = a->source.ss_family;
	char v = family == AF_INET ? '4' : '6', other = family == AF_INET ? '6' : '4';

	if (a->source_len == 0)
		return ARGS_RUN;
	if (a->port == NULL)
		return cli_error(ARGS_USAGE, err, errlen, "-s cannot take effect: a unix: socket has no "
		    "source address");
	if (a->family != AF_UNSPEC && a->family != family)
		return cli_error(ARGS_USAGE, err, errlen, "-s %s cannot take effect with -%c: it is an "
		    "IPv%c address", a->source_name, other, v);
	if (inet_pton(family == AF_INET ? AF_INET6 : AF_INET, a->host, buf) == 1)
		return cli_error(ARGS_USAGE, err, errlen, "-s %s cannot take effect: it is an IPv%c "
		    "address, and %s is an IPv%c address", a->source_name, v, a->host, other);
	a->family = family;
	return ARGS_RUN;
}

/*
 * -O's options must take effect: none on a unix: socket, the UDP ones with -u;
 * fastopen sends its SYN with the first bytes, and -z sends none.
 */
static enum args_result
args_check_sockopts(const struct client_args *a, char *err, size_t errlen)
{
	char why[256];

	if (!sockopt_any(&a->so))
		return ARGS_RUN;
	if (a->port == NULL)
		return cli_error(ARGS_USAGE, err, errlen, "-O cannot take effect: a unix: socket takes no "
		    "socket options");
	if (a->zero && (a->so.set & (1u << SOCKOPT_FASTOPEN)))
		return cli_error(ARGS_USAGE, err, errlen, "-O fastopen cannot take effect with -z: its SYN "
		    "goes with the first bytes, and -z sends none");
	if (sockopt_check(&a->so, a->udp ? SOCKOPT_AT_CLIENT_UDP : SOCKOPT_AT_CLIENT, why,
	    sizeof(why)) < 0)
		return cli_error(ARGS_USAGE, err, errlen, "-O: %s", why);
	return ARGS_RUN;
}

/* What only the whole command line tells. */
static enum args_result
args_check(struct client_args *a, char *err, size_t errlen)
{
	const char *why = cli_tls_check(a->tls, a->ca, a->insecure, a->port == NULL);

	if (why != NULL)
		return cli_error(ARGS_USAGE, err, errlen, "%s", why);
	if (a->udp && (a->port == NULL || a->tls || a->banner))
		return cli_error(ARGS_USAGE, err, errlen, "-u cannot go with %s", a->port == NULL ?
		    "a unix: socket" : a->tls ? "--tls" : "--banner");
	if (a->zero && (a->udp || a->banner))
		return cli_error(ARGS_USAGE, err, errlen, "-z cannot go with %s: it connects and sends "
		    "nothing", a->udp ? "-u" : "--banner");
	return args_check_sockopts(a, err, errlen) != ARGS_RUN ? ARGS_USAGE :
	    args_check_family(a, err, errlen);
}

enum args_result
args_parse(struct client_args *a, int argc, char **argv, char *err, size_t errlen)
{
	enum args_result r;
	int c;

	*a = (struct client_args){ .family = AF_UNSPEC, .timeout_ms = -1 };
	opterr = 0;
	optind = 0;	/* getopt's whole reset (see cli.h) */
	while ((c = getopt_long(argc, argv, ":46O:s:uvw:zhV", args_long, NULL)) != -1)
		if ((r = args_apply(a, c, argv, err, errlen)) != ARGS_RUN)
			return r;
	if ((r = args_target(a, argc - optind, argv + optind, err, errlen)) != ARGS_RUN ||
	    (r = args_check(a, err, errlen)) != ARGS_RUN)
		return r;
	return args_check_source(a, err, errlen);
}

void
args_free(struct client_args *a)
{
	free(a->host);
	free(a->port);
	a->host = a->port = NULL;
}
