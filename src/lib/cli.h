/* cli: getopt's complaints as one clear line, the same in the three programs. */
#ifndef MPECHO_CLI_H
#define MPECHO_CLI_H

#include <getopt.h>
#include <stddef.h>

/*
 * After getopt_long() returned ':' (a value is missing; the option string
 * starts with ':') or '?' (anything else wrong), the message that names the
 * option as typed: "option '-c' needs a value", "option '--quiet' takes no
 * value", "unknown option '--bogus'". Returns buf.
 */
const char *cli_complaint(int c, char **argv, const struct option *longopts, char *buf, size_t len);

#endif
