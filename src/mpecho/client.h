/* client: what mpecho's parts share: its two modes and how they report a broken connection. */
#ifndef MPECHO_CLIENT_H
#define MPECHO_CLIENT_H

/*
 * Pipe mode: standard input to the socket and the socket to standard output
 * at the same time; at the end of input the sending side is shut down, and
 * the mode ends once the server has closed. Returns the exit status.
 */
int pipe_run(int sock);

/* Terminal mode: a prompt, one line sent, its reply printed; "quit" or end-of-file ends it. */
int terminal_run(int sock, const char *peer);

/* Report a broken connection (an errno value) on stderr; returns EXIT_FAIL. */
int client_connection_error(int err);

#endif
