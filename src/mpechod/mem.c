/* mem: anonymous mappings for the supervisor's tables, and libraries kept from the children. */
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void *
mem_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *
mem_private(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int saved;

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_DONTFORK) < 0) {
		saved = errno;
		munmap(p, len);
		errno = saved;
		return NULL;
	}
	return p;
}

void *
mem_published(size_t len, void **writer)
{
	int fd = memfd_create("mpechod-published", MFD_CLOEXEC | MFD_ALLOW_SEALING), saved;
	void *w = MAP_FAILED, *r = MAP_FAILED;

	if (fd < 0)
		return NULL;
	/* Sealed between the two mappings: the later one, read-only, can never be made writable. */
	if (ftruncate(fd, (off_t)len) < 0 ||
	    (w = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED ||
	    madvise(w, len, MADV_DONTFORK) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0 ||
	    (r = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		saved = errno;
		if (w != MAP_FAILED)
			munmap(w, len);
		close(fd);
		errno = saved;
		return NULL;
	}
	close(fd);
	*writer = w;
	return r;
}

void
mem_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

/* AddressSanitizer reads every loaded module's headers in the children too: keep them there. */
#if defined(__SANITIZE_ADDRESS__)
#define MEM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_SANITIZED 1
#endif
#endif

int
mem_dontfork_library(const char *name)
{
#ifdef MEM_SANITIZED
	(void)name;
	return 0;
#else
	FILE *maps = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned long lo, hi;
	const char *path, *base;
	int n = 0;

	if (maps == NULL)
		return -1;
	while (fgets(line, sizeof(line), maps) != NULL) {
		if ((path = strchr(line, '/')) == NULL || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		base = strrchr(path, '/') + 1;
		if (strncmp(base, name, strlen(name)) == 0 &&
		    madvise((void *)lo, hi - lo, MADV_DONTFORK) == 0)
			n++;
	}
	fclose(maps);
	return n;
#endif
}
