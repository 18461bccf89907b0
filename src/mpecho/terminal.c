/* terminal: what mpecho adds on a terminal: a greeting, the prompt, the quit line. */
#include "client.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

void
terminal_greet(const char *peer)
{
	printf("Connected to %s. Type lines; 'quit' or Ctrl-D ends.\n", peer);
	fflush(stdout);
}

void
terminal_prompt(void)
{
	io_write_all(STDOUT_FILENO, "mpecho> ", 8);
}

bool
terminal_is_quit(const char *line, size_t len)
{
	return (len == 5 && memcmp(line, "quit\n", 5) == 0) ||
	    (len == 6 && memcmp(line, "quit\r\n", 6) == 0);
}
