/* pidfile: a locked file with the supervisor's pid. */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A file someone else made (say in /tmp, sticky: they keep it) could be
 * rewritten by them to name any process, init included, for whoever runs
 * kill $(cat pidfile). Only a regular file of our own user is taken.
 */
static bool
pidfile_not_ours(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid();
}

int
pidfile_open(const char *path, struct pidfile *pf, pid_t *holder)
{
	char buf[32];
	ssize_t n;
	int saved;

	pf->fd = -1;
	pf->path = NULL;
	*holder = 0;
	pf->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (pf->fd < 0)
		return -1;
	if (pidfile_not_ours(pf->fd)) {
		close(pf->fd);
		pf->fd = -1;
		errno = EPERM;
		return -1;
	}
	if (flock(pf->fd, LOCK_EX | LOCK_NB) < 0) {
		saved = errno;
		n = pread(pf->fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			*holder = (pid_t)strtol(buf, NULL, 10);
		}
		close(pf->fd);
		pf->fd = -1;
		errno = saved;
		return -1;
	}
	if ((pf->path = strdup(path)) == NULL) {
		close(pf->fd);
		pf->fd = -1;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
pidfile_write(struct pidfile *pf, pid_t pid)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);

	if (ftruncate(pf->fd, 0) < 0 || pwrite(pf->fd, buf, (size_t)len, 0) != len)
		return -1;
	return 0;
}

/* Whether path still names the file open on fd (a predecessor may have renamed its own over it). */
static bool
pidfile_still_ours(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void
pidfile_remove(struct pidfile *pf)
{
	if (pf->fd >= 0 && pf->path != NULL && pidfile_still_ours(pf->fd, pf->path))
		unlink(pf->path);
	if (pf->fd >= 0)
		close(pf->fd);
	pf->fd = -1;
	free(pf->path);
	pf->path = NULL;
}

int
pidfile_rename(struct pidfile *pf, const char *path)
{
	char *copy = strdup(path);

	if (copy == NULL || rename(pf->path, path) < 0) {
		free(copy);
		return -1;
	}
	free(pf->path);
	pf->path = copy;
	return 0;
}
