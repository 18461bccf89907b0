/*
 * cidr: a libFuzzer target for access rules. An accepted rule is a network
 * with no host bits set, and it matches its own network address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acl acl = { NULL, 0, false };
	struct acl_rule rule;
	char text[128];
	int rc;

	if (size >= sizeof(text) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rc = acl_parse(text, true, &rule);
	if (rc != 0 && rc != -1 && rc != ACL_HOST_BITS)
		abort();
	if (rc != 0)
		return 0;
	if (rule.prefix < 0 || rule.prefix > (rule.net.family == AF_INET ? 32 : 128))
		abort();
	if (acl_add(&acl, &rule) < 0)
		return 0;
	if (!acl_permits(&acl, &rule.net))
		abort();
	acl_free(&acl);
	return 0;
}
