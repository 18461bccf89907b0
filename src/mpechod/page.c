/* page: escaping for JSON and HTML, and the status page's assets with their CSP. */
#include "page.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

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

/* 'sha256-BASE64' of text, as a CSP source; -1 if OpenSSL failed. */
static int
page_hash(const char *text, char *out, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen;

	if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1)
		return -1;
	EVP_EncodeBlock(b64, md, (int)mdlen);
	return snprintf(out, n, "'sha256-%s'", b64) < (int)n ? 0 : -1;
}

const char *
page_headers(void)
{
	static char headers[512];
	char script[64], style[64];

	if (headers[0] != '\0')
		return headers;
	if (page_hash(page_script, script, sizeof(script)) < 0 || page_hash(page_style, style, sizeof(style)) < 0)
		return NULL;
	snprintf(headers, sizeof(headers), "Content-Security-Policy: default-src 'none'; script-src %s; "
	    "style-src %s; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
	    "frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
	    "Cache-Control: no-store\r\n", script, style);
	return headers;
}
