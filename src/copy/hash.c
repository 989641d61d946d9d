/*
 * hash.c - XXH3-128 (hash.h), from Debian's header-only libxxhash: every
 * function is compiled in here, so pcopy links against nothing more.
 */
#include "copy/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/util.h"

/* Bytes read at a time: big, for few calls on big files (as compare.c). */
#define HASH_CHUNK ((size_t)1 << 20)

/* The state's type asks for 64-byte alignment, which the stack and aligned_alloc give. */
struct hash_state {
	XXH3_state_t xxh;
};

struct hash_state *hash_new(void)
{
	struct hash_state *h = aligned_alloc(_Alignof(struct hash_state), sizeof(*h));

	if (h == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	hash_reset(h);
	return h;
}

void hash_free(struct hash_state *h)
{
	free(h);
}

void hash_reset(struct hash_state *h)
{
	(void)XXH3_128bits_reset(&h->xxh);
}

void hash_update(struct hash_state *h, const void *data, size_t len)
{
	(void)XXH3_128bits_update(&h->xxh, data, len);
}

void hash_zeros(struct hash_state *h, uint64_t n)
{
	static const unsigned char zeros[64 << 10];

	while (n > 0) {
		size_t step = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		hash_update(h, zeros, step);
		n -= step;
	}
}

void hash_final(const struct hash_state *h, unsigned char out[HASH_SIZE])
{
	XXH128_canonical_t canonical;

	XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(&h->xxh));
	memcpy(out, canonical.digest, HASH_SIZE);
}

int hash_fd(int fd, uint64_t size, unsigned char out[HASH_SIZE])
{
	size_t cap = size < HASH_CHUNK ? (size_t)size + 1 : HASH_CHUNK;
	unsigned char *buf = xmalloc(cap);
	struct hash_state h;
	uint64_t done = 0;
	ssize_t n;
	int err;

	if (size > cap) /* only worth a call where readahead can help */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	hash_reset(&h);
	while ((n = pread(fd, buf, cap, (off_t)done)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		hash_update(&h, buf, (size_t)n);
		done += (uint64_t)n;
		if ((size_t)n < cap && done == size)
			break; /* short where stat said it ends: the end, as compare.c takes it */
	}
	err = errno;
	free(buf);
	if (n < 0) {
		errno = err;
		return -1;
	}
	hash_final(&h, out);
	return 0;
}
