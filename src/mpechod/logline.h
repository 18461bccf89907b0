/*
 * logline: the log file, handed down by the supervisor to the workers and the
 * UDP process each time it opens it again. Under -u those run as the user,
 * and a log that only root may open (or make anew in a root-only directory,
 * after a rotation) is opened by the privileged process alone: a worker that
 * opened its log itself would keep writing to the rotated file. So none
 * does: the supervisor keeps the file it now writes to as the one message
 * queued on a socket pair, and a worker told SIGHUP peeks at it (MSG_PEEK:
 * the kernel hands each reader a copy of the descriptor and leaves the
 * message for the next) and puts it in its log descriptor's place. Two
 * descriptors in the supervisor whatever the number of workers, one in each
 * worker; fork-model sessions keep none.
 *
 * State of the process, as the log's own (log.c): one log, one line.
 */
#ifndef MPECHO_LOGLINE_H
#define MPECHO_LOGLINE_H

/*
 * In the supervisor, before its first child: make the line. Called when the
 * log is a file and workers or a UDP process will need it (syslog and stderr
 * are never opened again). 0, or -1 with errno.
 */
int logline_open(void);

/* The end a child reads from (-1: no line): what a worker and the UDP process keep. */
int logline_child_fd(void);

/*
 * In the supervisor, once it has opened the log again (fd: the new file's
 * descriptor, still open; -2: the log is no file): fd becomes the one
 * message on the line, in place of the one before. 0, or -1 with errno.
 */
int logline_publish(int fd);

/*
 * In a worker or the UDP process, told SIGHUP: the file the supervisor
 * published, in place of its log descriptor (log_reopen_fd()). Nothing
 * published yet (no reopen since the start, or no line) is no error: the
 * log stays as it is. 0, or -1 with errno.
 */
int logline_take(void);

/*
 * In a worker or the UDP process, told SIGHUP: logline_take(), and if it
 * fails, "event=reopen signal=HUP pid=N error=..." (in the log it still has).
 */
void logline_reopen(void);

/* The line closed (the supervisor's end). */
void logline_close(void);

#endif
