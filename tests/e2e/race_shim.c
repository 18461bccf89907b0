/*
 * race_shim: an attacker who wins a race, for test_paths.py. Preloaded into
 * mpechod (LD_PRELOAD), it acts once, at the exact moment a real attacker
 * would have to hit, on the Unix socket path RACE_PATH:
 *   RACE_AT=connect  before the first connect() to it, the directory RACE_DIR
 *                    becomes a link to RACE_TARGET (the stale-socket check)
 *   RACE_AT=bind     after the bind() to it, the socket file becomes a link
 *                    to RACE_TARGET (its mode and owner set next)
 * and writes RACE_DONE, so that the test knows the race was run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int done;

static int
race_ours(const struct sockaddr *sa, const char *at)
{
	const char *want = getenv("RACE_AT"), *path = getenv("RACE_PATH");

	return !done && want != NULL && path != NULL && strcmp(want, at) == 0 &&
	    sa->sa_family == AF_UNIX && strcmp(((const struct sockaddr_un *)sa)->sun_path, path) == 0;
}

/* Move what is at from aside, put a link to RACE_TARGET there, and say so in RACE_DONE. */
static void
race_swap(const char *from)
{
	char aside[4200];
	int fd;

	done = 1;
	snprintf(aside, sizeof(aside), "%s.moved", from);
	if (rename(from, aside) == 0 && symlink(getenv("RACE_TARGET"), from) == 0 &&
	    (fd = open(getenv("RACE_DONE"), O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0)
		close(fd);
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) =
	    (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");

	if (race_ours(sa, "connect"))
		race_swap(getenv("RACE_DIR"));
	return real(fd, sa, len);
}

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) =
	    (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
	int rc = real(fd, sa, len);

	if (rc == 0 && race_ours(sa, "bind"))
		race_swap(getenv("RACE_PATH"));
	return rc;
}
