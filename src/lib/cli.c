/* cli: naming what was wrong on a command line, as the person typed it; the clients' TLS options. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

char *
cli_one_line(char *msg)
{
	char *p;

	for (p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	return msg;
}

const char *
cli_complaint(int c, char **argv, const struct option *longopts, char *buf, size_t len)
{
	const char *arg = argv[optind - 1];
	const struct option *o;
	size_t n;

	if (strncmp(arg, "--", 2) != 0) {
		snprintf(buf, len, c == ':' ? "option '-%c' needs a value" : "unknown option '-%c'", optopt);
		return buf;
	}
	n = strcspn(arg, "=");
	if (c == ':') {
		snprintf(buf, len, "option '%.*s' needs a value", (int)n, arg);
		return buf;
	}
	for (o = longopts; o->name != NULL; o++)
		if (strlen(o->name) == n - 2 && strncmp(o->name, arg + 2, n - 2) == 0)
			break;
	if (o->name != NULL && arg[n] == '=' && o->has_arg == no_argument)
		snprintf(buf, len, "option '%.*s' takes no value", (int)n, arg);
	else
		snprintf(buf, len, "unknown option '%.*s'", (int)n, arg);
	return buf;
}

const char *
cli_tls_check(bool tls, const char *ca, bool insecure, bool unix_target)
{
	if ((ca != NULL || insecure) && !tls)
		return ca != NULL ? "--ca is for TLS: add --tls" : "--insecure is for TLS: add --tls";
	if (ca != NULL && insecure)
		return "--ca and --insecure exclude each other";
	if (tls && unix_target)
		return "--tls is for TCP servers, not unix: sockets";
	return NULL;
}

int
cli_error(int status, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	cli_one_line(err);	/* it may echo what was typed */
	return status;
}
