/* admission: access rules and per-source limits in front of every session. */
#include "admission.h"

#include <stddef.h>
#include <stdlib.h>

#include "acl.h"
#include "limits.h"
#include "listener.h"

static const char *const admission_reasons[REFUSAL_COUNT] = {
	[REFUSED_ACL] = "acl",
	[REFUSED_PER_SOURCE] = "per-source",
	[REFUSED_RATE] = "rate",
};

int
admission_init(struct admission *a, const struct acl *acl, int max_per_source, int rate,
    int live)
{
	*a = (struct admission){ .acl = acl, .log = { .max = ADMISSION_LINES } };
	/* Room for every live session's address plus as many recently seen ones. */
	if ((max_per_source > 0 || rate > 0) &&
	    (a->limits = limits_new(2 * live + 1024, max_per_source, rate)) == NULL)
		return -1;
	return 0;
}

void
admission_free(struct admission *a)
{
	limits_free(a->limits);
	a->limits = NULL;
}

static enum refusal
admission_decide(struct admission *a, const struct peer *p, int64_t now_ms)
{
	if (!acl_permits(a->acl, &p->addr))
		return REFUSED_ACL;
	if (a->limits == NULL)
		return ADMITTED;
	switch (limits_admit(a->limits, &p->addr, now_ms)) {
	case LIMITS_OK:
		return ADMITTED;
	case LIMITS_PER_SOURCE:
		return REFUSED_PER_SOURCE;
	default:
		return REFUSED_RATE;
	}
}

enum refusal
admission_check(struct admission *a, const struct peer *p, int64_t now_ms)
{
	enum refusal why = admission_decide(a, p, now_ms);

	if (why == ADMITTED)
		return why;
	a->refused[why]++;
	if (log_throttle_allow(&a->log, now_ms, "refused-held"))
		log_msg(LOG_LVL_WARN, "event=refused peer=%s reason=%s", p->name,
		    admission_reasons[why]);
	return why;
}

void
admission_release(struct admission *a, const struct peer *p)
{
	if (a->limits != NULL)
		limits_release(a->limits, &p->addr);
}

int64_t
admission_tick(struct admission *a, int64_t now_ms)
{
	if (a->log.held == 0)
		return INT64_MAX;
	log_throttle_roll(&a->log, now_ms, "refused-held");
	return a->log.held > 0 ? a->log.window_ms + 1000 : INT64_MAX;
}
