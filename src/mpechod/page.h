/*
 * page: what the metrics listener's pages for browsers are made of: text made
 * safe for JSON and HTML, the status page's stylesheet and script, and the
 * Content-Security-Policy that admits exactly those two (by their SHA-256).
 */
#ifndef MPECHO_PAGE_H
#define MPECHO_PAGE_H

#include "metrics.h"

/* s as a JSON string, quotes included (RFC 8259; bytes past ASCII as \u00XX, like the log). */
void page_json_string(struct metrics_text *t, const char *s);

/* s as HTML text or an attribute value: & < > " ' as references, control bytes as U+FFFD. */
void page_html(struct metrics_text *t, const char *s);

/* page_asset.c: the stylesheet and the script, each inline in the page as it is here. */
extern const char page_style[], page_script[];

/*
 * The header lines a page is served with: a Content-Security-Policy that admits
 * nothing but page_style, page_script (by their SHA-256) and fetches from the
 * page's own origin, and no caching or sniffing. NULL if the hashes could not
 * be made (the page is then not served).
 */
const char *page_headers(void);

#endif
