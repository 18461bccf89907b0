/* client: mpecho's command line, table by table: each option where it takes effect and where it cannot. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "unit.h"

/* argv after "mpecho"; error: words the usage error must hold, or NULL: it runs. */
struct args_case {
	const char *option;	/* "-4" or "--tls": what the case is about */
	const char *argv[8];
	const char *error;
};

static const struct args_case cases[] = {
	{ "-4", { "-4", "127.0.0.1" }, NULL },
	{ "-4", { "-4", "localhost", "7" }, NULL },
	{ "-4", { "-4", "[::1]:7" }, "-4 cannot take effect: ::1 is an IPv6 address" },
	{ "-4", { "-4", "unix:/x" }, "-4 cannot take effect: a unix: socket has no IP version" },
	{ "-4", { "-4", "-6", "localhost" }, "options -4 and -6 exclude each other" },
	{ "-6", { "-6", "::1" }, NULL },
	{ "-6", { "-6", "127.0.0.1:7" }, "-6 cannot take effect: 127.0.0.1 is an IPv4 address" },
	{ "-s", { "-s", "127.0.0.2", "localhost" }, NULL },
	{ "-s", { "-s", "::1", "-6", "[::1]:7" }, NULL },
	{ "-s", { "-s", "fe80::1%lo" }, "-s fe80::1%lo cannot take effect: it is an IPv6 address, and "
	    "127.0.0.1 is an IPv4 address" },
	{ "-s", { "-s", "localhost" }, "invalid source address 'localhost' for -s" },
	{ "-s", { "-s", "127.0.0.1", "-6", "localhost" }, "-s 127.0.0.1 cannot take effect with -6: it is an IPv4 "
	    "address" },
	{ "-s", { "-s", "127.0.0.1", "unix:/x" }, "-s cannot take effect: a unix: socket has no source "
	    "address" },
	{ "-v", { "-v", "-u" }, NULL },
	{ "-z", { "-z", "--tls" }, NULL },
	{ "-z", { "-z", "unix:/x" }, NULL },
	{ "-z", { "-z", "-u" }, "-z cannot go with -u: it connects and sends nothing" },
	{ "-z", { "-z", "--banner" }, "-z cannot go with --banner" },
	{ "-w", { "-w", "5" }, NULL },
	{ "-w", { "-w", "0" }, "invalid value '0' for -w" },
	{ "-w", { "-w", "1\n2" }, "invalid value '1?2' for -w" },	/* one line, whatever was typed */
	{ "(unknown)", { "-\n" }, "unknown option '-?'" },
	{ "--banner", { "--banner" }, NULL },
	{ "--banner", { "--banner", "-u" }, "-u cannot go with --banner" },
	{ "--tls", { "--tls", "localhost:7" }, NULL },
	{ "--tls", { "--tls", "unix:/x" }, "--tls is for TCP servers, not unix: sockets" },
	{ "--ca", { "--tls", "--ca", "/c" }, NULL },
	{ "--ca", { "--ca", "/c" }, "--ca is for TLS: add --tls" },
	{ "--ca", { "--tls", "--ca", "/c", "--insecure" }, "--ca and --insecure exclude each other" },
	{ "--insecure", { "--tls", "--insecure" }, NULL },
	{ "--insecure", { "--insecure" }, "--insecure is for TLS: add --tls" },
	{ "--udp", { "-u" }, NULL },
	{ "--udp", { "-u", "unix:/x" }, "-u cannot go with a unix: socket" },
	{ "--udp", { "-u", "--tls" }, "-u cannot go with --tls" },
	{ "--sockopt", { "-O", "keepalive=5:2:3,mark=7", "-O", "fastopen", "localhost:7" }, NULL },
	{ "--sockopt", { "-u", "-O", "rcvbuf=65536,tos=ef", "localhost:7" }, NULL },
	{ "--sockopt", { "-O", "mark=7", "-O", "mark=8" }, "-O: socket option mark is given twice" },
	{ "--sockopt", { "-O", "nodelay" }, "-O: unknown socket option 'nodelay'" },
	{ "--sockopt", { "-O", "mark=7", "unix:/x" }, "-O cannot take effect: a unix: socket takes no "
	    "socket options" },
	{ "--sockopt", { "-u", "-O", "keepalive" }, "-O: socket option keepalive cannot take effect "
	    "on a UDP client socket: it is a TCP option" },
	{ "--sockopt", { "-O", "fastopen=5" }, "QLEN is a listener's queue" },
	{ "--sockopt", { "-z", "-O", "fastopen" }, "-O fastopen cannot take effect with -z" },
	{ "--help", { "-h" }, NULL },
	{ "--version", { "-V" }, NULL },
	{ NULL, { NULL }, NULL }
};

static bool
args_case_holds(const struct args_case *c)
{
	char *argv[10] = { "mpecho" }, err[512] = "";
	struct client_args a;
	enum args_result r;
	int argc = 1;

	while (c->argv[argc - 1] != NULL) {
		memcpy(&argv[argc], &c->argv[argc - 1], sizeof(argv[0]));	/* getopt's argv is not const */
		argc++;
	}
	r = args_parse(&a, argc, argv, err, sizeof(err));
	args_free(&a);
	if (c->error == NULL ? r != ARGS_USAGE && r != ARGS_FAIL :
	    r == ARGS_USAGE && strstr(err, c->error) != NULL)
		return true;
	printf("case %s %s: %s\n", c->option, c->argv[0], r == ARGS_USAGE ? err : "it runs");
	return false;
}

/* Whether the table has a case that runs for this option. */
static bool
args_covered(const char *option)
{
	const struct args_case *c;

	for (c = cases; c->option != NULL; c++)
		if (strcmp(c->option, option) == 0 && c->error == NULL)
			return true;
	printf("no case for %s\n", option);
	return false;
}

void
unit_client(void)
{
	const struct option *o;
	const struct args_case *c;
	char name[32];

	for (o = args_long; o->name != NULL; o++) {
		snprintf(name, sizeof(name), "--%s", o->name);
		CHECK(args_covered(name));
	}
	CHECK(args_covered("-4") && args_covered("-6") && args_covered("-w"));
	CHECK(args_covered("-s") && args_covered("-v") && args_covered("-z"));
	for (c = cases; c->option != NULL; c++)
		CHECK(args_case_holds(c));
}
