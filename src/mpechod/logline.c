/* logline: the log file the supervisor opened again, handed down to its workers and UDP process. */
#include "logline.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static int logline_fds[2] = { -1, -1 };	/* [0] the supervisor sends on, [1] children peek at */

/* One descriptor's room of control data. */
union logline_ctl {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int))];
};

int
logline_open(void)
{
	if (logline_fds[0] >= 0)
		return 0;
	return socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, logline_fds);
}

int
logline_child_fd(void)
{
	return logline_fds[1];
}

/*
 * The descriptor the message at the head of the line carries: taken off the
 * line, or a copy of it left there (flags MSG_PEEK). -1 with errno: EAGAIN
 * when the line is empty, EPROTO for a message that carried none.
 */
static int
logline_receive(int flags)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union logline_ctl ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
	    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	int fd = -1;

	while (recvmsg(logline_fds[1], &msg, flags | MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
		if (errno != EINTR)
			return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0)
		errno = EPROTO;
	return fd;
}

int
logline_publish(int fd)
{
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	union logline_ctl ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
	    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	int old;

	if (logline_fds[0] < 0 || fd < 0)
		return 0;
	/* The file published before goes first: a reader peeks at the head of the line. */
	while ((old = logline_receive(0)) >= 0 || errno == EPROTO)
		if (old >= 0)
			close(old);
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(logline_fds[0], &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
logline_take(void)
{
	int fd;

	if (logline_fds[1] < 0)
		return 0;
	if ((fd = logline_receive(MSG_PEEK)) < 0)
		return errno == EAGAIN ? 0 : -1;
	return log_reopen_fd(fd);
}

void
logline_reopen(void)
{
	if (logline_take() < 0)
		log_msg(LOG_LVL_ERROR, "event=reopen signal=HUP pid=%ld error=%s", (long)getpid(),
		    log_qf("%s", log_strerror(errno)));
}

void
logline_close(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (logline_fds[i] >= 0)
			close(logline_fds[i]);
		logline_fds[i] = -1;
	}
}
