/*
 * supervisor_rules: the access rules in force. The command line's --allow and
 * --deny stay; the --rules file's are read at start and again on SIGHUP, and
 * the two, merged, are published in shared memory, where the supervisor's
 * own admission (fork model), the workers (prefork, loop) and the UDP
 * process take them up at their next judgement.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acl_shared.h"
#include "log.h"
#include "options.h"
#include "rules.h"
#include "supervisor.h"

/* Publish the command line's rules and file's; 0, or -1 with errno. */
static int
supervisor_rules_publish(struct supervisor *sv, const struct rules *file)
{
	struct acl all;
	int rc;

	if (rules_merge(&sv->cfg->acl, file, &all) < 0)
		return -1;
	rc = acl_shared_publish(sv->rules, &all);
	acl_free(&all);
	return rc;
}

int
supervisor_rules_start(struct supervisor *sv, const struct rules *file)
{
	size_t cap = sv->cfg->acl.n + (sv->cfg->rules != NULL ? RULES_MAX : 0);

	if ((sv->rules = acl_shared_new(cap)) == NULL || supervisor_rules_publish(sv, file) < 0)
		return -1;
	admission_follow(&sv->adm, sv->rules);
	return 0;
}

void
supervisor_rules_reload(struct supervisor *sv)
{
	const char *path = sv->cfg->rules;
	struct rules file;
	struct rules_error err;
	char msg[sizeof(err.what) + 4200];
	size_t i, allow = 0;
	int fd;

	if (path == NULL)
		return;
	if ((fd = privsep_run(&sv->privsep, PRIVSEP_RULES)) < 0) {
		err.line = 0;
		log_errtext(err.what, sizeof(err.what), "cannot open it");
		goto failed;
	}
	if (rules_read(fd, &sv->cfg->acl, &file, &err) < 0)
		goto failed;
	if (supervisor_rules_publish(sv, &file) < 0) {
		err.line = 0;
		snprintf(err.what, sizeof(err.what), "%s", strerror(errno));
		rules_free(&file);
		goto failed;
	}
	for (i = 0; i < file.acl.n; i++)
		allow += file.acl.rules[i].allow;
	log_msg(LOG_LVL_NOTICE, "event=rules-reload file=%s allow=%zu deny=%zu", log_qf("%s", path),
	    allow, file.acl.n - allow);
	rules_free(&file);
	return;
failed:
	log_msg(LOG_LVL_ERROR, "event=rules-reload-failed error=%s action=kept",
	    log_qf("%s", rules_describe(path, &err, msg, sizeof(msg))));
}
