/* child: the first steps of every process the supervisor forks (a session or a worker). */
#ifndef MPECHO_CHILD_H
#define MPECHO_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct listeners;
struct privs;

/* What a child must drop of the supervisor's, set once by the supervisor. */
struct child_env {
	const struct privs *privs;	/* NULL: keep the user */
	pid_t supervisor;		/* its pid: the one sender a child takes SIGTERM from */
};

/*
 * The descriptors a child keeps: stdin, stdout and stderr, the log's own
 * (log_fds()), and these. Every other one is closed, whoever opened it: the
 * supervisor's signalfd, pidfile lock, upgrade and notification sockets,
 * metrics and agent sockets, a daemon's readiness pipe, other clients'
 * connections, and whatever a later feature opens.
 */
struct child_keep {
	const struct listeners *ls;	/* NULL: none; a worker keeps the TCP listeners, the UDP process its sockets */
	int fd;				/* -1: none; a session keeps its connection */
	bool line;			/* the log's line (logline.h): workers and the UDP process keep it */
};

/*
 * Close every descriptor from 3 up but the n in fds (in any order; a negative
 * one stands for none): for a forked process that keeps neither listeners nor
 * the log (the privileged helper). 0, or -1 with errno.
 */
int child_close_except(const int *fds, size_t n);

/*
 * In the supervisor, once, before it forks: what every child inherits rather
 * than sets up itself (a page the child writes is a page copied for it), the
 * SIGTERM handler below and the supervisor's pid it checks. SIGTERM stays
 * blocked in the supervisor, which reads it from its signalfd: the handler
 * runs only in children, where child_begin() unblocks it.
 */
void child_prepare(const struct child_env *env);

/*
 * A child's signal mask: SIGINT blocked (so never delivered: see below);
 * a child adds what it reads from a signalfd of its own.
 */
void child_mask(sigset_t *set);

/*
 * In a new child: close every descriptor but those of *keep (see struct
 * child_keep), set the signal mask to *mask (made by child_mask()), and
 * become the session user. It only closes descriptors and writes nothing to
 * the supervisor's memory, so no page of it is copied just for that. A failed
 * privilege drop or close is the child's start failing: it is logged as
 * "event=<event> pid=N error=..." and the child exits with fail_status.
 *
 * Signals: SIGINT stays blocked, which ignores it (Ctrl-C reaches the
 * terminal's whole process group; the supervisor's drain is the answer to it)
 * at the cost of no call here, SIGTERM ends the child
 * only when the supervisor sends it (a SIGTERM to the whole group or cgroup,
 * as systemd sends by default, is the supervisor's to act on), and the
 * supervisor's death sends orphan_signal (at once if it died already): the
 * caller has decided what that does before calling.
 */
void child_begin(const struct child_env *env, const struct child_keep *keep, const sigset_t *mask,
    int orphan_signal, const char *event, int fail_status);

#endif
