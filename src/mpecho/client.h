/* client: what mpecho's parts share: the relay loop, the terminal's additions, error reports. */
#ifndef MPECHO_CLIENT_H
#define MPECHO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* How the relay runs: on a terminal or on pipes, and -w. */
struct client_mode {
	bool terminal;		/* prompts; a "quit" line is sent, then our side ends */
	int timeout_ms;		/* -w: nothing read or sent for this long ends it; -1: never */
};

/*
 * Standard input to the socket and the socket to standard output at the same
 * time, so neither side can block the other; at the end of input (or after a
 * "quit" line on a terminal) the sending side is shut down, and the relay ends
 * once the server has closed. On pipes, success means the server closed after
 * our whole input and returned as many bytes as were sent. The exit status.
 */
int relay_run(int sock, const struct client_mode *mode);

/* terminal.c: the greeting, the prompt, and whether a line read is "quit". */
void terminal_greet(const char *peer);
void terminal_prompt(void);
bool terminal_is_quit(const char *line, size_t len);

/* Report a broken connection (an errno value) on stderr; returns EXIT_FAIL. */
int client_connection_error(int err);

#endif
