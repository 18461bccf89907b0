/* mem: anonymous mappings for the supervisor's tables. */
#include "mem.h"

#include <errno.h>
#include <sys/mman.h>

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

void
mem_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}
