/*
 * log_syslog: event lines to the local syslog socket, on a descriptor of
 * log's own. syslog(3) keeps its socket hidden in the C library, so a child
 * that closes every descriptor it does not know of would close it under
 * syslog(3), which would later close whatever took its number. Here the
 * number is known (log_fds()) and kept.
 */
#ifndef MPECHO_LOG_SYSLOG_H
#define MPECHO_LOG_SYSLOG_H

/* Connect to /dev/log, a datagram socket or else a stream one. 0, or -1 with errno. */
int log_syslog_open(void);

/*
 * One message, "<PRI>Mmm dd hh:mm:ss PROG[PID]: TEXT", facility daemon. A
 * socket the syslog daemon closed (restarted) is connected again once. 0, or -1.
 */
int log_syslog_send(int priority, const char *prog, const char *text);

/* The socket, or -1 when not open. */
int log_syslog_fd(void);

void log_syslog_close(void);

#endif
