/* banner: checking and expanding --banner. */
#include "banner.h"

#include <stdio.h>
#include <string.h>

int
banner_check(const char *tmpl, char *err, size_t errlen)
{
	const char *p;

	if (strlen(tmpl) > 200) {
		snprintf(err, errlen, "--banner is longer than 200 characters");
		return -1;
	}
	for (p = tmpl; *p != '\0'; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			snprintf(err, errlen, "--banner may not hold control characters");
			return -1;
		}
		if (*p == '%' && (p[1] == '\0' || strchr("hpa%", p[1]) == NULL)) {
			snprintf(err, errlen, "unknown expansion '%%%.1s' in --banner: expected %%h, %%p, %%a or %%%%",
			    p + 1);
			return -1;
		}
		if (*p == '%')
			p++;
	}
	return 0;
}

size_t
banner_expand(const char *tmpl, const char *host, long pid, const char *addr, char *out, size_t cap)
{
	char num[24];
	const char *piece;
	size_t o = 0, n;

	for (; *tmpl != '\0'; tmpl++) {
		piece = NULL;
		if (*tmpl == '%' && tmpl[1] != '\0') {
			tmpl++;
			snprintf(num, sizeof(num), "%ld", pid);
			piece = *tmpl == 'h' ? host : *tmpl == 'p' ? num : *tmpl == 'a' ? addr : "%";
		}
		n = piece != NULL ? strlen(piece) : 1;
		if (o + n + 2 >= cap)
			break;
		memcpy(out + o, piece != NULL ? piece : tmpl, n);
		o += n;
	}
	memcpy(out + o, "\r\n", 2);
	return o + 2;
}
