/* log_throttle: at most so many lines of a kind a second, the rest counted and summed up. */
#include "log.h"

void
log_throttle_roll(struct log_throttle *t, int64_t now_ms, const char *held_event)
{
	if (now_ms - t->window_ms < 1000)
		return;
	if (t->held > 0)
		log_msg(LOG_LVL_WARN, "event=%s count=%llu", held_event, (unsigned long long)t->held);
	t->window_ms = now_ms;
	t->lines = 0;
	t->held = 0;
}

bool
log_throttle_allow(struct log_throttle *t, int64_t now_ms, const char *held_event)
{
	log_throttle_roll(t, now_ms, held_event);
	if (t->lines < t->max) {
		t->lines++;
		return true;
	}
	t->held++;
	return false;
}
