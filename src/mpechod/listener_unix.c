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

/*
 * What is at the path already: nothing (0), a stale socket that is now
 * removed (0), or -1 with err: not a socket, or a server answers on it.
 */
static int
unix_clear(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc, err_connect;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "cannot listen on unix:%s: %s",
		    sun->sun_path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "cannot listen on unix:%s: it exists and is not a socket",
		    sun->sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return snprintf(err, errlen, "socket: %s", strerror(errno)), -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	err_connect = errno;
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "cannot listen on unix:%s: a server is listening there",
		    sun->sun_path);
		return -1;
	}
	if (err_connect != ECONNREFUSED && err_connect != ENOENT) {
		snprintf(err, errlen, "cannot listen on unix:%s: %s", sun->sun_path, strerror(err_connect));
		return -1;
	}
	unlink(sun->sun_path);	/* stale: its server is gone */
	return 0;
}

/* Mode and owner, on the path (a socket's permissions are its file's). 0, or -1 with err. */
static int
unix_permissions(const char *path, const struct listen_params *lp, char *err, size_t errlen)
{
	if (lp->socket_mode >= 0 && chmod(path, (mode_t)lp->socket_mode) < 0) {
		snprintf(err, errlen, "cannot set the mode of unix:%s: %s", path, strerror(errno));
		return -1;
	}
	if (lp->owner_set && chown(path, lp->owner, lp->group) < 0) {
		snprintf(err, errlen, "cannot give unix:%s to its user: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
listener_unix_open(struct listeners *ls, const struct listen_spec *spec,
    const struct listen_params *lp, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(spec->path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "cannot listen on unix:%s: the path is longer than %zu bytes",
		    spec->path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	err[0] = '\0';
	memcpy(sun.sun_path, spec->path, strlen(spec->path) + 1);
	if (unix_clear(&sun, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "cannot listen on unix:%s: %s", spec->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (unix_permissions(spec->path, lp, err, errlen) < 0 || listen(fd, lp->backlog) < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "cannot listen on unix:%s: %s", spec->path, strerror(errno));
		close(fd);
		unlink(spec->path);
		return -1;
	}
	if (listeners_append(ls, fd) < 0) {
		unlink(spec->path);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ls->v[ls->n - 1].bound_path = true;
	return 0;
}
