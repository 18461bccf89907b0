/* upgrade: listening sockets handed to a successor over a Unix socket. */
#include "upgrade.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "listener_inherited.h"
#include "log.h"
#include "sockfile.h"

/* Both ends wait this long for the other at most (the old server may be stopped or stuck). */
static int
upgrade_deadline(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

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
upgrade_listen(const char *path, struct sockfile *sf)
{
	static const struct sockfile_perms owner_only = { .mode = 0600 };
	char tmpname[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd, saved;

	sf->set = false;
	if (snprintf(tmpname, sizeof(tmpname), "%s.%ld", path, (long)getpid()) >= (int)sizeof(tmpname)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (sockfile_clear(tmpname) < 0 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	if (sockfile_bind(fd, tmpname, &owner_only, sf) < 0 || listen(fd, 4) < 0 ||
	    sockfile_rename(tmpname, path, sf) < 0) {
		saved = errno;
		sockfile_remove(tmpname, sf);
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
upgrade_offer(int conn, const struct listeners *ls, const struct upgrade_extra *x, size_t n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * UPGRADE_MAX_FDS)], line[UPGRADE_HELLO_MAX + 1];
	struct iovec iov = { .iov_base = line };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf };
	const char *names[UPGRADE_EXTRAS];
	struct cmsghdr *cm;
	size_t i, nls = ls->n < UPGRADE_MAX_FDS - n ? ls->n : UPGRADE_MAX_FDS - n;
	int len;

	for (i = 0; i < n && i < UPGRADE_EXTRAS; i++)
		names[i] = x[i].name;
	if ((len = upgrade_hello_offer(line, sizeof(line), names, n)) < 0) {
		errno = EINVAL;
		return -1;
	}
	iov.iov_len = (size_t)len;
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (nls + n));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (nls + n));
	for (i = 0; i < nls + n; i++)	/* the listeners, then the endpoints the line names */
		memcpy(CMSG_DATA(cm) + i * sizeof(int), i < nls ? &ls->v[i].fd : &x[i - nls].fd, sizeof(int));
	return sendmsg(conn, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

void
upgrade_refuse(int conn, enum upgrade_hello_kind why, pid_t holder)
{
	char line[UPGRADE_HELLO_MAX];
	int n;

	if (why == UPGRADE_BUSY)
		n = snprintf(line, sizeof(line), "mpechod-upgrade busy %ld\n", (long)holder);
	else
		n = snprintf(line, sizeof(line), "mpechod-upgrade %s\n",
		    why == UPGRADE_STOPPING ? "stopping" : "timeout");
	if (send(conn, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* gone already: nothing to tell */
	}
	close(conn);
}

pid_t
upgrade_peer_pid(int conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : -1;
}

/* Why an offer did not come (or was unusable), in the successor's words. */
static void
upgrade_why_not(const struct upgrade_hello *h, ssize_t n, int saved, pid_t from, char *err,
    size_t errlen)
{
	if (h->kind == UPGRADE_BUSY)
		snprintf(err, errlen, "the server offering its listeners (pid %ld) is handing its "
		    "listeners to another successor (pid %ld): try again once that is over (%d s at "
		    "most)", (long)from, h->holder, UPGRADE_READY_MS / 1000);
	else if (h->kind == UPGRADE_STOPPING)
		snprintf(err, errlen, "the server offering its listeners (pid %ld) is stopping: it "
		    "hands nothing over", (long)from);
	else if (n < 0 && (saved == EAGAIN || saved == EWOULDBLOCK))
		snprintf(err, errlen, "the server offering its listeners (pid %ld) offered nothing "
		    "within %d s", (long)from, UPGRADE_READY_MS / 1000);
	else
		snprintf(err, errlen, "the server offering its listeners (pid %ld) sent nothing usable",
		    (long)from);
}

/*
 * The descriptors of an offer: the last h->nextra are the endpoints it names,
 * the others listeners. Each one is owned by ls or x afterwards, or closed.
 */
static int
upgrade_sort(const int *fds, size_t nfds, const struct upgrade_hello *h, struct listeners *ls,
    struct upgrade_extras *x, pid_t from, char *err, size_t errlen)
{
	char label[LISTENER_LABEL_MAX];
	size_t i, nls = nfds - h->nextra;

	for (i = 0; i < nfds; i++) {
		if (i >= nls) {
			snprintf(x->v[x->n].name, sizeof(x->v[x->n].name), "%s", h->extra[i - nls]);
			x->v[x->n++].fd = fds[i];
			continue;
		}
		snprintf(label, sizeof(label), "fd=%d upgrade-from=%ld", fds[i], (long)from);
		if (listener_inherited_take(ls, fds[i], label, err, errlen) < 0) {
			while (i < nfds)
				close(fds[i++]);
			return -1;
		}
		if (strncmp(ls->v[ls->n - 1].name, "unix:", 5) == 0)	/* its file is ours now */
			sockfile_note(ls->v[ls->n - 1].name + 5, &ls->v[ls->n - 1].file);
	}
	return 0;
}

/* Receive the offer's line and descriptors; each becomes a listener or an endpoint. 0, or -1 with err. */
static int
upgrade_receive(int conn, struct listeners *ls, struct upgrade_extras *x, pid_t from, char *err,
    size_t errlen)
{
	char cbuf[CMSG_SPACE(sizeof(int) * UPGRADE_MAX_FDS)], line[UPGRADE_HELLO_MAX];
	struct iovec iov = { .iov_base = line, .iov_len = sizeof(line) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
	    .msg_controllen = sizeof(cbuf) };
	int fds[UPGRADE_MAX_FDS], saved;
	struct upgrade_hello h;
	struct cmsghdr *cm;
	size_t i, nfds = 0;
	ssize_t n;

	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	saved = errno;
	for (cm = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		for (i = 0; cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) && nfds < UPGRADE_MAX_FDS; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	upgrade_hello_parse(line, n > 0 ? (size_t)n : 0, &h);
	if (h.kind == UPGRADE_OFFER && nfds >= h.nextra && !(msg.msg_flags & MSG_CTRUNC))
		return upgrade_sort(fds, nfds, &h, ls, x, from, err, errlen);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	upgrade_why_not(&h, n, saved, from, err, errlen);
	return -1;
}

int
upgrade_take(const char *path, struct listeners *ls, struct upgrade_extras *x, int *conn,
    pid_t *from, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	*conn = -1;
	x->n = 0;
	if (upgrade_address(path, &sun) < 0 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    upgrade_deadline(fd, UPGRADE_READY_MS) < 0) {
		log_errtext(err, errlen, "--upgrade-socket %s", path);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		if (errno == ENOENT || errno == ECONNREFUSED)
			return 0;	/* nobody offers: this is the first server */
		log_errtext(err, errlen, "--upgrade-socket %s", path);
		return -1;
	}
	*from = upgrade_peer_pid(fd);
	if (upgrade_receive(fd, ls, x, *from, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	*conn = fd;
	return 1;
}

int
upgrade_claim(struct upgrade_extras *x, const char *name)
{
	size_t i;
	int fd;

	for (i = 0; i < x->n; i++)
		if (x->v[i].fd >= 0 && strcmp(x->v[i].name, name) == 0) {
			fd = x->v[i].fd;
			x->v[i].fd = -1;
			return fd;
		}
	return -1;
}

void
upgrade_extras_close(struct upgrade_extras *x)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (x->v[i].fd >= 0)
			close(x->v[i].fd);
	x->n = 0;
}

/*
 * READY, then the old server's answer. It closes once the listeners are ours
 * (an old server gone, or of a version that says nothing more, closes too);
 * one that had given up says "timeout" before it closes, so that line is read
 * even when READY could not be sent.
 */
int
upgrade_ready(int conn, pid_t from, char *err, size_t errlen)
{
	static const char ready[] = "READY\n";
	char line[UPGRADE_HELLO_MAX];
	struct upgrade_hello h;
	ssize_t n;

	if (send(conn, ready, sizeof(ready) - 1, MSG_NOSIGNAL) < 0) {
		/* what it said before it closed is still there to read */
	}
	upgrade_deadline(conn, UPGRADE_READY_MS + 2000);	/* its deadline passes first */
	do
		n = recv(conn, line, sizeof(line), 0);
	while (n < 0 && errno == EINTR);
	close(conn);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		return 0;
	upgrade_hello_parse(line, n > 0 ? (size_t)n : 0, &h);
	if (h.kind == UPGRADE_TIMEOUT)
		snprintf(err, errlen, "the server offering its listeners (pid %ld) gave up waiting for "
		    "this one (%d s): it goes on serving", (long)from, UPGRADE_READY_MS / 1000);
	else if (n < 0)
		snprintf(err, errlen, "the server offering its listeners (pid %ld) did not answer READY "
		    "within %d s", (long)from, UPGRADE_READY_MS / 1000 + 2);
	else
		snprintf(err, errlen, "the server offering its listeners (pid %ld) answered READY with "
		    "something unusable", (long)from);
	return -1;
}
