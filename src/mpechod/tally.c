/* tally: counting what ended. */
#include "tally.h"

void
tally_end(struct tally *t, uint64_t *checks, enum session_kind kind, int reason, int64_t ms)
{
	if (kind != SESSION_SERVED) {
		if (kind == SESSION_CHECK)	/* one its PROXY header named was counted then */
			(*checks)++;
		return;
	}
	t->ended[reason >= 0 && reason < END_REASONS ? reason : END_ERROR]++;
	t->duration[end_bucket(ms)]++;
	t->duration_ms += (uint64_t)(ms > 0 ? ms : 0);
	t->served++;
}

uint64_t
tally_refused(const struct tally *t)
{
	uint64_t n = 0;
	int i;

	for (i = ADMITTED + 1; i < REFUSAL_COUNT; i++)	/* [ADMITTED] counts nothing */
		n += t->refused[i];
	return n;
}
