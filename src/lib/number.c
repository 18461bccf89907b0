/* number: range-checked parsing of whole numbers. */
#include "number.h"

#include <errno.h>
#include <stdlib.h>

int
number_parse(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	if (text[0] == '\0' || text[0] == ' ' || text[0] == '+')
		goto invalid;
	v = strtol(text, &end, 10);
	if (*end != '\0' || end == text)
		goto invalid;
	if (errno == ERANGE || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}
