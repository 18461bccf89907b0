/* cli: getopt's complaints as one clear line, the same in the three programs; the TLS options. */
#ifndef MPECHO_CLI_H
#define MPECHO_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * After getopt_long() returned ':' (a value is missing; the option string
 * starts with ':') or '?' (anything else wrong), the message that names the
 * option as typed: "option '-c' needs a value", "option '--quiet' takes no
 * value", "unknown option '--bogus'". Returns buf.
 * Each parser starts with optind = 0, glibc's whole reset: with optind = 1 a
 * parse went on inside a cluster of short options the last one had left half
 * read ("-Vc5" stops after V; the next parse took c5 from the old argv).
 */
const char *cli_complaint(int c, char **argv, const struct option *longopts, char *buf, size_t len);

/*
 * The two clients' --tls, --ca FILE and --insecure as given, and whether the
 * target is a unix: socket: NULL if they go together, else the one line that
 * says why not ("--ca is for TLS: add --tls").
 */
const char *cli_tls_check(bool tls, const char *ca, bool insecure, bool unix_target);

/* A one-line message into err (cli_one_line()); returns status, for "return cli_error(STATUS, ...)". */
int cli_error(int status, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * A message that echoes what was typed, kept one line: each control character
 * in it (a newline in an argument) becomes '?'. Returns msg.
 */
char *cli_one_line(char *msg);

#endif
