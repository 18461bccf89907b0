/* daemon: detaching from the terminal, with readiness reported to the foreground process. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "mpecho.h"

/* In the foreground: wait for the daemon's word, then leave with the matching status. */
static void
foreground_wait(int fd, pid_t child)
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
	log_warnx("%s", msg);	/* in the log's format, and into the log too */
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
daemon_start(void)
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
		foreground_wait(p[0], pid);
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
