/* sockfile: Unix socket files made, replaced and removed through their directory's descriptor. */
#include "sockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKFILE_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/*
 * Open the directory of path (O_PATH, following links as the path says, once)
 * and put its last name in name. The descriptor, or -1 with errno.
 */
static int
sockfile_dir(const char *path, char name[SOCKFILE_PATH_MAX])
{
	const char *slash = strrchr(path, '/'), *base = slash != NULL ? slash + 1 : path;
	char dir[SOCKFILE_PATH_MAX];
	size_t n = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);

	if (strlen(path) >= SOCKFILE_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		errno = EISDIR;
		return -1;
	}
	strcpy(name, base);
	memcpy(dir, n > 0 ? path : ".", n > 0 ? n : 1);
	dir[n > 0 ? n : 1] = '\0';
	return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static bool
sockfile_same(const struct stat *st, dev_t dev, ino_t ino)
{
	return st->st_dev == dev && st->st_ino == ino;
}

/* Close dir keeping errno; returns rc. */
static int
sockfile_done(int dir, int rc)
{
	int saved = errno;

	close(dir);
	errno = saved;
	return rc;
}

/* 1 if a server answers at path (a full backlog is one), 0 if none does, -1 with errno. */
static int
sockfile_answers(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, rc, saved;

	strcpy(sun.sun_path, path);	/* sockfile_dir() checked its length */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (rc == 0 || saved == EAGAIN || saved == EINPROGRESS)
		return 1;
	if (saved == ECONNREFUSED || saved == ENOENT)
		return 0;
	errno = saved;
	return -1;
}

int
sockfile_clear(const char *path)
{
	char name[SOCKFILE_PATH_MAX];
	struct stat st, now;
	int dir = sockfile_dir(path, name), answers;

	if (dir < 0)
		return -1;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sockfile_done(dir, errno == ENOENT ? 0 : -1);
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return sockfile_done(dir, -1);
	}
	if ((answers = sockfile_answers(path)) != 0) {
		if (answers > 0)
			errno = EADDRINUSE;
		return sockfile_done(dir, -1);
	}
	/* Stale: the very file checked goes, from this directory; if it changed, bind(2) will say. */
	if (fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && sockfile_same(&now, st.st_dev, st.st_ino))
		unlinkat(dir, name, 0);
	return sockfile_done(dir, 0);
}

/* The file bound as name in dir, opened without following it: a socket of this user, given its owner. */
static int
sockfile_settle(int dir, const char *name, const struct sockfile_perms *perms, struct sockfile *sf)
{
	struct stat ds, st;
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		errno = errno == ENOENT ? EXDEV : errno;	/* bound elsewhere: a directory changed */
		return -1;
	}
	if (fstat(fd, &st) < 0 || fstat(dir, &ds) < 0)
		return sockfile_done(fd, -1);
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		errno = EXDEV;		/* swapped for something else since bind(2) */
		return sockfile_done(fd, -1);
	}
	if (perms->owner_set && fchownat(fd, "", perms->owner, perms->group, AT_EMPTY_PATH) < 0)
		return sockfile_done(fd, -1);
	*sf = (struct sockfile){ .set = true, .dir_dev = ds.st_dev, .dir_ino = ds.st_ino,
	    .dev = st.st_dev, .ino = st.st_ino };
	return sockfile_done(fd, 0);
}

int
sockfile_bind(int fd, const char *path, const struct sockfile_perms *perms, struct sockfile *sf)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char name[SOCKFILE_PATH_MAX];
	mode_t old = 0;
	int dir, rc;

	sf->set = false;
	if ((dir = sockfile_dir(path, name)) < 0)
		return -1;
	strcpy(sun.sun_path, path);
	if (perms->mode >= 0)	/* bind(2) makes the file 0777 less the umask: no chmod(2) after */
		old = umask((mode_t)(~perms->mode & 0777));
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (perms->mode >= 0)
		umask(old);
	if (rc == 0)
		rc = sockfile_settle(dir, name, perms, sf);
	return sockfile_done(dir, rc);
}

int
sockfile_chmod(const char *path, int mode)
{
	char name[SOCKFILE_PATH_MAX];
	struct stat st;
	int dir = sockfile_dir(path, name);

	if (dir < 0)
		return -1;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sockfile_done(dir, -1);
	if (!S_ISSOCK(st.st_mode)) {
		errno = EXDEV;
		return sockfile_done(dir, -1);
	}
	/* a link put there since is not followed: EOPNOTSUPP */
	return sockfile_done(dir, fchmodat(dir, name, (mode_t)mode, AT_SYMLINK_NOFOLLOW));
}

int
sockfile_note(const char *path, struct sockfile *sf)
{
	char name[SOCKFILE_PATH_MAX];
	struct stat ds, st;
	int dir = sockfile_dir(path, name);

	sf->set = false;
	if (dir < 0)
		return -1;
	if (fstat(dir, &ds) < 0 || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sockfile_done(dir, -1);
	if (!S_ISSOCK(st.st_mode)) {
		errno = EXDEV;
		return sockfile_done(dir, -1);
	}
	*sf = (struct sockfile){ .set = true, .dir_dev = ds.st_dev, .dir_ino = ds.st_ino,
	    .dev = st.st_dev, .ino = st.st_ino };
	return sockfile_done(dir, 0);
}

/* The directory of path, if it is the one sf was noted in and name there is still its file. */
static int
sockfile_dir_of(const char *path, char name[SOCKFILE_PATH_MAX], const struct sockfile *sf)
{
	struct stat ds, st;
	int dir = sf->set ? sockfile_dir(path, name) : -1;

	if (dir < 0)
		return -1;
	if (fstat(dir, &ds) < 0 || !sockfile_same(&ds, sf->dir_dev, sf->dir_ino) ||
	    fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !sockfile_same(&st, sf->dev, sf->ino)) {
		errno = EXDEV;
		return sockfile_done(dir, -1);
	}
	return dir;
}

int
sockfile_rename(const char *from, const char *to, const struct sockfile *sf)
{
	const char *slash = strrchr(to, '/'), *target = slash != NULL ? slash + 1 : to;
	char name[SOCKFILE_PATH_MAX];
	struct stat st;
	int dir;

	if (strncmp(from, to, (size_t)(target - to)) != 0 || strchr(from + (target - to), '/') != NULL) {
		errno = EXDEV;	/* not the same directory */
		return -1;
	}
	if ((dir = sockfile_dir_of(from, name, sf)) < 0)
		return -1;
	if (fstatat(dir, target, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISSOCK(st.st_mode)) {
		errno = EEXIST;		/* only a socket is replaced (a predecessor's) */
		return sockfile_done(dir, -1);
	}
	return sockfile_done(dir, renameat(dir, name, dir, target));
}

void
sockfile_remove(const char *path, struct sockfile *sf)
{
	char name[SOCKFILE_PATH_MAX];
	int dir = sockfile_dir_of(path, name, sf);

	sf->set = false;
	if (dir >= 0)
		sockfile_done(dir, unlinkat(dir, name, 0));
}
