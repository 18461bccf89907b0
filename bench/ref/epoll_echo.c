/*
 * epoll_echo: make bench's ceiling: the plainest event-loop echo server, one
 * process per CPU (or PROCS of them), each with its own SO_REUSEPORT listener
 * and epoll set. One process may open only RLIMIT_NOFILE descriptors (20,000
 * here), so holding 250,000 connections takes PROCS above 13. An idle
 * connection holds no buffer: each process reads into one buffer and writes
 * back; only what a full socket will not take is kept, and the connection is
 * not read again until EPOLLOUT has taken it. The parent only waits: on TERM
 * or INT it ends its children and reaps every one before it exits, and a
 * child dies with its parent (PR_SET_PDEATHSIG), so none is left to PID 1.
 * Not part of mpecho: a yardstick.
 *
 *     epoll_echo PORT [PROCS]        (listens on 127.0.0.1)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF (64 * 1024)
#define PROCS_MAX 256

struct conn {
	int fd;
	size_t off, len;	/* pending[off..len): read, not yet written back */
	char *pending;		/* NULL while nothing waits: an idle connection holds no buffer */
};

static int port;
static char buf[BUF];

static int
listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		perror("epoll_echo: listen");
		exit(1);
	}
	return fd;
}

static void
drop(struct conn *c)
{
	close(c->fd);
	free(c->pending);
	free(c);
}

/* Write from p[0..n): what the socket will not take is kept in c; -1: the connection is gone. */
static int
put(int ep, struct conn *c, const char *p, size_t n)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	ssize_t w;
	size_t off = 0;

	while (off < n) {
		if ((w = write(c->fd, p + off, n - off)) < 0) {
			if (errno != EAGAIN)
				return -1;
			if (c->pending == NULL && (c->pending = malloc(n - off)) == NULL)
				return -1;
			memmove(c->pending, p + off, n - off);
			c->off = 0;
			c->len = n - off;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			return 0;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Write back what is pending; then read and write until the socket would block. */
static void
serve(int ep, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t n;

	if (c->pending != NULL) {
		char *p = c->pending;

		c->pending = NULL;
		n = put(ep, c, p + c->off, c->len - c->off);
		free(p);
		if (n < 0) {
			drop(c);
			return;
		}
		if (c->pending != NULL)
			return;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	while ((n = read(c->fd, buf, BUF)) > 0) {
		if (put(ep, c, buf, (size_t)n) < 0) {
			drop(c);
			return;
		}
		if (c->pending != NULL)
			return;
	}
	if (n == 0 || errno != EAGAIN)
		drop(c);
}

static void
loop(void)
{
	struct epoll_event evs[256], ev = { .events = EPOLLIN, .data.ptr = NULL };
	int ls = listener(), ep = epoll_create1(0), n, i, fd, on = 1;
	struct conn *c;

	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr != NULL) {
				serve(ep, evs[i].data.ptr);
				continue;
			}
			while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				if ((c = calloc(1, sizeof(*c))) == NULL) {
					close(fd);
					continue;
				}
				c->fd = fd;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
		}
	}
}

/* The parent: start procs children, wait for TERM or INT (or a child's end), end and reap them all. */
static int
supervise(long procs)
{
	pid_t kids[PROCS_MAX], pid, parent = getpid();
	sigset_t set;
	long i;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < procs; i++) {
		if ((kids[i] = fork()) < 0) {
			perror("epoll_echo: fork");
			procs = i;
			break;
		}
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);	/* already gone: its orphans go to PID 1 or a subreaper */
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			loop();
		}
	}
	sigwait(&set, &sig);		/* TERM, INT, or a child that died: end them all */
	for (i = 0; i < procs; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < procs; i++)
		while ((pid = waitpid(kids[i], NULL, 0)) < 0 && errno == EINTR)
			;
	return sig == SIGCHLD ? 1 : 0;
}

int
main(int argc, char **argv)
{
	long procs = sysconf(_SC_NPROCESSORS_ONLN);
	struct rlimit rl;

	if (argc < 2 || argc > 3 || (port = atoi(argv[1])) <= 0 ||
	    (argc == 3 && ((procs = atol(argv[2])) < 1 || procs > PROCS_MAX))) {
		fprintf(stderr, "usage: epoll_echo PORT [PROCS (1-%d)]\n", PROCS_MAX);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {	/* each process: as many as it may */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return supervise(procs < 1 ? 1 : procs);
}
