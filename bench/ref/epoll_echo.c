/*
 * epoll_echo: make bench's ceiling: the plainest event-loop echo server, one
 * thread per CPU, each with its own SO_REUSEPORT listener and epoll set.
 * Every byte read is written back; what a full socket will not take waits for
 * EPOLLOUT. Not part of mpecho: a yardstick.
 *
 *     epoll_echo PORT        (listens on 127.0.0.1)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (64 * 1024)

struct conn {
	int fd;
	size_t off, len;	/* bytes read and not yet written back: buf[off..len) */
	char buf[BUF];
};

static int port;

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
	free(c);
}

/* Write back what is pending; then read and write until the socket would block. */
static void
serve(int ep, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	ssize_t n;

	for (;;) {
		while (c->off < c->len) {
			if ((n = write(c->fd, c->buf + c->off, c->len - c->off)) < 0) {
				if (errno != EAGAIN) {
					drop(c);
					return;
				}
				ev.events = EPOLLOUT;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				return;
			}
			c->off += (size_t)n;
		}
		if ((n = read(c->fd, c->buf, BUF)) <= 0) {
			if (n < 0 && errno == EAGAIN)
				break;
			drop(c);
			return;
		}
		c->off = 0;
		c->len = (size_t)n;
	}
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void *
loop(void *arg)
{
	struct epoll_event evs[256], ev = { .events = EPOLLIN, .data.ptr = NULL };
	int ls = listener(), ep = epoll_create1(0), n, i, fd, on = 1;
	struct conn *c;

	(void)arg;
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
	return NULL;
}

int
main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), i;
	pthread_t t;

	if (argc != 2 || (port = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: epoll_echo PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < cpus; i++)
		pthread_create(&t, NULL, loop, NULL);
	loop(NULL);
	return 0;
}
