/*
 * race_shim: an attacker who wins a race, for test_paths.py. Preloaded into
 * mpechod (LD_PRELOAD), it acts once, at the exact moment a real attacker
 * would have to hit, on the Unix socket path RACE_PATH:
 *   RACE_AT=connect  before the first connect() to it, the directory RACE_DIR
 *                    becomes a link to RACE_TARGET (the stale-socket check)
 *   RACE_AT=bind     after the bind() to it, the socket file becomes a link
 *                    to RACE_TARGET (its mode and owner set next)
 *   RACE_AT=chmod    at a chmod() or fchmodat() of it, before it acts, the
 *                    socket file becomes a link to RACE_TARGET
 * and writes RACE_DONE, so that the test knows the race was run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int done;

/* Whether name (a whole path, or the last part of one under a directory descriptor) is RACE_PATH's. */
static int
race_path(const char *name, int whole)
{
	const char *path = getenv("RACE_PATH"), *last;

	if (path == NULL)
		return 0;
	last = strrchr(path, '/');
	return strcmp(name, whole || last == NULL ? path : last + 1) == 0;
}

static int
race_now(const char *at)
{
	const char *want = getenv("RACE_AT");

	return !done && want != NULL && strcmp(want, at) == 0;
}

static int
race_ours(const struct sockaddr *sa, const char *at)
{
	return race_now(at) && sa->sa_family == AF_UNIX &&
	    race_path(((const struct sockaddr_un *)sa)->sun_path, 1);
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

int
chmod(const char *path, mode_t mode)
{
	int (*real)(const char *, mode_t) = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "chmod");

	if (race_now("chmod") && race_path(path, 1))
		race_swap(getenv("RACE_PATH"));
	return real(path, mode);
}

int
fchmodat(int dir, const char *path, mode_t mode, int flags)
{
	int (*real)(int, const char *, mode_t, int) =
	    (int (*)(int, const char *, mode_t, int))dlsym(RTLD_NEXT, "fchmodat");

	if (race_now("chmod") && race_path(path, path[0] == '/'))
		race_swap(getenv("RACE_PATH"));
	return real(dir, path, mode, flags);
}
