/*
 * sockfile: the files of Unix sockets (-l unix:PATH, --upgrade-socket), made,
 * replaced and removed without ever touching a file that is not provably the
 * server's own, however the directories around them change meanwhile (a root
 * server may be told to use a directory others can write).
 *
 * Every step that changes a file works relative to one descriptor of the
 * socket's directory, opened once (O_PATH), never through the path again: a
 * directory swapped for a link between two steps cannot send a later step
 * elsewhere, and unlinkat(2) and fchownat(2) with AT_SYMLINK_NOFOLLOW never
 * follow a link. What is removed must still be the very file (device and
 * inode) that was checked or bound, in that same directory. The mode is set
 * by the umask at bind(2) time, not by chmod(2), which follows links. Only
 * bind(2) and connect(2) take a path (Linux has no bindat); the bound file is
 * then checked through the directory's descriptor, and refused if it is not
 * there.
 */
#ifndef MPECHO_SOCKFILE_H
#define MPECHO_SOCKFILE_H

#include <stdbool.h>
#include <sys/types.h>

/* A socket file this server made or took over: removed at exit if it is still that file. */
struct sockfile {
	bool set;
	dev_t dir_dev, dev;
	ino_t dir_ino, ino;
};

/* What bind puts at the path: its mode (-1: as the umask leaves it) and owner. */
struct sockfile_perms {
	int mode;
	bool owner_set;
	uid_t owner;
	gid_t group;
};

/*
 * Make room at path for a new socket: nothing there (0), or a stale socket,
 * one nobody answers on, removed (0). Else -1 with errno: EEXIST (something
 * that is not a socket), EADDRINUSE (a server answers there), or the error.
 */
int sockfile_clear(const char *path);

/*
 * Bind fd at path with perms, and note the file in sf. 0, or -1 with errno
 * (EXDEV: the file was not there, or not a socket of this user, once bound:
 * the directory or the file changed meanwhile).
 */
int sockfile_bind(int fd, const char *path, const struct sockfile_perms *perms, struct sockfile *sf);

/*
 * Give the socket file at path this mode (one handed over: --socket-mode),
 * never following a link. 0, or -1 with errno (EXDEV: not a socket).
 */
int sockfile_chmod(const char *path, int mode);

/* Note the socket file now at path (a listener taken over from a predecessor). 0, or -1 with errno. */
int sockfile_note(const char *path, struct sockfile *sf);

/*
 * Rename the file noted in sf from `from` to `to`, in the same directory,
 * replacing only a socket there. 0, or -1 with errno (EEXIST: something else
 * is at `to`).
 */
int sockfile_rename(const char *from, const char *to, const struct sockfile *sf);

/* Remove path if it is still the file noted in sf, in the same directory; sf is unset. */
void sockfile_remove(const char *path, struct sockfile *sf);

#endif
