/* service_discard: RFC 863, a sink: everything read is dropped; nothing is ever sent. */
#include "service.h"

#include <errno.h>

#include "stream.h"

static enum end
discard_run(struct stream *st)
{
	char buf[SERVICE_BUF];
	ssize_t n;

	while ((n = stream_read(st, buf, sizeof(buf))) > 0)
		;
	return n == 0 ? END_EOF : end_of_errno(errno);
}

const struct service service_discard = { "discard", discard_run, false };
