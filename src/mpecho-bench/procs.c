/*
 * procs: --procs N, and hold's memory figures. One process may open only so
 * many descriptors (RLIMIT_NOFILE's hard limit), so N generator processes
 * each run a share of -c, generator K from its own 127.(1+K).0.0/16 of
 * sources. Each writes its result (--json) into a pipe and then holds its
 * connections until this process, having read them all, has measured
 * MemAvailable and the server's PSS; then they are let go together and
 * reaped, and their results merged as `mpecho-bench merge` would.
 */
#include "bench.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mpecho.h"
#include "orphan.h"
#include "result.h"

#define PROC_TEXT_MAX (1 << 20)		/* a result line, or a /proc file, read at most */
#define TREE_MAX 65536			/* processes of a server counted at most */

/* A file's text (line: up to its first newline), at most PROC_TEXT_MAX, NUL-terminated; NULL: no memory. */
static char *
procs_slurp(int fd, size_t *len, bool line)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *more;
	ssize_t got;

	while (buf != NULL && !(line && n > 0 && buf[n - 1] == '\n')) {
		if (n == cap) {
			if (cap >= PROC_TEXT_MAX || (more = realloc(buf, 2 * cap + 1)) == NULL)
				break;
			buf = more;
			cap *= 2;
		}
		got = read(fd, buf + n, line ? 1 : cap - n);
		if (got == 0 || (got < 0 && errno != EINTR))
			break;
		n += got > 0 ? (size_t)got : 0;
	}
	if (buf != NULL) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

/* A /proc file's text, or NULL. */
static char *
procs_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;
	char *text;

	if (fd < 0)
		return NULL;
	text = procs_slurp(fd, &len, false);
	close(fd);
	return text;
}

/* KiB of key in a /proc file, or 0 if it cannot be read. */
static uint64_t
procs_kib(const char *path, const char *key)
{
	char *text = procs_read_file(path);
	uint64_t kib = 0;

	if (text != NULL && procmem_kib(text, key, &kib) < 0)
		kib = 0;
	free(text);
	return kib;
}

/* Add pid's children (every thread's) to tree[*n...]. */
static void
procs_children(long pid, long *tree, int *n)
{
	char path[64], *text;
	int got;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pid, pid);
	if ((text = procs_read_file(path)) == NULL)
		return;
	if ((got = procmem_pids(text, tree + *n, TREE_MAX - *n)) > 0)
		*n += got;
	free(text);
}

/* The PSS of pid and its descendants, KiB (a process gone meanwhile counts nothing). */
static uint64_t
procs_pss(long pid)
{
	long *tree = malloc(TREE_MAX * sizeof(*tree));
	uint64_t total = 0;
	char path[64];
	int i, n = 1;

	if (tree == NULL)
		return 0;
	tree[0] = pid;
	for (i = 0; i < n; i++) {
		procs_children(tree[i], tree, &n);
		snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", tree[i]);
		total += procs_kib(path, "Pss");
	}
	free(tree);
	return total;
}

/* Generator k: its share of the run, its result into out, its connections held until release ends. */
static void
procs_child(struct bench *b, int k, int out, int release)
{
	FILE *f = fdopen(out, "w");
	int per = b->conns / b->procs, rest = b->conns % b->procs;

	if (f == NULL)
		_exit(EXIT_NOT_RUN);
	b->conns = per + (k < rest);
	b->threads = b->threads > b->conns ? b->conns : b->threads;
	b->proc_index = k;
	b->json = b->quiet = true;
	fflush(f);
	_exit(main_run(b, f, release));
}

/* Read each generator's result line into rs: how many gave one. */
static int
procs_collect(int *fds, int n, struct result **rs)
{
	char why[512], *text;
	int i, got = 0;
	size_t len;

	for (i = 0; i < n; i++) {
		text = procs_slurp(fds[i], &len, true);
		if (text == NULL || len == 0 || (rs[got] = malloc(sizeof(**rs))) == NULL)
			log_warnx("generator %d gave no result", i);
		else if (result_read_json(rs[got], text, len, why, sizeof(why)) < 0) {
			log_warnx("generator %d: %s", i, why);
			free(rs[got]);
			rs[got] = NULL;
		} else
			got++;
		free(text);
		close(fds[i]);
	}
	return got;
}

/*
 * Fork the generators; fds[k]: generator k's result pipe. The release pipe's
 * write end, or -1. A generator dies with this process (SIGKILL, or a fatal
 * error while forking the others): its result would have no reader, and it
 * must not hold its connections, or spend the CPU, until its -d is over.
 */
static int
procs_start(struct bench *b, int *fds, pid_t *pids)
{
	int rel[2], res[2], j, k;
	pid_t parent = getpid();

	if (pipe2(rel, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	for (k = 0; k < b->procs; k++) {
		if (pipe2(res, O_CLOEXEC) < 0 || (pids[k] = fork()) < 0)
			fatal(EXIT_NOT_RUN, "cannot start generator %d", k);
		if (pids[k] == 0) {
			orphan_watch(parent, SIGKILL);
			close(rel[1]);
			close(res[0]);
			for (j = 0; j < k; j++)
				close(fds[j]);	/* the others' results are not its to read */
			procs_child(b, k, res[1], rel[0]);
		}
		close(res[1]);
		fds[k] = res[0];
	}
	close(rel[0]);
	return rel[1];
}

/* Let the generators go (end of file on release) and reap every one. */
static void
procs_reap(int release, pid_t *pids, int n)
{
	int k;

	close(release);
	for (k = 0; k < n; k++)
		while (waitpid(pids[k], NULL, 0) < 0 && errno == EINTR)
			;
}

int
procs_main(struct bench *b)
{
	struct result **rs = calloc((size_t)b->procs, sizeof(*rs));
	int *fds = calloc((size_t)b->procs, sizeof(*fds)), release, got, i;
	pid_t *pids = calloc((size_t)b->procs, sizeof(*pids));
	struct memory mem = { .procs = b->procs, .server_pid = b->server_pid };
	static struct result out;
	char why[512];

	if (rs == NULL || fds == NULL || pids == NULL)
		fatalx(EXIT_NOT_RUN, "out of memory");
	mem.avail_before = procs_kib("/proc/meminfo", "MemAvailable");
	mem.pss_before = b->server_pid > 0 ? procs_pss(b->server_pid) : 0;
	if ((release = procs_start(b, fds, pids)) < 0)
		fatal(EXIT_NOT_RUN, "cannot make a pipe");
	got = procs_collect(fds, b->procs, rs);
	mem.avail_after = procs_kib("/proc/meminfo", "MemAvailable");	/* all still held */
	mem.pss_after = b->server_pid > 0 ? procs_pss(b->server_pid) : 0;
	mem.measured_at = clock_wall_s();
	procs_reap(release, pids, b->procs);
	if (got == 0 || result_merge(&out, rs, got, why, sizeof(why)) < 0)
		fatalx(EXIT_NOT_RUN, "%s", got == 0 ? "no generator gave a result" : why);
	mem.measured = b->mode == MODE_HOLD;
	out.mem = mem;
	if (got < b->procs && out.status != EXIT_FAIL)
		out.status = EXIT_CONN_ERRORS;	/* a generator's connections went uncounted */
	if (b->json)
		result_write_json(stdout, &out);
	else
		report_text(stdout, &out);
	for (i = 0; i < got; i++) {
		result_free(rs[i]);	/* its intervals */
		free(rs[i]);
	}
	result_free(&out);
	free(rs);
	free(fds);
	free(pids);
	return out.status;
}
