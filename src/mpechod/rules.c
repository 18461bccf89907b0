/* rules: the --rules file's parser and reader. */
#include "rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

#define RULES_WORD_SHOWN 40	/* of a word quoted in an error, at most this much */

static void rules_fail(struct rules_error *err, int line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
rules_fail(struct rules_error *err, int line, int code, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
	va_end(ap);
	errno = code;
}

/* A word of the file as an error shows it: printable, and cut short if long. */
static const char *
rules_shown(const char *word, size_t len, char *buf, size_t buflen)
{
	size_t i, n = len < RULES_WORD_SHOWN ? len : RULES_WORD_SHOWN;

	if (n + 4 > buflen)
		n = buflen - 4;
	for (i = 0; i < n; i++)
		buf[i] = word[i] >= 0x20 && word[i] < 0x7f ? word[i] : '?';
	strcpy(buf + n, n < len ? "..." : "");
	return buf;
}

static bool
rules_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next word of a line (up to a blank or a comment) from *at, or NULL at the line's end. */
static const char *
rules_word(const char **at, const char *end, size_t *len)
{
	const char *p = *at, *w;

	while (p < end && rules_blank(*p))
		p++;
	if (p == end || *p == '#')
		return NULL;
	for (w = p; p < end && !rules_blank(*p) && *p != '#'; p++)
		;
	*at = p;
	*len = (size_t)(p - w);
	return w;
}

static int
rules_add(struct rules *out, const struct acl_rule *rule, int line)
{
	int *l = realloc(out->lines, (out->acl.n + 1) * sizeof(*l));

	if (l == NULL)
		return -1;
	out->lines = l;
	l[out->acl.n] = line;
	return acl_add(&out->acl, rule);
}

/* A rule's address, from the file as it is (no NUL): into *rule. 0, or -1 with *err. */
static int
rules_address(const char *addr, size_t alen, bool allow, int line, struct acl_rule *rule,
    struct rules_error *err)
{
	char shown[RULES_WORD_SHOWN + 4], text[INET6_ADDRSTRLEN + 8], net[INET6_ADDRSTRLEN] = "?";
	int rc = -1;

	if (alen < sizeof(text)) {
		memcpy(text, addr, alen);
		text[alen] = '\0';
		rc = acl_parse(text, allow, rule);
	}
	if (rc == ACL_HOST_BITS) {
		inet_ntop(rule->net.family, rule->net.bytes, net, sizeof(net));
		rules_fail(err, line, EINVAL, "'%s' has bits set past /%d (did you mean %s/%d?)",
		    rules_shown(addr, alen, shown, sizeof(shown)), rule->prefix, net, rule->prefix);
		return -1;
	}
	if (rc < 0) {
		rules_fail(err, line, EINVAL, "'%s' is not an address or ADDRESS/PREFIX",
		    rules_shown(addr, alen, shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

/* One line, from p to end (its newline left out): a rule, a comment, or nothing. */
static int
rules_line(const char *p, const char *end, int line, struct rules *out, struct rules_error *err)
{
	char shown[RULES_WORD_SHOWN + 4];
	const char *kw, *addr, *extra;
	size_t klen, alen, xlen;
	struct acl_rule rule;
	bool allow;

	if ((kw = rules_word(&p, end, &klen)) == NULL)
		return 0;
	if ((klen != 5 || memcmp(kw, "allow", 5) != 0) && (klen != 4 || memcmp(kw, "deny", 4) != 0)) {
		rules_fail(err, line, EINVAL, "'%s' is not a rule: expected allow or deny",
		    rules_shown(kw, klen, shown, sizeof(shown)));
		return -1;
	}
	allow = klen == 5;
	if ((addr = rules_word(&p, end, &alen)) == NULL) {
		rules_fail(err, line, EINVAL, "%s needs an address or ADDRESS/PREFIX", allow ? "allow" : "deny");
		return -1;
	}
	if ((extra = rules_word(&p, end, &xlen)) != NULL) {
		rules_fail(err, line, EINVAL, "'%s' after the address: one rule a line",
		    rules_shown(extra, xlen, shown, sizeof(shown)));
		return -1;
	}
	if (rules_address(addr, alen, allow, line, &rule, err) < 0)
		return -1;
	if (out->acl.n >= RULES_MAX) {
		rules_fail(err, line, EINVAL, "more than %d rules", RULES_MAX);
		return -1;
	}
	if (rules_add(out, &rule, line) < 0) {
		rules_fail(err, line, ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

int
rules_parse(const char *text, size_t len, struct rules *out, struct rules_error *err)
{
	const char *p = text, *end = text + len, *nl;
	int line = 0;

	*out = (struct rules){ .acl = { NULL, 0, false }, .lines = NULL };
	while (p < end) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL) {
			rules_fail(err, line, EINVAL, "a NUL byte: not a text file");
			goto failed;
		}
		if (rules_line(p, nl, line, out, err) < 0)
			goto failed;
		p = nl + (nl < end);
	}
	return 0;
failed:
	rules_free(out);
	return -1;
}

/* How the checks name a rule of the merged set: "--deny 10.0.0.0/8", or "deny 10.0.0.0/8 (line 3)". */
static void
rules_name(const struct acl *all, size_t ncmd, const struct rules *file, size_t i, char *buf,
    size_t len)
{
	char net[ACL_RULE_TEXT];
	const struct acl_rule *r = &all->rules[i];

	acl_rule_text(r, net, sizeof(net));
	if (i < ncmd)
		snprintf(buf, len, "--%s %s", r->allow ? "allow" : "deny", net);
	else
		snprintf(buf, len, "%s %s (line %d)", r->allow ? "allow" : "deny", net,
		    file->lines[i - ncmd]);
}

int
rules_merge(const struct acl *cmd, const struct rules *file, struct acl *out)
{
	size_t i;

	*out = (struct acl){ NULL, 0, false };
	for (i = 0; i < cmd->n + file->acl.n; i++)
		if (acl_add(out, i < cmd->n ? &cmd->rules[i] : &file->acl.rules[i - cmd->n]) < 0) {
			acl_free(out);
			return -1;
		}
	return 0;
}

int
rules_check(const struct acl *cmd, const struct rules *file, struct rules_error *err)
{
	char idle[ACL_RULE_TEXT + 32], cover[ACL_RULE_TEXT + 32];
	struct acl all;
	size_t ri, ci;
	int line;

	if (rules_merge(cmd, file, &all) < 0) {
		rules_fail(err, 0, ENOMEM, "out of memory");
		return -1;
	}
	if (acl_idle(&all, &ri, &ci) == 0) {
		acl_free(&all);
		return 0;
	}
	rules_name(&all, cmd->n, file, ri, idle, sizeof(idle));
	rules_name(&all, cmd->n, file, ci, cover, sizeof(cover));
	/* the line to fix: the idle rule's, or the file's rule that made a command-line one idle */
	line = ri >= cmd->n ? file->lines[ri - cmd->n] : ci >= cmd->n ? file->lines[ci - cmd->n] : 0;
	if (ri == ci)
		rules_fail(err, line, EINVAL, "%s cannot take effect: it is outside every allow rule, "
		    "and only those are let in", idle);
	else
		rules_fail(err, line, EINVAL, "%s cannot take effect: %s covers it%s", idle, cover,
		    all.rules[ri].allow && !all.rules[ci].allow ? " (deny wins)" : "");
	acl_free(&all);
	return -1;
}

/* The whole of a regular file, at most RULES_FILE_MAX bytes, into a buffer of its own. */
static char *
rules_slurp(int fd, size_t *len, struct rules_error *err)
{
	struct stat st;
	char *buf;
	size_t have = 0;
	ssize_t n = 1;

	if (fstat(fd, &st) < 0) {
		rules_fail(err, 0, errno, "%s", strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		rules_fail(err, 0, EINVAL, "not a regular file");
		return NULL;
	}
	if (st.st_size > RULES_FILE_MAX) {
		rules_fail(err, 0, EFBIG, "larger than %d bytes", RULES_FILE_MAX);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rules_fail(err, 0, ENOMEM, "out of memory");
		return NULL;
	}
	/* one byte more than fstat said: a file that grew meanwhile is read short, never overrun */
	while (have < (size_t)st.st_size + 1 && (n = io_read(fd, buf + have, (size_t)st.st_size + 1 - have)) > 0)
		have += (size_t)n;
	if (n < 0) {
		rules_fail(err, 0, errno, "%s", strerror(errno));
		free(buf);
		return NULL;
	}
	if (have > (size_t)st.st_size) {
		rules_fail(err, 0, EAGAIN, "it grew while it was read");
		free(buf);
		return NULL;
	}
	*len = have;
	return buf;
}

int
rules_read(int fd, const struct acl *cmd, struct rules *out, struct rules_error *err)
{
	size_t len = 0;
	char *text = rules_slurp(fd, &len, err);
	int rc = -1, saved;

	*out = (struct rules){ .acl = { NULL, 0, false }, .lines = NULL };
	if (text != NULL && rules_parse(text, len, out, err) == 0) {
		if ((rc = rules_check(cmd, out, err)) < 0) {
			saved = errno;
			rules_free(out);
			errno = saved;
		}
	}
	saved = errno;
	free(text);
	close(fd);
	errno = saved;
	return rc;
}

const char *
rules_describe(const char *path, const struct rules_error *err, char *buf, size_t len)
{
	if (err->line > 0)
		snprintf(buf, len, "%s:%d: %s", path, err->line, err->what);
	else
		snprintf(buf, len, "%s: %s", path, err->what);
	return buf;
}

int
rules_open(const char *path)
{
	return open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

void
rules_free(struct rules *r)
{
	acl_free(&r->acl);
	free(r->lines);
	r->lines = NULL;
}
