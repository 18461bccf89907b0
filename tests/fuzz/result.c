/*
 * result: a libFuzzer target for what mpecho-bench merge reads from outside:
 * JSON text, through the JSON reader and the result's checks. Whatever the
 * input, result_read_json() answers 0 or -1 with one line; a result it takes
 * is written back and read again to the same figures and intervals, and
 * merges with itself (twice the counts, the same number of intervals).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same intervals: times within a microsecond, the same counts and buckets. */
static int
same_intervals(const struct result *a, const struct result *b)
{
	size_t i;

	if (a->nintervals != b->nintervals)
		return 0;
	for (i = 0; i < a->nintervals; i++) {
		const struct sample *x = &a->intervals[i], *y = &b->intervals[i];

		if (x->ops != y->ops || x->conns != y->conns || x->bytes != y->bytes ||
		    x->errors != y->errors || x->bad != y->bad || x->phase != y->phase ||
		    x->nlat != y->nlat || x->lat_max != y->lat_max || x->p99 != y->p99 ||
		    (x->nlat > 0 && memcmp(x->lat, y->lat, x->nlat * sizeof(*x->lat)) != 0) ||
		    x->at - y->at > 1e-5 || y->at - x->at > 1e-5)
			return 0;
	}
	return 1;
}

/* Merged with itself: every interval in the slot of its twin, counts doubled. */
static void
merge_twice(struct result *r)
{
	static struct result out;
	struct result *in[] = { r, r };
	char why[512];
	size_t i;
	uint64_t a = 0, b = 0;

	if (result_merge(&out, in, 2, why, sizeof(why)) < 0)
		abort();
	for (i = 0; i < r->nintervals; i++)
		a += r->intervals[i].ops;
	for (i = 0; i < out.nintervals; i++)
		b += out.intervals[i].ops;
	if (out.nintervals > r->nintervals || b != 2 * a || out.ops != 2 * r->ops)
		abort();
	result_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result r, again;
	char why[512] = "", *text = NULL;
	size_t len = 0;
	FILE *f;

	if (result_read_json(&r, (const char *)data, size, why, sizeof(why)) < 0) {
		if (why[0] == '\0' || strchr(why, '\n') != NULL)
			abort();
		return 0;
	}
	if ((f = open_memstream(&text, &len)) == NULL)
		return 0;
	result_write_json(f, &r);
	fclose(f);
	if (result_read_json(&again, text, len, why, sizeof(why)) < 0 || again.mode != r.mode ||
	    again.ops != r.ops || again.lat.count != r.lat.count || again.lat.sum != r.lat.sum ||
	    memcmp(again.lat.buckets, r.lat.buckets, sizeof(r.lat.buckets)) != 0 ||
	    strcmp(again.host, r.host) != 0 || memcmp(&again.err, &r.err, sizeof(r.err)) != 0 ||
	    !same_intervals(&again, &r))
		abort();
	merge_twice(&r);
	result_free(&again);
	result_free(&r);
	free(text);
	return 0;
}
