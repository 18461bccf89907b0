/* log: fixed-format key=value event lines on stderr. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "log_syslog.h"

#define LOG_LINE_MAX 1024
#define EFTYPE_LOG EBADFD	/* reported by log_strerror() as "not a regular file" */
/* /dev/null, the one device a log may go to: it never blocks. */
#define LOG_IS_DEV_NULL(st) (S_ISCHR((st).st_mode) && major((st).st_rdev) == 1 && minor((st).st_rdev) == 3)

static const char *log_prog = "mpecho";
static enum log_level log_threshold = LOG_LVL_INFO;
static enum log_target log_target = LOG_TO_STDERR;
static int log_fd = STDERR_FILENO;
static char *log_path;
static bool log_journal;
static bool log_json;	/* stderr is the systemd journal: lines start with "<priority>" */
static unsigned long log_dropped;	/* lines this process could not write since the last one it could */

/* Space held past the end of a log file for the lines to come (fallocate, size kept). */
#define LOG_RESERVE (256 * 1024)
static off_t log_reserved_to;	/* this process holds the file's blocks up to here */
static off_t log_seen_size;
static int log_fd_regular = -1;	/* log_fd is a regular file (1) or not (0); -1: not looked at yet */

/* The log descriptor changed: what was known of it is not. */
static void
log_forget_file(void)
{
	log_reserved_to = log_seen_size = 0;
	log_fd_regular = -1;
}

/* syslog's priority of each level: syslog(3)'s, and the journal's "<N>" line prefix. */
static const int log_priorities[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_NOTICE] = LOG_NOTICE,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/*
 * systemd names the journal stream it gave a service as JOURNAL_STREAM=DEV:INODE;
 * only if that is still what stderr is (not a pipe or file put there since) do
 * lines carry their priority for the journal to keep.
 */
static bool
log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_set_json(bool json)
{
	log_json = json;
}

void
log_init(const char *prog, enum log_level threshold)
{
	log_prog = prog;
	log_threshold = threshold;
	log_journal = log_stderr_is_journal();
}

