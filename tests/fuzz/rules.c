/*
 * rules: a libFuzzer target for the --rules file. Whatever the bytes, the
 * parser either returns rules, each from a line the text has and matching its
 * own network, or an error on such a line whose message is printable; and the
 * check runs on what it returned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct acl none = { NULL, 0, false };
	const char *text = (const char *)data;
	struct rules r;
	struct rules_error err = { -1, "" };
	int lines = 1;
	size_t i;

	for (i = 0; i < size; i++)
		lines += text[i] == '\n';
	if (rules_parse(text, size, &r, &err) < 0) {
		if (err.line < 1 || err.line > lines || err.what[0] == '\0' || r.acl.n != 0)
			abort();
		for (i = 0; err.what[i] != '\0'; i++)
			if ((unsigned char)err.what[i] < 0x20 || (unsigned char)err.what[i] >= 0x7f)
				abort();
		return 0;
	}
	if (r.acl.n > RULES_MAX)
		abort();
	for (i = 0; i < r.acl.n; i++)
		if (r.lines[i] < 1 || r.lines[i] > lines || (i > 0 && r.lines[i] <= r.lines[i - 1]) ||
		    !acl_permits(&(struct acl){ &r.acl.rules[i], 1, r.acl.rules[i].allow },
		    &r.acl.rules[i].net) != !r.acl.rules[i].allow)
			abort();
	if (rules_check(&none, &r, &err) < 0 && (err.line < 1 || err.line > lines))
		abort();
	rules_free(&r);
	return 0;
}
