/* page: escaping for JSON and HTML, and the status page's assets with their CSP. */
#include "page.h"

void
page_json_string(struct metrics_text *t, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	metrics_printf(t, "\"");
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			metrics_printf(t, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			metrics_printf(t, "\\u%04x", *p);
		else
			metrics_printf(t, "%c", *p);
	}
	metrics_printf(t, "\"");
}

void
page_html(struct metrics_text *t, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		switch (*p) {
		case '&': metrics_printf(t, "&amp;"); break;
		case '<': metrics_printf(t, "&lt;"); break;
		case '>': metrics_printf(t, "&gt;"); break;
		case '"': metrics_printf(t, "&quot;"); break;
		case '\'': metrics_printf(t, "&#39;"); break;
		default:
			if (*p < 0x20 || *p == 0x7f || *p >= 0x80)
				metrics_printf(t, "&#xfffd;");
			else
				metrics_printf(t, "%c", *p);
		}
	}
}