static int
log_open_file(const char *path)
{
	struct stat st;
	int fd, saved;

	/*
	 * Never follow a link (it could point anywhere), never block (a FIFO with no
	 * reader would hang the supervisor in open()), and keep only a regular file.
	 */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
	    0640);
	if (fd < 0)
		return -1;	/* ELOOP for a symbolic link: see log_strerror() */
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || LOG_IS_DEV_NULL(st))) {
		saved = fstat(fd, &st) < 0 ? errno : EFTYPE_LOG;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
log_open(enum log_target target, const char *path)
{
	int fd;

	if (target == LOG_TO_FILE) {
		if ((fd = log_open_file(path)) < 0)
			return -1;
		free(log_path);
		if ((log_path = strdup(path)) == NULL) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		if (log_fd != STDERR_FILENO)
			close(log_fd);
		log_fd = fd;
		log_forget_file();
	} else if (target == LOG_TO_SYSLOG) {
		/* syslog(3) would drop every line in silence if nothing listens (most containers) */
		if (log_syslog_open() < 0)
			return -1;
	}
	log_target = target;
	return 0;
}

size_t
log_fds(int *fds, size_t max)
{
	size_t n = 0;

	if (n < max && log_target == LOG_TO_FILE)
		fds[n++] = log_fd;
	if (n < max && log_syslog_fd() >= 0)
		fds[n++] = log_syslog_fd();
	return n;
}

int
log_file_again(void)
{
	return log_target == LOG_TO_FILE ? log_open_file(log_path) : -2;
}

int
log_reopen_fd(int fd)
{
	int rc = 0;

	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	if (dup2(fd, log_fd) < 0)
		rc = -1;
	close(fd);
	log_forget_file();
	return rc;
}

int
log_reopen(void)
{
	return log_reopen_fd(log_file_again());
}

void
log_close(void)
{
	if (log_target == LOG_TO_SYSLOG)
		log_syslog_close();
	if (log_target == LOG_TO_FILE && log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	log_target = LOG_TO_STDERR;
	log_forget_file();
	free(log_path);
	log_path = NULL;
}

int
log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

/* Append to a line buffer, truncating (with a marker) rather than overflowing. */
static size_t
log_vappend(char *buf, size_t pos, size_t cap, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static size_t
log_vappend(char *buf, size_t pos, size_t cap, const char *fmt, va_list ap)
{
	int n;

	if (pos >= cap)
		return pos;
	n = vsnprintf(buf + pos, cap - pos, fmt, ap);
	if (n < 0)
		return pos;
	if ((size_t)n >= cap - pos) {
		memcpy(buf + cap - 4, "...", 3);
		return cap - 1;
	}
	return pos + (size_t)n;
}

static size_t
log_append(char *buf, size_t pos, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t
log_append(char *buf, size_t pos, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pos = log_vappend(buf, pos, cap, fmt, ap);
	va_end(ap);
	return pos;
}

/*
 * The line in place, as the target wants it: key=value (as built), or JSON,
 * after the journal's priority prefix if there is one; ends it with a newline.
 */
static size_t
log_finish(char *line, size_t pos)
{
	char json[LOG_LINE_MAX * 2];
	size_t prefix = line[0] == '<' ? strcspn(line, ">") + 1 : 0, n;

	if (log_json && (n = log_kv_json(line + prefix, json, sizeof(json) - prefix - 1)) > 0 &&
	    prefix + n < LOG_LINE_MAX * 2) {
		memmove(line + prefix, json, n);	/* line is LOG_LINE_MAX * 2 long: see log_msg() */
		pos = prefix + n;
	}
	line[pos++] = '\n';
	return pos;
}

/*
 * A full disk can take the head of a line and refuse the rest, and the next
 * line would be glued to that head. So a line goes only into space already
 * held: blocks are reserved ahead of the end of the file (allocated, the size
 * unchanged), LOG_RESERVE at a time, or, when the disk is nearly full, just
 * enough for this line. 1: write it; 0: no space, drop it whole; -1: cannot
 * tell (not a regular file, or no fallocate on this file system).
 */
static int
log_room(size_t len)
{
	struct stat st;

	if (log_fd_regular == 0 || fstat(log_fd, &st) < 0)
		return -1;
	if ((log_fd_regular = S_ISREG(st.st_mode)) == 0)
		return -1;	/* a pipe, a terminal, the journal: looked at once */
	if (st.st_size < log_seen_size)
		log_reserved_to = 0;	/* truncated (a copytruncate rotation): nothing is held */
	log_seen_size = st.st_size;
	if (st.st_size + LOG_LINE_MAX * 4 <= log_reserved_to)
		return 1;
	if (fallocate(log_fd, FALLOC_FL_KEEP_SIZE, st.st_size, LOG_RESERVE) == 0) {
		log_reserved_to = st.st_size + LOG_RESERVE;
		return 1;
	}
	if (errno == ENOSPC && fallocate(log_fd, FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)len) == 0)
		return 1;
	return errno == ENOSPC || errno == EFBIG ? 0 : -1;
}

/*
 * Write one line whole or not at all. Should a write still come back short (a
 * file system without fallocate, or another process taking the last space
 * between the reservation and the write), the head is cut back off from where
 * this write ended (a file given to --log, or standard error sent to one);
 * elsewhere (a pipe, a terminal), or if the file cannot be cut, the rest is
 * sent after it. false: the line is lost.
 */
static bool
log_write_whole(const char *line, size_t len)
{
	int room = log_room(len);
	ssize_t n;
	off_t end;

	if (room == 0)
		return false;
	do
		n = write(log_fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return true;
	if (n <= 0)
		return false;
	if (log_fd_regular == 1 && (end = lseek(log_fd, 0, SEEK_CUR)) >= n &&
	    ftruncate(log_fd, end - n) == 0)
		return false;
	return io_write_all(log_fd, line + n, len - (size_t)n) == 0;
}

/* The first line that can be written after some could not says how many were lost. */
static void
log_report_dropped(void)
{
	unsigned long lost = log_dropped;

	log_dropped = 0;
	log_msg(LOG_LVL_WARN, "event=log-dropped count=%lu pid=%ld", lost, (long)getpid());
	if (log_dropped > 0)
		log_dropped += lost;	/* still failing: the report itself is one more */
}

/*
 * A line's head into line (LOG_LINE_MAX at least): the journal's priority
 * when the line goes to stderr and that is the journal, the time, the level.
 */
static size_t
log_stamp(char *line, enum log_level level, bool to_stderr)
{
	struct timespec ts;
	struct tm tm;
	size_t pos;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	pos = log_journal && to_stderr ? (size_t)snprintf(line, 8, "<%d>", log_priorities[level]) : 0;
	pos += strftime(line + pos, LOG_LINE_MAX - pos, "time=%Y-%m-%dT%H:%M:%S", &tm);
	return log_append(line, pos, LOG_LINE_MAX - 1, ".%03ldZ level=%s ", ts.tv_nsec / 1000000,
	    level_names[level]);
}

/*
 * The line itself, in a frame of its own: log_msg() returns for a level that
 * is off before this stack is touched (a page the supervisor writes after a
 * fork is a page copied, while a child still shares it).
 */
static void __attribute__((noinline, format(printf, 2, 0)))
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX * 2];	/* a line is LOG_LINE_MAX at most; its JSON twice that */
	size_t pos;
	int saved = errno;

	if (log_target == LOG_TO_SYSLOG) {
		pos = log_vappend(line, 0, LOG_LINE_MAX - 1, fmt, ap);
		line[pos] = '\0';
		if (log_json) {
			char kv[sizeof(line) + 16], json[LOG_LINE_MAX * 2];

			snprintf(kv, sizeof(kv), "level=%s %s", level_names[level], line);
			log_kv_json(kv, json, sizeof(json));
			log_syslog_send(log_priorities[level], log_prog, json);
		} else {
			char text[sizeof(line) + 16];

			snprintf(text, sizeof(text), "level=%s %s", level_names[level], line);
			log_syslog_send(log_priorities[level], log_prog, text);
		}
		errno = saved;
		return;
	}
	pos = log_stamp(line, level, log_target == LOG_TO_STDERR);
	pos = log_vappend(line, pos, LOG_LINE_MAX - 1, fmt, ap);
	line[pos] = '\0';
	pos = log_finish(line, pos);
	if (log_dropped > 0 && log_enabled(LOG_LVL_WARN))
		log_report_dropped();
	/* one write(2): lines of several processes never interleave */
	if (!log_write_whole(line, pos))
		log_dropped++;
	errno = saved;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static void
log_vplain(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/*
 * A start-up error. On stderr in the format chosen: "prog: text", or with
 * JSON logs an error event; and once a log file or syslog is open, there too.
 */
static void
log_vplain(const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX * 2];
	size_t pos;

	pos = log_vappend(msg, 0, sizeof(msg) - 1, fmt, ap);
	msg[pos] = '\0';
	if (log_target != LOG_TO_STDERR)
		log_msg(LOG_LVL_ERROR, "event=error during=start error=%s", log_qf("%s", msg));
	if (log_json) {
		pos = log_stamp(line, LOG_LVL_ERROR, true);
		pos = log_append(line, pos, LOG_LINE_MAX - 1, "event=error during=start error=%s",
		    log_qf("%s", msg));
		line[pos] = '\0';
		pos = log_finish(line, pos);
	} else {
		pos = log_append(line, 0, LOG_LINE_MAX - 1, log_journal ? "<3>%s: %s" : "%s: %s",
		    log_prog, msg);
		line[pos++] = '\n';
	}
	io_write_all(STDERR_FILENO, line, pos);
}

/* log_warn()'s line: the text, ": ", strerror(errno). */
static void __attribute__((format(printf, 1, 0)))
log_vwarn(const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];

	log_verrtext(msg, sizeof(msg), fmt, ap);
	log_warnx("%s", msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwarn(fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vplain(fmt, ap);
	va_end(ap);
}

void
fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

void
fatalx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vplain(fmt, ap);
	va_end(ap);
	exit(status);
}

const char *
log_strerror(int err)
{
	if (err == ELOOP)
		return "is a symbolic link (not followed)";
	if (err == EFTYPE_LOG || err == ENXIO)	/* ENXIO: a FIFO no one reads, a socket */
		return "not a regular file";
	return strerror(err);
}
