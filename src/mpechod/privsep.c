/* privsep: the root part that stays when the supervisor becomes the -u user, and its operations. */
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "listener.h"
#include "log.h"
#include "orphan.h"
#include "pidfile.h"
#include "privs.h"
#include "rules.h"
#include "sockfile.h"
#include "tls_server.h"

/* The answer to one request: rc as privsep_run() returns it, and errno when it is -1. */
struct privsep_reply {
	int rc;
	int err;
};

static bool
privsep_opens(enum privsep_op op)
{
	return op == PRIVSEP_LOG || op == PRIVSEP_CERT || op == PRIVSEP_KEY || op == PRIVSEP_RULES;
}

/* The pidfile's name goes to an upgrade's successor (NAME.old), or comes back. 0 or -1 with errno. */
static int
privsep_pidfile(struct pidfile *pf, bool to_old)
{
	char path[4096];
	size_t len;

	if (pf == NULL || pf->path == NULL)
		return 0;
	len = strlen(pf->path);
	if (to_old)
		snprintf(path, sizeof(path), "%s.old", pf->path);
	else if (len > 4)
		snprintf(path, sizeof(path), "%.*s", (int)(len - 4), pf->path);
	else
		return 0;
	return pidfile_rename(pf, path);
}

/*
 * A TLS file, for tls_server.c to check and read, or the rules file, for
 * rules.c (each refuses what is not a regular file).
 */
static int
privsep_open_file(const char *path, bool rules)
{
	if (path == NULL) {
		errno = ENOENT;
		return -1;
	}
	return rules ? rules_open(path) : tls_server_open_file(path);
}

int
privsep_tls_open(void *ps, bool key)
{
	return privsep_run(ps, key ? PRIVSEP_KEY : PRIVSEP_CERT);
}

/* The operation itself, in the process that has the power for it. */
static int
privsep_local(struct privsep *ps, enum privsep_op op)
{
	switch (op) {
	case PRIVSEP_LOG:
		return log_file_again();
	case PRIVSEP_CERT:
		return privsep_open_file(ps->cert, false);
	case PRIVSEP_KEY:
		return privsep_open_file(ps->key, false);
	case PRIVSEP_RULES:
		return privsep_open_file(ps->rules, true);
	case PRIVSEP_PIDFILE_OLD:
	case PRIVSEP_PIDFILE_BACK:
		return privsep_pidfile(ps->pidfile, op == PRIVSEP_PIDFILE_OLD);
	case PRIVSEP_SOCKET_FILES:
		listeners_remove_files(ps->ls);
		return 0;
	case PRIVSEP_END:
		if (ps->upgrade_path != NULL)	/* a successor's own has replaced it, if any */
			sockfile_remove(ps->upgrade_path, ps->upgrade_file);
		if (ps->pidfile != NULL)
			pidfile_remove(ps->pidfile);
		return 0;
	case PRIVSEP_OPS:
		break;
	}
	errno = EINVAL;
	return -1;
}

/* Send the reply, with the descriptor fd when rc is one. 0 or -1. */
static int
privsep_send(int sock, int rc, int err, bool with_fd)
{
	struct privsep_reply r = { rc, err };
	struct iovec iov = { &r, sizeof(r) };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (with_fd) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &rc, sizeof(int));
	}
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/*
 * The privileged process keeps only its line to the supervisor and the
 * pidfile (whose lock it then shares): no listener, no client, no endpoint.
 * Standard input and output become /dev/null; standard error too when it is
 * a socket (-i, inetd's wait mode, hands the listener over as all three).
 */
static void
privsep_keep_only(int sock, int pidfile_fd)
{
	int keep[2] = { sock, pidfile_fd }, null = open("/dev/null", O_RDWR);
	struct stat st;

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (fstat(STDERR_FILENO, &st) == 0 && S_ISSOCK(st.st_mode))
			dup2(null, STDERR_FILENO);
	}	/* null itself is closed with the rest */
	child_close_except(keep, 2);
}

/* The privileged process: one request at a time, until the supervisor ends it or goes away. */
static void __attribute__((noreturn))
privsep_serve(struct privsep *ps, int sock, pid_t supervisor)
{
	int op, rc;
	ssize_t n;

	orphan_watch(supervisor, SIGKILL);	/* no helper outlives the supervisor */
	privsep_keep_only(sock, ps->pidfile != NULL ? ps->pidfile->fd : -1);
	ps->fd = -1;	/* its operations run here */
	privsep_send(sock, 0, 0, false);	/* set up: the supervisor goes on */
	for (;;) {
		n = recv(sock, &op, sizeof(op), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);	/* the supervisor is gone */
		if (n != sizeof(op) || op < 0 || op >= PRIVSEP_OPS) {
			privsep_send(sock, -1, EINVAL, false);
			continue;
		}
		errno = 0;
		rc = privsep_local(ps, (enum privsep_op)op);
		privsep_send(sock, rc, errno, rc >= 0 && privsep_opens((enum privsep_op)op));
		if (rc >= 0 && privsep_opens((enum privsep_op)op))
			close(rc);
		if (op == PRIVSEP_END)
			_exit(0);
	}
}

/* The answer, and the descriptor that came with it (-1: none). 0, or -1 with errno. */
static int
privsep_receive(int sock, struct privsep_reply *r, int *fd)
{
	struct iovec iov = { r, sizeof(*r) };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
	    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (n != sizeof(*r)) {
		if (*fd >= 0)
			close(*fd);
		errno = n == 0 ? EPIPE : EPROTO;	/* 0: the privileged process is gone */
		return -1;
	}
	return 0;
}

int
privsep_start(struct privsep *ps, const struct privs *user)
{
	pid_t supervisor = getpid(), pid;
	struct privsep_reply hello;
	int sp[2], fd;

	if (user == NULL || geteuid() != 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		close(sp[0]);
		privsep_serve(ps, sp[1], supervisor);
	}
	close(sp[1]);
	ps->fd = sp[0];
	ps->pid = pid;
	/* its hello: it holds nothing but its line and the pidfile by the time "ready" is said */
	if (privsep_receive(ps->fd, &hello, &fd) < 0)
		return -1;
	if (fd >= 0)
		close(fd);
	return privs_drop(user);
}

bool
privsep_dropped(const struct privsep *ps)
{
	return ps->fd >= 0;
}

int
privsep_run(struct privsep *ps, enum privsep_op op)
{
	struct privsep_reply r;
	int o = (int)op, fd;

	if (ps->fd < 0)
		return privsep_local(ps, op);
	while (send(ps->fd, &o, sizeof(o), MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	if (privsep_receive(ps->fd, &r, &fd) < 0)
		return -1;
	if (r.rc < 0) {
		if (fd >= 0)
			close(fd);
		errno = r.err;
		return r.rc;
	}
	if (!privsep_opens(op))
		return 0;
	if (fd < 0)
		errno = EPROTO;
	return fd;
}

