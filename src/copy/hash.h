/*
 * hash.h - XXH3-128 of a file's data: what -c compares across machines
 * (each side hashes its own file, no data crosses) and what checks the
 * bytes of a remote copy before they are installed.  A hash is its 16
 * bytes in canonical (big-endian) form, the same on every machine.
 */
#ifndef PCOPY_HASH_H
#define PCOPY_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SIZE 16

/* A hash being computed, opaque so that xxhash.h stays inside hash.c. */
struct hash_state;

/* A new hash of nothing yet; NULL with ENOMEM.  Free it with hash_free. */
struct hash_state *hash_new(void);
void hash_free(struct hash_state *h);

/* Start h again from nothing (a file sent again from its start). */
void hash_reset(struct hash_state *h);

/* Add `len` bytes at `data` to what h has hashed. */
void hash_update(struct hash_state *h, const void *data, size_t len);

/* Add n zero bytes: a hole, as it reads. */
void hash_zeros(struct hash_state *h, uint64_t n);

/* The hash of what h has hashed so far (h may go on after). */
void hash_final(const struct hash_state *h, unsigned char out[HASH_SIZE]);

/*
 * The hash of the data of the regular file open as `fd`, read from offset
 * 0 to its end (holes read as zeros); `size`, what stat said, only sizes
 * the reads, so that a small file costs one.  0, or -1 with errno.
 */
int hash_fd(int fd, uint64_t size, unsigned char out[HASH_SIZE]);

#endif
