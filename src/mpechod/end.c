/* end: why a session ended, and how the supervisor names it. */
#include "end.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static const char *const end_names[END_COUNT] = {
	[END_EOF] = "eof",
	[END_ERROR] = "error",
	[END_RESET] = "reset",
	[END_QUIT] = "quit",
	[END_IDLE] = "idle",
	[END_MAX_TIME] = "max-time",
	[END_SLOW] = "slow",
	[END_TLS] = "tls",
};

const int64_t end_bucket_ms[END_BUCKETS - 1] = { 1, 10, 100, 1000, 10000, 60000, 300000, 3600000 };

int
end_bucket(int64_t ms)
{
	int b = 0;

	while (b < END_BUCKETS - 1 && ms > end_bucket_ms[b])
		b++;
	return b;
}

const char *
end_reason_name(int reason)
{
	return reason == END_KILLED ? "killed" : end_name(reason);
}

const char *
end_name(int status)
{
	return status >= 0 && status < END_COUNT ? end_names[status] : NULL;
}

enum end
end_of_errno(int err)
{
	switch (err) {
	case ECONNRESET:
	case EPIPE:
	case ENOTCONN:
		return END_RESET;
	case ETIMEDOUT:
		return END_IDLE;
	case ETIME:
		return END_SLOW;
	case EPROTO:
		return END_TLS;
	default:
		return END_ERROR;
	}
}

const char *
end_signal_name(int sig)
{
	const char *name = sigabbrev_np(sig);

	return name != NULL ? name : "?";
}

const char *
end_wait_text(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, len, "exit=%d", WEXITSTATUS(wstatus));
	else
		snprintf(buf, len, "signal=%s", end_signal_name(WTERMSIG(wstatus)));
	return buf;
}

const char *
end_describe(int wstatus, char *buf, size_t len)
{
	const char *reason = WIFEXITED(wstatus) ? end_name(WEXITSTATUS(wstatus)) : "killed";
	char how[32];

	snprintf(buf, len, "%s reason=%s", end_wait_text(wstatus, how, sizeof(how)),
	    reason != NULL ? reason : "unknown");
	return buf;
}
