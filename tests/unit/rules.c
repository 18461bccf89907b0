/* rules: the --rules file's parser, its checks, its reader, and the rules shared with workers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acl_shared.h"
#include "rules.h"
#include "unit.h"

/* Parse text; on an error, its line and whether its message holds want (NULL: it must parse). */
static bool
parses(const char *text, size_t len, int line, const char *want)
{
	struct rules r;
	struct rules_error err = { 0, "" };
	int rc = rules_parse(text, len, &r, &err);

	if (rc == 0) {
		rules_free(&r);
		if (want != NULL)
			printf("rules: %s: parsed, expected '%s'\n", text, want);
		return want == NULL;
	}
	if (want == NULL || err.line != line || strstr(err.what, want) == NULL) {
		printf("rules: %s: line %d: %s\n", text, err.line, err.what);
		return false;
	}
	return r.lines == NULL && r.acl.n == 0;	/* nothing left over on an error */
}

#define PARSES(text) parses(text, strlen(text), 0, NULL)
#define FAILS(text, line, want) parses(text, strlen(text), line, want)

static struct net_addr
ip(const char *text)
{
	struct net_addr a = { .family = AF_INET };

	if (inet_pton(AF_INET, text, a.bytes) != 1) {
		a.family = AF_INET6;
		inet_pton(AF_INET6, text, a.bytes);
	}
	return a;
}

static void
test_rules_syntax(void)
{
	struct rules r;
	struct rules_error err;
	const char *text = "# who may echo\n\nallow 10.0.0.0/8   # the lab\n\tdeny 10.9.0.0/16\r\n"
	    "allow 2001:db8::/32\ndeny 192.0.2.7";	/* no newline at the end */

	CHECK(rules_parse(text, strlen(text), &r, &err) == 0 && r.acl.n == 4 && r.acl.any_allow);
	CHECK(r.lines[0] == 3 && r.lines[1] == 4 && r.lines[2] == 5 && r.lines[3] == 6);
	CHECK(r.acl.rules[1].prefix == 16 && !r.acl.rules[1].allow && r.acl.rules[3].prefix == 32);
	CHECK(r.acl.rules[2].net.family == AF_INET6);
	rules_free(&r);
	CHECK(PARSES(""));
	CHECK(PARSES("\n\n# only a comment\n   \n"));
	CHECK(PARSES("allow ::ffff:10.0.0.0/104"));
	CHECK(FAILS("allow 10.0.0.0/8\nalow 1.2.3.4\n", 2, "'alow' is not a rule: expected allow or deny"));
	CHECK(FAILS("Allow 1.2.3.4", 1, "'Allow' is not a rule"));
	CHECK(FAILS("\n\nallow\n", 3, "allow needs an address or ADDRESS/PREFIX"));
	CHECK(FAILS("deny # nothing\n", 1, "deny needs an address"));
	CHECK(FAILS("allow 10.0.0.0/8 10.1.0.0/16", 1, "'10.1.0.0/16' after the address: one rule a line"));
	CHECK(FAILS("allow 10.0.0.300", 1, "'10.0.0.300' is not an address or ADDRESS/PREFIX"));
	CHECK(FAILS("allow 10.0.0.0/33", 1, "is not an address"));
	CHECK(FAILS("allow example.com", 1, "is not an address"));
	CHECK(FAILS("deny 10.1.2.3/\f8", 1, "'10.1.2.3/?8' has bits set past /8"));	/* found by fuzzing */
	CHECK(FAILS("deny 10.1.2.3/8", 1, "'10.1.2.3/8' has bits set past /8 (did you mean 10.0.0.0/8?)"));
	CHECK(FAILS("allow 1.2.3.4\nallow\t\x01\x7f", 2, "'?\?' is not an address"));	/* shown printable */
	CHECK(FAILS("allow 1111111111111111111111111111111111111111111111111111", 1,
	    "'1111111111111111111111111111111111111111...' is not"));	/* and cut short */
	CHECK(parses("allow 1.2.3.4\n\0", 15, 2, "a NUL byte"));
	CHECK(parses("allow 1.2.3.4\0", 14, 1, "a NUL byte"));
}

