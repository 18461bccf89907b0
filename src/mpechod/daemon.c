/* daemon: detaching from the terminal, readiness reported to the foreground, the pidfile. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "mpecho.h"

int
pidfile_open(const char *path, struct pidfile *pf, pid_t *holder)
{
	char buf[32];
	ssize_t n;
	int saved;

	pf->fd = -1;
	pf->path = NULL;
	*holder = 0;
	pf->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (pf->fd < 0)
		return -1;
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

void
pidfile_close_fd(struct pidfile *pf)
{
	if (pf->fd >= 0)
		close(pf->fd);
	pf->fd = -1;
}

void
pidfile_remove(struct pidfile *pf)
{
	if (pf->fd >= 0 && pf->path != NULL)
		unlink(pf->path);
	pidfile_close_fd(pf);
	free(pf->path);
	pf->path = NULL;
}

/* In the foreground: wait for the daemon's word, then leave with the matching status. */
static void
foreground_wait(const char *prog, int fd, pid_t child)
{
	char msg[512];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(msg) - 1 && (n = read(fd, msg + len, sizeof(msg) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	msg[len] = '\0';
	waitpid(child, NULL, 0);	/* the intermediate process exits at once */
	if (len == 1 && msg[0] == '\n')
		_exit(EXIT_OK);
	if (len == 0)
		snprintf(msg, sizeof(msg), "the daemon exited before it was ready");
	fprintf(stderr, "%s: %s\n", prog, msg);
	_exit(EXIT_FAIL);
}

/* Standard descriptors onto /dev/null, one by one: no descriptor is closed blindly. */
static int
stdio_to_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), i;

	if (fd < 0)
		return -1;
	for (i = 0; i <= 2; i++)
		if (fd != i && dup2(fd, i) < 0)
			return -1;
	if (fd > 2)
		close(fd);
	return 0;
}

int
daemon_start(const char *prog)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		foreground_wait(prog, p[0], pid);
	}
	close(p[0]);
	if (setsid() < 0)
		_exit(EXIT_FAIL);
	pid = fork();
	if (pid < 0)
		_exit(EXIT_FAIL);
	if (pid > 0)
		_exit(EXIT_OK);
	if (chdir("/") < 0 || stdio_to_null() < 0) {
		daemon_ready(p[1], strerror(errno));
		_exit(EXIT_FAIL);
	}
	umask(022);
	return p[1];
}

void
daemon_ready(int fd, const char *error)
{
	if (fd < 0)
		return;
	if (error == NULL)
		io_write_all(fd, "\n", 1);
	else
		io_write_all(fd, error, strlen(error));
	close(fd);
}
