/* listener_unix: bind a Unix-domain stream socket at a path, replacing only a stale one. */
#include "listener_unix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "sockfile.h"

/* Room at the path: a stale socket is replaced (sockfile.c), anything else refused. 0, or -1 with err. */
static int
unix_clear(const char *path, char *err, size_t errlen)
{
	if (sockfile_clear(path) == 0)
		return 0;
	if (errno == EEXIST)
		snprintf(err, errlen, "cannot listen on unix:%s: it exists and is not a socket", path);
	else if (errno == EADDRINUSE)
		snprintf(err, errlen, "cannot listen on unix:%s: a server is listening there", path);
	else
		log_errtext(err, errlen, "cannot listen on unix:%s", path);
	return -1;
}

int
listener_unix_open(struct listeners *ls, const struct listen_spec *spec,
    const struct listen_params *lp, char *err, size_t errlen)
{
	struct sockfile_perms perms = { .mode = lp->socket_mode, .owner_set = lp->owner_set,
	    .owner = lp->owner, .group = lp->group };
	struct sockaddr_un sun;
	struct sockfile sf = { .set = false };
	int fd;

	if (strlen(spec->path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "cannot listen on unix:%s: the path is longer than %zu bytes",
		    spec->path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (unix_clear(spec->path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || sockfile_bind(fd, spec->path, &perms, &sf) < 0 || listen(fd, lp->backlog) < 0) {
		snprintf(err, errlen, "cannot listen on unix:%s: %s", spec->path, errno == EXDEV ?
		    "its directory or file changed while it was being set up" : strerror(errno));
		if (fd >= 0)
			close(fd);
		sockfile_remove(spec->path, &sf);
		return -1;
	}
	if (listeners_append(ls, fd) < 0) {
		sockfile_remove(spec->path, &sf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ls->v[ls->n - 1].file = sf;
	return 0;
}
