/* orphan: a forked child that ends with its parent, rather than live on without it. */
#include "orphan.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

int
orphan_watch(pid_t parent, int sig)
{
	int rc = prctl(PR_SET_PDEATHSIG, sig);

	if (getppid() != parent)
		raise(sig);	/* it died before the request above */
	return rc;
}
