/*
 * tls_echo: make bench's floor for a TLS echo: accept, fork, handshake, then
 * SSL_read and SSL_write back until the client closes, exit. OpenSSL's
 * defaults with read-ahead, as mpechod's; nothing else: no limits, no
 * logging, no deadline. The parent reaps its children on SIGCHLD, so their
 * CPU time stays counted (its cutime, which make bench reads), and a child
 * dies with its parent (PR_SET_PDEATHSIG). With "nodelay" the connections
 * have TCP_NODELAY, as mpechod's; without it Nagle's algorithm may gather a
 * stream's records into fewer segments, as socat's does. Not part of mpecho:
 * a yardstick.
 *
 *     tls_echo PORT CERT KEY [nodelay]        (listens on 127.0.0.1)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void
reap(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void
echo(SSL_CTX *ctx, int fd)
{
	static char buf[16384];	/* one record's plaintext: SSL_read gives at most that a call */
	SSL *ssl = SSL_new(ctx);
	int n;

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		_exit(1);
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		if (SSL_write(ssl, buf, n) != n)
			_exit(1);
	_exit(0);
}

static int
listener(int port, int nodelay)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		perror("tls_echo: listen");
		exit(1);
	}
	return fd;	/* an accepted socket inherits TCP_NODELAY */
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = reap, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
	SSL_CTX *ctx;
	pid_t parent = getpid();
	int ls, fd;

	if (argc < 4 || argc > 5 || atoi(argv[1]) <= 0 || (argc == 5 && strcmp(argv[4], "nodelay") != 0)) {
		fprintf(stderr, "usage: tls_echo PORT CERT KEY [nodelay]\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "tls_echo: cannot load %s and %s\n", argv[2], argv[3]);
		return 1;
	}
	SSL_CTX_set_read_ahead(ctx, 1);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGCHLD, &sa, NULL);
	ls = listener(atoi(argv[1]), argc == 5);
	for (;;) {
		if ((fd = accept(ls, NULL, NULL)) < 0)
			continue;	/* EINTR, EMFILE: a floor, not a server */
		if (fork() == 0) {
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
				_exit(1);
			close(ls);
			echo(ctx, fd);
		}
		close(fd);
	}
}
