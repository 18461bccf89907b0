/*
 * proxy: a libFuzzer target for the PROXY protocol parser and for taking a
 * header off a socket (proxy_wait). Besides the sanitizers' checks, it
 * asserts what the parser promises: an answer of -1, 0 or a length that fits
 * its version, a reason with every refusal, and the same answer for every
 * longer input once the header is decided. And what the reader promises, the
 * input written to a socket pair in pieces, then closed: an answer that agrees
 * with the parser's, every byte after the header left in the socket, and
 * never a wait once the sender is gone (a spin in the server).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"
#include "proxy_wait.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Steps while the socket has bytes to give; the answer once it is not AGAIN. */
static enum proxy_wait_result
fuzz_steps(struct proxy_wait *w, int fd)
{
	enum proxy_wait_result r = PROXY_WAIT_AGAIN;
	int i;

	for (i = 0; i < 8 && r == PROXY_WAIT_AGAIN; i++)
		r = proxy_wait_step(w, fd);
	return r;
}

/* What a done header left in the socket must be the input after it, byte for byte. */
static void
fuzz_rest(int fd, const uint8_t *data, size_t size, long total)
{
	unsigned char rest[2048];
	ssize_t n = recv(fd, rest, sizeof(rest), MSG_DONTWAIT);

	if (total > (long)size || n != (ssize_t)(size - (size_t)total) ||
	    (n > 0 && memcmp(rest, data + total, (size_t)n) != 0))
		abort();
}

/* Whether the reader's answer r agrees with the parser's n on the whole input. */
static int
fuzz_agrees(enum proxy_wait_result r, const struct proxy_wait *w, long n, size_t size,
    const struct proxy_header *h)
{
	if (r == PROXY_WAIT_FAILED)
		return w->why != NULL && (n <= 0 || n > (long)size);
	if (r == PROXY_WAIT_CHECK)
		return size == 0 || (n == (long)size && h->local);
	return r == PROXY_WAIT_DONE && n > 0 && n <= (long)size;
}

/* The last byte sets the size of the pieces the input is written in (64 at most). */
static void
fuzz_wait(const uint8_t *data, size_t size)
{
	struct proxy_wait w;
	struct proxy_header h;
	enum proxy_wait_result r = PROXY_WAIT_AGAIN;
	size_t piece = size > 0 ? 1 + data[size - 1] % 48 : 1, off;
	const char *why;
	int sv[2];
	long n;

	if (size > 1024 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	if (piece < size / 64 + 1)
		piece = size / 64 + 1;	/* each write takes buffer room: at most 64 of them */
	proxy_wait_init(&w);
	for (off = 0; off < size; off += piece) {	/* what follows a decided header goes in too */
		if (write(sv[1], data + off, size - off < piece ? size - off : piece) < 0)
			abort();
		if (r == PROXY_WAIT_AGAIN)
			r = fuzz_steps(&w, sv[0]);
	}
	close(sv[1]);
	if (r == PROXY_WAIT_AGAIN && (r = fuzz_steps(&w, sv[0])) == PROXY_WAIT_AGAIN)
		abort();	/* everything in and the sender gone: still waiting would spin */
	n = proxy_parse(data, size, &h, &why);
	if (!fuzz_agrees(r, &w, n, size, &h))
		abort();
	if (r == PROXY_WAIT_DONE)
		fuzz_rest(sv[0], data, size, n);
	close(sv[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h, again;
	const char *why;
	long n = proxy_parse(data, size, &h, &why), m;

	if (n < -1 || (n == -1 && why == NULL))
		abort();
	if (n > 0 && h.version == 1 && (n > PROXY_V1_MAX || (size_t)n > size))
		abort();
	if (n > 0 && h.version == 2 && (n < PROXY_V2_FIXED || n > PROXY_V2_FIXED + 65535))
		abort();
	if (n > 0 && !h.local && h.src.ss_family != h.dst.ss_family)
		abort();
	if (n != 0 && size > 0) {
		/* Decided on these bytes: one byte fewer may ask for more, never decide otherwise. */
		m = proxy_parse(data, size - 1, &again, &why);
		if (m != 0 && m != n)
			abort();
	}
	fuzz_wait(data, size);
	return 0;
}
