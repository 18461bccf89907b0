/* terminal: mpecho on a terminal, a prompt and one reply per line. */
#include "client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "mpecho.h"

/* Read the reply to one line: up to and including its newline. 0, or an exit status. */
static int
terminal_reply(int sock)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = io_read(sock, buf, sizeof(buf));
		if (n == 0) {
			log_plain("connection closed by the server");
			return EXIT_FAIL;
		}
		if (n < 0)
			return client_connection_error(errno);
		if (io_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			return EXIT_FAIL;
		if (memchr(buf, '\n', (size_t)n) != NULL)
			return 0;
	}
}

static bool
terminal_is_quit(const char *line)
{
	return strcmp(line, "quit\n") == 0 || strcmp(line, "quit\r\n") == 0 ||
	    strcmp(line, "quit") == 0;
}

/* Terminal mode: a prompt, one line sent, its reply printed; "quit" or end-of-file ends it. */
int
terminal_run(int sock, const char *peer)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = EXIT_OK;

	printf("Connected to %s. Type lines; 'quit' or Ctrl-D ends.\n", peer);
	for (;;) {
		fputs("mpecho> ", stdout);
		fflush(stdout);
		len = getline(&line, &cap, stdin);
		if (len < 0) {
			putchar('\n');
			break;
		}
		if (terminal_is_quit(line))
			break;
		if (io_send_all(sock, line, (size_t)len, NULL) < 0) {
			rc = client_connection_error(errno);
			break;
		}
		if (line[len - 1] != '\n')
			continue;	/* no newline: the reply comes with what follows */
		if ((rc = terminal_reply(sock)) != 0)
			break;
	}
	free(line);
	return rc;
}
