/*
 * fork_echo: make bench's floor for the fork design: accept, fork, echo until
 * the client closes, exit; the kernel reaps (SIGCHLD ignored). Nothing else:
 * no limits, no logging, no drain. Not part of mpecho: a yardstick.
 *
 *     fork_echo PORT        (listens on 127.0.0.1)
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void
echo(int fd)
{
	static char buf[64 * 1024];
	ssize_t n, w, off;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += w)
			if ((w = write(fd, buf + off, (size_t)(n - off))) < 0)
				_exit(1);
	_exit(0);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int ls, fd, on = 1;

	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: fork_echo PORT\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    setsockopt(ls, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4096) < 0) {
		perror("fork_echo: listen");
		return 1;
	}
	for (;;) {
		if ((fd = accept(ls, NULL, NULL)) < 0)
			continue;	/* EINTR, EMFILE: a floor, not a server */
		if (fork() == 0) {
			close(ls);
			echo(fd);
		}
		close(fd);
	}
}