static void
test_rules_limits(void)
{
	size_t n = RULES_MAX + 1, i, len = 0;
	char *text = malloc(n * 24);
	struct rules r;
	struct rules_error err;

	if (text == NULL)
		return;
	for (i = 0; i < n; i++)	/* 10.0.0.0, 10.0.0.1 ... one host each */
		len += (size_t)sprintf(text + len, "deny 10.%zu.%zu.%zu\n", i >> 16, (i >> 8) & 255, i & 255);
	CHECK(rules_parse(text, len - 18, &r, &err) == 0 && r.acl.n == RULES_MAX);	/* the last line left out */
	rules_free(&r);
	CHECK(rules_parse(text, len, &r, &err) < 0 && err.line == RULES_MAX + 1 &&
	    strstr(err.what, "more than 10000 rules") != NULL);
	free(text);
}

/* Check file's rules beside the command line's (cmd: "+net" allows, "-net" denies). */
static bool
checks(const char *cmdline, const char *file, int line, const char *want)
{
	struct acl cmd = { NULL, 0, false };
	struct acl_rule rule;
	struct rules r;
	struct rules_error err = { 0, "" };
	char copy[128], *w, *save = NULL;
	bool ok;
	int rc;

	snprintf(copy, sizeof(copy), "%s", cmdline);
	for (w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		if (acl_parse(w + 1, w[0] == '+', &rule) != 0 || acl_add(&cmd, &rule) < 0)
			return false;
	if (rules_parse(file, strlen(file), &r, &err) < 0)
		return false;
	rc = rules_check(&cmd, &r, &err);
	ok = want == NULL ? rc == 0 : rc < 0 && err.line == line && strstr(err.what, want) != NULL;
	if (!ok)
		printf("rules check: %s | %s: %d line %d: %s\n", cmdline, file, rc, err.line, err.what);
	rules_free(&r);
	acl_free(&cmd);
	return ok;
}

static void
test_rules_check(void)
{
	CHECK(checks("", "allow 10.0.0.0/8\ndeny 10.9.0.0/16", 0, NULL));
	CHECK(checks("+10.0.0.0/8", "deny 10.9.0.0/16", 0, NULL));
	CHECK(checks("", "deny 10.0.0.0/8\n# an exception?\nallow 10.1.2.3", 3,
	    "allow 10.1.2.3/32 (line 3) cannot take effect: deny 10.0.0.0/8 (line 1) covers it (deny wins)"));
	CHECK(checks("", "allow 10.0.0.0/8\nallow 10.1.0.0/16", 2,
	    "allow 10.1.0.0/16 (line 2) cannot take effect: allow 10.0.0.0/8 (line 1) covers it"));
	CHECK(checks("-10.0.0.0/8", "allow 10.1.0.0/16", 1,
	    "allow 10.1.0.0/16 (line 1) cannot take effect: --deny 10.0.0.0/8 covers it (deny wins)"));
	CHECK(checks("+10.1.0.0/16", "\ndeny 10.0.0.0/8", 2,
	    "--allow 10.1.0.0/16 cannot take effect: deny 10.0.0.0/8 (line 2) covers it (deny wins)"));
	CHECK(checks("", "allow 10.0.0.0/8\ndeny 192.168.0.0/16", 2,
	    "deny 192.168.0.0/16 (line 2) cannot take effect: it is outside every allow rule"));
	CHECK(checks("-192.168.0.0/16", "allow 10.0.0.0/8", 0,
	    "--deny 192.168.0.0/16 cannot take effect: it is outside every allow rule"));
}

/* A file with these bytes and mode, opened as the server opens one; -1 if it cannot be made. */
static int
rules_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return rules_open(path);
}

