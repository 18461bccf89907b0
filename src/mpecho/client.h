/* client: what mpecho's parts share: the relay loop, the terminal's additions, error reports. */
#ifndef MPECHO_CLIENT_H
#define MPECHO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <getopt.h>
#include <openssl/ssl.h>

#include "sockopt.h"
#include "wire.h"

/* What the command line asks for (args.c). */
struct client_args {
	char *host, *port;	/* malloc'd; port NULL for a unix: socket */
	int family;		/* AF_UNSPEC, or -4/-6, or the family of -s */
	int timeout_ms;		/* -w; -1: none */
	const char *source_name;	/* -s as given, or NULL */
	struct sockaddr_storage source;	/* -s */
	socklen_t source_len;	/* 0: no -s */
	bool verbose;		/* -v: a line on connect and on close */
	bool zero;		/* -z: connect only */
	bool banner;
	bool tls, insecure;	/* --tls, --insecure */
	bool udp;		/* -u */
	const char *ca;		/* --ca FILE, or NULL */
	struct sockopts so;	/* -O: socket options, set before connect() */
};

enum args_result { ARGS_RUN, ARGS_HELP, ARGS_VERSION, ARGS_USAGE, ARGS_FAIL };

/*
 * args.c: fill *a from argv; on ARGS_USAGE or ARGS_FAIL (out of memory), err
 * holds one line. Never prints, never exits. args_free() releases the strings.
 */
enum args_result args_parse(struct client_args *a, int argc, char **argv, char *err, size_t errlen);
void args_free(struct client_args *a);
const char *args_usage(void);
extern const struct option args_long[];

/* What went and came back, for -v's closing line. */
struct client_count {
	uint64_t sent, received;
};

/* How the relay runs: on a terminal or on pipes, and -w. */
struct client_mode {
	bool terminal;		/* prompts; a "quit" line is sent, then our side ends */
	int timeout_ms;		/* -w: nothing read or sent for this long ends it; -1: never */
};

/*
 * conn.c: the connection to the server (wire.h: a socket, and TLS on it when
 * ssl is set). conn_send() and conn_recv() are wire_send() and wire_recv()
 * with a TLS failure's reason printed. conn_read_byte() reads one byte,
 * blocking (under the socket's timeouts): 1, 0 at the end, or -1 with errno.
 * conn_shutdown() ends our side: a close-notify first under TLS, then the FIN.
 */
ssize_t conn_send(struct wire *c, const void *buf, size_t len);
ssize_t conn_recv(struct wire *c, void *buf, size_t len);
int conn_read_byte(struct wire *c, char *byte);
void conn_shutdown(struct wire *c);

/*
 * Standard input to the socket and the socket to standard output at the same
 * time, so neither side can block the other; at the end of input (or after a
 * "quit" line on a terminal) the sending side is shut down, and the relay ends
 * once the server has closed. On pipes, success means the server closed after
 * our whole input and returned as many bytes as were sent. The exit status.
 */
int relay_run(struct wire *c, const struct client_mode *mode, struct client_count *count);

/*
 * datagram.c: -u. A UDP socket connected to a's host and port, from -s if
 * given (the message is printed on failure; -1), and the loop: every read of
 * standard input a datagram, every datagram back to standard output; at the
 * end of input the missing echoes are waited for (-w, else 2 s). The exit
 * status: 0 when every byte came back.
 */
int datagram_connect(const struct client_args *a);
int datagram_run(int sock, const struct client_mode *mode, struct client_count *count);

/*
 * main.c: -s on a new socket, before it connects: 0, or -1 with errno (the
 * caller names the failure with client_source_error()).
 */
int client_bind_source(int fd, const struct client_args *a);
void client_source_error(const struct client_args *a, int err);

/* -v: the line on connect (the socket's two ends) and the one on close. */
void client_say_connected(const struct client_args *a, int fd, const char *how);
void client_say_closed(const struct client_args *a, const struct client_count *count, int rc);

/* terminal.c: the greeting, the prompt, and whether a line read is "quit". */
void terminal_greet(const char *peer);
void terminal_prompt(void);
bool terminal_is_quit(const char *line, size_t len);

/* Report a broken connection (an errno value) on stderr; returns EXIT_FAIL. */
int client_connection_error(int err);

#endif
