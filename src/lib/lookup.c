/* lookup: a static build looks names up in the files and DNS only (lookup.h says why). */
#include "lookup.h"

#include <nss.h>

void
lookup_init(void)
{
	if (!MPECHO_STATIC)
		return;
	__nss_configure_lookup("passwd", "files");
	__nss_configure_lookup("group", "files");
	__nss_configure_lookup("services", "files");
	__nss_configure_lookup("hosts", "files dns");
}
