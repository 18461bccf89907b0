/*
 * merge: mpecho-bench merge [--json] FILE...: the results of runs made apart
 * (generators on several machines) as one result, as if one run had done it
 * all: counts summed, percentiles from the summed histograms, rates over the
 * union of the measured windows, and the runs' intervals as one series by
 * wall-clock time (sample.c). A file holds one result a line, as --json
 * writes them; other lines (a pod's log may hold them) are passed over.
 */
#include "html.h"
#include "result.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "log.h"
#include "mpecho.h"

#define MERGE_MAX 4096			/* results merged at most */

static const char merge_usage[] =
"Usage: mpecho-bench merge [--json] [--html PAGE] FILE...\n"
"Merge the results of mpecho-bench --json runs (on several machines, say) into\n"
"one, as if one run had done it all: counts summed, latency percentiles from the\n"
"summed histograms, rates over the union of the measured time windows; their\n"
"intervals as one series by wall-clock time, each in the slot (as long as the\n"
"longest interval asked for) its middle falls in: counts summed, histograms\n"
"merged.\n"
"A FILE ('-': standard input) holds one result a line; lines that do not begin\n"
"with '{' are passed over, so a pod's whole log can be given.\n"
"Results of different modes, targets, message sizes, TLS or --rate are refused.\n"
"\n"
"      --json           print the merged result as one JSON object\n"
"      --html PAGE      also write it as one self-contained web page, as a run's:\n"
"                       settings, figures, charts over time (the runs' intervals\n"
"                       merged by wall-clock time), latency distribution\n"
"  -h, --help           show this help and exit\n"
"\n"
"Exit status: as a run's, from the merged figures and the worst status among\n"
"the results (0, 1 or 3); 2 usage error; 4 a file that cannot be read, holds no\n"
"result, or a result that is malformed or cannot be merged with the others, or\n"
"the --html page that cannot be written.\n";

/* The whole of a file (or standard input), NUL-terminated; NULL with errno. */
static char *
merge_slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t cap = 65536, n = 0;
	char *buf = NULL, *more;

	if (f == NULL)
		return NULL;
	for (;;) {
		if ((more = realloc(buf, cap + 1)) == NULL)
			break;
		buf = more;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || cap > JSON_MAX_SIZE)
			break;
		cap *= 2;
	}
	if (more == NULL || ferror(f) || n > JSON_MAX_SIZE) {
		free(buf);
		buf = NULL;
		errno = more == NULL ? ENOMEM : n > JSON_MAX_SIZE ? EFBIG : EIO;
	} else {
		buf[n] = '\0';
		*len = n;
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

/* Each result in one file's text, appended to rs[*n]. 0, or -1 with the line that failed in why. */
static int
merge_parse(const char *path, char *text, size_t len, struct result **rs, int *n, char *why,
    size_t whylen)
{
	char *line = text, *nl, reason[384];
	int lineno = 1, found = 0;

	for (; line < text + len; line = nl + 1, lineno++) {
		if ((nl = memchr(line, '\n', (size_t)(text + len - line))) == NULL)
			nl = text + len;
		if (*line != '{')
			continue;
		if (*n == MERGE_MAX || (rs[*n] = malloc(sizeof(**rs))) == NULL) {
			snprintf(why, whylen, "%s: %s", path, *n == MERGE_MAX ?
			    "more than 4096 results" : "out of memory");
			return -1;
		}
		if (result_read_json(rs[(*n)++], line, (size_t)(nl - line), reason, sizeof(reason)) < 0) {
			snprintf(why, whylen, "%s, line %d: not a result mpecho-bench can merge: %s", path,
			    lineno, reason);
			return -1;
		}
		found++;
	}
	if (found == 0)
		snprintf(why, whylen, "%s: no result in it (no line beginning with '{')", path);
	return found > 0 ? 0 : -1;
}

/* Read every file's results: 0, or -1 with why set. */
static int
merge_read(char **paths, int npaths, struct result **rs, int *n, char *why, size_t whylen)
{
	size_t len;
	char *text;
	int i, rc = 0;

	for (i = 0; i < npaths && rc == 0; i++) {
		if ((text = merge_slurp(paths[i], &len)) == NULL) {
			log_errtext(why, whylen, "cannot read %s", paths[i]);
			return -1;
		}
		rc = merge_parse(paths[i], text, len, rs, n, why, whylen);
		free(text);
	}
	return rc;
}

/* --html PAGE: the merged result's page; the exit status then (4 if it cannot be written). */
static int
merge_html(const char *path, const struct result *out)
{
	FILE *f = fopen(path, "w");

	if (f != NULL)
		html_report(f, out);
	if (f == NULL || ferror(f) || fclose(f) != 0) {
		log_warn("merge: cannot write %s", path);
		return EXIT_NOT_RUN;
	}
	return out->status;
}

static const struct option merge_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "html", required_argument, NULL, 'H' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int
merge_main(int argc, char **argv)
{
	static struct result out;
	struct result **rs = calloc(MERGE_MAX, sizeof(*rs));
	char why[768], msg[128];
	const char *html = NULL;
	bool json = false;
	int c, i, n = 0, rc;

	opterr = 0;
	optind = 0;	/* getopt's whole reset (see cli.h) */
	while ((c = getopt_long(argc, argv, ":h", merge_options, NULL)) != -1) {
		if (c == 'h')
			return fputs(merge_usage, stdout) == EOF ? EXIT_NOT_RUN : EXIT_OK;
		if (c != 'j' && c != 'H')
			fatalx(EXIT_USAGE, "merge: %s (see mpecho-bench merge --help)",
			    cli_complaint(c, argv, merge_options, msg, sizeof(msg)));
		json |= c == 'j';
		html = c == 'H' ? optarg : html;
	}
	if (optind == argc)
		fatalx(EXIT_USAGE, "merge: no file: expected one or more results of --json");
	if (rs == NULL)
		fatalx(EXIT_NOT_RUN, "out of memory");
	rc = merge_read(argv + optind, argc - optind, rs, &n, why, sizeof(why)) < 0 ||
	    result_merge(&out, rs, n, why, sizeof(why)) < 0 ? -1 : 0;
	for (i = 0; i < n; i++) {
		result_free(rs[i]);
		free(rs[i]);
	}
	free(rs);
	if (rc < 0)
		fatalx(EXIT_NOT_RUN, "%s", why);
	if (json)
		result_write_json(stdout, &out);
	else
		report_text(stdout, &out);
	rc = html != NULL ? merge_html(html, &out) : out.status;
	result_free(&out);
	return rc;
}
