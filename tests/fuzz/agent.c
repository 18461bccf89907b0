/*
 * agent: a libFuzzer target for the judge of what a balancer sends the
 * --agent responder. Besides the sanitizers' checks: a known verdict, "more"
 * only under the cap, and a verdict that stays once decided, whatever follows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum agent_read r = agent_request((const char *)data, size), longer;
	char *more;

	if (r != AGENT_MORE && r != AGENT_LINE && r != AGENT_BAD)
		abort();
	if (r == AGENT_MORE && (size >= AGENT_LINE_MAX || memchr(data, '\n', size) != NULL))
		abort();
	if (r == AGENT_MORE || (more = malloc(size + 2)) == NULL)
		return 0;
	memcpy(more, data, size);
	memcpy(more + size, "x\n", 2);
	longer = agent_request(more, size + 2);
	free(more);
	if (longer != r)
		abort();
	return 0;
}
