/*
 * upgrade: unit tests of the upgrade conversation's lines (upgrade_hello.c):
 * written, read, refused; and of the pidfile's names across an upgrade.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"
#include "unit.h"
#include "upgrade_hello.h"

static enum upgrade_hello_kind
hello_kind(const char *line, struct upgrade_hello *h)
{
	upgrade_hello_parse(line, strlen(line), h);
	return h->kind;
}

static void
test_upgrade_hello_read(void)
{
	struct upgrade_hello h;

	CHECK(hello_kind("mpechod-upgrade 1\n", &h) == UPGRADE_OFFER && h.nextra == 0);
	CHECK(hello_kind("mpechod-upgrade 2 metrics agent\n", &h) == UPGRADE_OFFER && h.nextra == 2 &&
	    strcmp(h.extra[0], "metrics") == 0 && strcmp(h.extra[1], "agent") == 0);
	CHECK(hello_kind("mpechod-upgrade 2\n", &h) == UPGRADE_OFFER && h.nextra == 0);
	CHECK(hello_kind("mpechod-upgrade busy 4242\n", &h) == UPGRADE_BUSY && h.holder == 4242);
	CHECK(hello_kind("mpechod-upgrade stopping\n", &h) == UPGRADE_STOPPING && h.holder == 0);
	CHECK(hello_kind("mpechod-upgrade timeout\n", &h) == UPGRADE_TIMEOUT);
	/* Anything else is no line of ours. */
	CHECK(hello_kind("mpechod-upgrade 1", &h) == UPGRADE_BAD);			/* no LF */
	CHECK(hello_kind("mpechod-upgrade 1\n\n", &h) == UPGRADE_BAD);		/* two lines */
	CHECK(hello_kind("mpechod-upgrade 3\n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("mpechod-upgrade 2  metrics\n", &h) == UPGRADE_BAD);	/* two spaces */
	CHECK(hello_kind("mpechod-upgrade 2 metrics \n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("mpechod-upgrade 2 Metrics\n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("mpechod-upgrade 2 a b c d e\n", &h) == UPGRADE_BAD);	/* 5 endpoints */
	CHECK(hello_kind("mpechod-upgrade 2 abcdefghijklmnop\n", &h) == UPGRADE_BAD);	/* 16 letters */
	CHECK(hello_kind("mpechod-upgrade 2metrics\n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("mpechod-upgrade 2 metrics Agent\n", &h) == UPGRADE_BAD && h.nextra == 0);
	upgrade_hello_parse("mpechod-upgrade 2 metrics a\0ent\n", 32, &h);	/* found by the fuzzer */
	CHECK(h.kind == UPGRADE_BAD && h.nextra == 0);
	CHECK(hello_kind("mpechod-upgrade busy 0\n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("mpechod-upgrade busy 042\n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("mpechod-upgrade busy 2147483648\n", &h) == UPGRADE_BAD && h.holder == 0);
	CHECK(hello_kind("mpechod-upgrade busy\n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("mpechod-upgrade \n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("READY\n", &h) == UPGRADE_BAD);
	CHECK(hello_kind("", &h) == UPGRADE_BAD);
}

static void
test_upgrade_hello_write(void)
{
	const char *both[] = { "metrics", "agent" }, *bad[] = { "metrics", "no-dash" };
	const char *five[] = { "a", "b", "c", "d", "e" };
	struct upgrade_hello h;
	char line[UPGRADE_HELLO_MAX + 1];

	CHECK(upgrade_hello_offer(line, sizeof(line), NULL, 0) == 18 &&
	    strcmp(line, "mpechod-upgrade 1\n") == 0);	/* listeners alone: what older servers read */
	CHECK(upgrade_hello_offer(line, sizeof(line), both, 2) == 32 &&
	    strcmp(line, "mpechod-upgrade 2 metrics agent\n") == 0);
	upgrade_hello_parse(line, strlen(line), &h);
	CHECK(h.kind == UPGRADE_OFFER && h.nextra == 2 && strcmp(h.extra[1], "agent") == 0);
	CHECK(upgrade_hello_offer(line, sizeof(line), bad, 2) == -1);
	CHECK(upgrade_hello_offer(line, sizeof(line), five, 5) == -1);
	CHECK(upgrade_hello_offer(line, 20, both, 2) == -1);		/* does not fit */
	CHECK(upgrade_hello_offer(line, 18, NULL, 0) == -1);
	CHECK(upgrade_hello_offer(line, 19, NULL, 0) == 18);
}

/*
 * A successor's pidfile, renamed over by its predecessor giving the upgrade up
 * (NAME.old back to NAME): at the successor's exit, the predecessor's file stays.
 */
static void
test_upgrade_pidfile(void)
{
	char dir[] = "/tmp/mpecho-unit-XXXXXX", path[64], old[80];
	struct pidfile pf;
	pid_t holder;
	int fd;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/p.pid", dir);
	snprintf(old, sizeof(old), "%s.old", path);
	CHECK(pidfile_open(path, &pf, &holder) == 0 && pidfile_write(&pf, 111) == 0);
	fd = open(old, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0 && write(fd, "222\n", 4) == 4 && rename(old, path) == 0);
	pidfile_remove(&pf);
	CHECK(access(path, F_OK) == 0);			/* not ours any more: left alone */
	close(fd);
	CHECK(pidfile_open(path, &pf, &holder) == 0);	/* ours: removed */
	pidfile_remove(&pf);
	CHECK(access(path, F_OK) < 0);
	rmdir(dir);
}

void
unit_upgrade(void)
{
	test_upgrade_hello_read();
	test_upgrade_hello_write();
	test_upgrade_pidfile();
}