static void
test_rules_read(void)
{
	char dir[] = "/tmp/mpecho-rules-XXXXXX", path[64], fifo[64], msg[512];
	struct acl none = { NULL, 0, false };
	struct rules r;
	struct rules_error err;
	int fd;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/rules", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	fd = rules_file(path, "allow 127.0.0.0/8\n", 0600);
	CHECK(fd >= 0 && rules_read(fd, &none, &r, &err) == 0 && r.acl.n == 1);
	rules_free(&r);
	fd = rules_file(path, "allow 127.0.0.0/8\ndeny 127.0.0.0/8 x\n", 0600);
	CHECK(fd >= 0 && rules_read(fd, &none, &r, &err) < 0 && err.line == 2);
	CHECK(strcmp(rules_describe(path, &err, msg, sizeof(msg)) + strlen(path),
	    ":2: 'x' after the address: one rule a line") == 0);
	CHECK(mkfifo(fifo, 0600) == 0);
	fd = rules_open(fifo);	/* O_NONBLOCK: a FIFO with no writer does not hold the server */
	CHECK(fd >= 0 && rules_read(fd, &none, &r, &err) < 0 && err.line == 0 &&
	    strcmp(err.what, "not a regular file") == 0);
	CHECK(strcmp(rules_describe(fifo, &err, msg, sizeof(msg)) + strlen(fifo), ": not a regular file") == 0);
	fd = rules_open(dir);
	CHECK(fd >= 0 && rules_read(fd, &none, &r, &err) < 0 && strcmp(err.what, "not a regular file") == 0);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
}

/*
 * In a child: the publisher's mapping is not there (msync() on it: ENOMEM),
 * and the view cannot be made writable. 0, or the number of failed checks.
 */
static int
acl_shared_out_of_reach(struct acl_shared *s, const struct acl_shared *ro)
{
	void *view = (void *)(uintptr_t)ro;
	long page = sysconf(_SC_PAGESIZE);
	int bad = 0;

	bad += !(msync(s, (size_t)page, MS_ASYNC) < 0 && errno == ENOMEM);
	bad += !(mprotect(view, (size_t)page, PROT_READ | PROT_WRITE) < 0 && errno == EACCES);
	return bad;
}

/*
 * A set published after a reader's fork reaches it; cap bounds what may be
 * published; a child reads it from a view it cannot write.
 */
static void
test_acl_shared(void)
{
	struct acl_shared *s = acl_shared_new(2);
	const struct acl_shared *ro = s != NULL ? acl_shared_view(s) : NULL;
	struct acl_view v = { .from = s };
	struct acl a = { NULL, 0, false }, big = { NULL, 0, false };
	struct acl_rule rule;
	struct net_addr lab = ip("10.1.2.3");
	int status = -1;
	pid_t pid;

	if (s == NULL)
		return;
	CHECK(acl_permits(acl_view_get(&v), &lab));	/* nothing published: no rule */
	CHECK(acl_parse("10.0.0.0/8", false, &rule) == 0 && acl_add(&a, &rule) == 0);
	CHECK(acl_shared_publish(s, &a) == 0 && !acl_permits(acl_view_get(&v), &lab));
	CHECK(acl_add(&big, &rule) == 0 && acl_add(&big, &rule) == 0 && acl_add(&big, &rule) == 0);
	CHECK(acl_shared_publish(s, &big) < 0 && errno == E2BIG && !acl_permits(acl_view_get(&v), &lab));
	fflush(stdout);
	if ((pid = fork()) == 0) {
		/* the child holds the old set until the parent publishes an empty one */
		struct acl_view cv = { .from = ro };
		int i;

		if (acl_shared_out_of_reach(s, ro) != 0)
			_exit(2);
		for (i = 0; i < 5000 && !acl_permits(acl_view_get(&cv), &lab); i++)
			usleep(1000);
		_exit(acl_permits(acl_view_get(&cv), &lab) ? 0 : 1);
	}
	acl_free(&a);
	CHECK(pid > 0 && acl_shared_publish(s, &a) == 0 && acl_permits(acl_view_get(&v), &lab));
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	acl_view_free(&v);
	acl_free(&big);
	acl_shared_free(s);
}

void
unit_rules(void)
{
	test_rules_syntax();
	test_rules_limits();
	test_rules_check();
	test_rules_read();
	test_acl_shared();
}
