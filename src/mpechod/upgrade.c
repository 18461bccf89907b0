/* upgrade: listening sockets handed to a successor over a Unix socket. */
#include "upgrade.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "listener_inherited.h"

#define UPGRADE_HELLO "mpechod-upgrade 1\n"

static int
upgrade_address(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

int
upgrade_listen(const char *path)
{
	struct sockaddr_un sun, tmp;
	char tmpname[sizeof(sun.sun_path) + 16];
	int fd, saved;

	if (upgrade_address(path, &sun) < 0 ||
	    snprintf(tmpname, sizeof(tmpname), "%s.%ld", path, (long)getpid()) >= (int)sizeof(tmp.sun_path) ||
	    upgrade_address(tmpname, &tmp) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	unlink(tmpname);
	if (bind(fd, (struct sockaddr *)&tmp, sizeof(tmp)) < 0 || chmod(tmpname, 0600) < 0 ||
	    listen(fd, 4) < 0 || rename(tmpname, path) < 0) {
		saved = errno;
		unlink(tmpname);
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
upgrade_offer(int conn, const struct listeners *ls)
{
	char cbuf[CMSG_SPACE(sizeof(int) * UPGRADE_MAX_FDS)];
	struct iovec iov = { .iov_base = UPGRADE_HELLO, .iov_len = strlen(UPGRADE_HELLO) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf };
	struct cmsghdr *cm;
	size_t i, n = ls->n < UPGRADE_MAX_FDS ? ls->n : UPGRADE_MAX_FDS;

	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	for (i = 0; i < n; i++)
		memcpy(CMSG_DATA(cm) + i * sizeof(int), &ls->v[i].fd, sizeof(int));
	return sendmsg(conn, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

pid_t
upgrade_peer_pid(int conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : -1;
}

/* Receive the hello and the descriptors; each becomes a listener. 0, or -1 with err. */
static int
upgrade_receive(int conn, struct listeners *ls, pid_t from, char *err, size_t errlen)
{
	char cbuf[CMSG_SPACE(sizeof(int) * UPGRADE_MAX_FDS)], hello[64], label[LISTENER_LABEL_MAX];
	struct iovec iov = { .iov_base = hello, .iov_len = sizeof(hello) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
	    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;
	size_t i, nfds;
	int fd;

	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	cm = CMSG_FIRSTHDR(&msg);
	if (n != (ssize_t)strlen(UPGRADE_HELLO) || memcmp(hello, UPGRADE_HELLO, (size_t)n) != 0 ||
	    cm == NULL || cm->cmsg_type != SCM_RIGHTS) {
		snprintf(err, errlen, "the server offering its listeners sent nothing usable");
		return -1;
	}
	nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	for (i = 0; i < nfds; i++) {
		memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
		snprintf(label, sizeof(label), "fd=%d upgrade-from=%ld", fd, (long)from);
		if (listener_inherited_take(ls, fd, label, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int
upgrade_take(const char *path, struct listeners *ls, int *conn, pid_t *from,
    char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	*conn = -1;
	if (upgrade_address(path, &sun) < 0 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "--upgrade-socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		if (errno == ENOENT || errno == ECONNREFUSED)
			return 0;	/* nobody offers: this is the first server */
		snprintf(err, errlen, "--upgrade-socket %s: %s", path, strerror(errno));
		return -1;
	}
	*from = upgrade_peer_pid(fd);
	if (upgrade_receive(fd, ls, *from, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	*conn = fd;
	return 1;
}

void
upgrade_ready(int conn)
{
	static const char ready[] = "READY\n";

	if (send(conn, ready, sizeof(ready) - 1, MSG_NOSIGNAL) < 0) {
		/* the old server is gone already: nothing to tell */
	}
	close(conn);
}
