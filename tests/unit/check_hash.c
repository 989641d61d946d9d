/*
 * check_hash.c - XXH3-128 (hash.c) against values computed here with
 * xxhash's one-shot call, and against published ones; files read with
 * holes and with sizes that lie.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "copy/hash.h"
#include "suites.h"
#include "testlib.h"

static struct scratch dir;

static void setup(void)
{
	scratch_make(&dir);
}

static void teardown(void)
{
	scratch_remove(&dir);
}

/* What xxhash itself says of `len` bytes at `data`, in canonical form. */
static void expected(const void *data, size_t len, unsigned char out[HASH_SIZE])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits(data, len));
	memcpy(out, c.digest, HASH_SIZE);
}

static void hex(const unsigned char h[HASH_SIZE], char out[2 * HASH_SIZE + 1])
{
	for (int i = 0; i < HASH_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* xxhsum -H2's values: the byte order on the wire is the one it prints. */
START_TEST(test_published_values)
{
	struct hash_state *h = hash_new();
	unsigned char out[HASH_SIZE];
	char text[2 * HASH_SIZE + 1];

	ck_assert_ptr_nonnull(h);
	hash_final(h, out);
	hex(out, text);
	ck_assert_str_eq(text, "99aa06d3014798d86001c324468d497f");
	hash_update(h, "abc", 3);
	hash_final(h, out);
	hex(out, text);
	ck_assert_str_eq(text, "06b05ab6733a618578af5f94892f3950");
	hash_reset(h);
	hash_final(h, out);
	hex(out, text);
	ck_assert_str_eq(text, "99aa06d3014798d86001c324468d497f");
	hash_free(h);
}
END_TEST

/* Fed in pieces of every size, the hash is the one-shot hash of the whole. */
START_TEST(test_pieces)
{
	size_t size = (5 << 20) + 3, done = 0, step = 1;
	unsigned char *data = malloc(size), want[HASH_SIZE], got[HASH_SIZE];
	struct hash_state *h = hash_new();

	fill_pattern(data, size, 7);
	expected(data, size, want);
	while (done < size) {
		size_t n = step < size - done ? step : size - done;

		hash_update(h, data + done, n);
		done += n;
		step = step * 3 + 1;
	}
	hash_final(h, got);
	ck_assert_mem_eq(got, want, HASH_SIZE);
	hash_free(h);
	free(data);
}
END_TEST

/* Zeros added as a hole hash as the bytes they read as, around the 64 KiB step. */
START_TEST(test_zeros)
{
	static const uint64_t lens[] = { 0, 1, (64 << 10) - 1, 64 << 10, (64 << 10) + 1, 300001 };
	unsigned char *zeros = calloc(300001, 1), want[HASH_SIZE], got[HASH_SIZE];
	struct hash_state *h = hash_new();

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		expected(zeros, (size_t)lens[i], want);
		hash_reset(h);
		hash_zeros(h, lens[i]);
		hash_final(h, got);
		ck_assert_mem_eq(got, want, HASH_SIZE);
	}
	hash_free(h);
	free(zeros);
}
END_TEST

/* Sizes around the 1 MiB read, and the small ones read in one call. */
static const size_t sizes[] = {
	0, 1, 4095, 4096, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, (3 << 20) + 7
};

/* A file's hash is its bytes', whatever size stat was said to give. */
START_TEST(test_file_sizes)
{
	size_t size = sizes[_i];
	unsigned char *data = malloc(size + 1), want[HASH_SIZE], got[HASH_SIZE];
	int fd;

	fill_pattern(data, size, (unsigned)size);
	expected(data, size, want);
	ck_assert_int_eq(write_file_at(dir.fd, "f", data, size, 0644), 0);
	fd = openat(dir.fd, "f", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(hash_fd(fd, size, got), 0);
	ck_assert_mem_eq(got, want, HASH_SIZE);
	/* A size that lies (the file grew, or shrank) still reads to the end. */
	ck_assert_int_eq(hash_fd(fd, size / 2, got), 0);
	ck_assert_mem_eq(got, want, HASH_SIZE);
	ck_assert_int_eq(hash_fd(fd, size * 2 + 1, got), 0);
	ck_assert_mem_eq(got, want, HASH_SIZE);
	close(fd);
	free(data);
}
END_TEST

/* Holes are read as the zeros they are: a sparse file hashes as its bytes do. */
START_TEST(test_sparse)
{
	size_t size = (4 << 20) + 11, at = (2 << 20) + 5;
	unsigned char *zeros = calloc(1, size), want[HASH_SIZE], got[HASH_SIZE];
	int fd = openat(dir.fd, "sparse", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	expected(zeros, size, want);
	ck_assert_int_eq(hash_fd(fd, size, got), 0); /* all hole */
	ck_assert_mem_eq(got, want, HASH_SIZE);
	ck_assert_int_eq(pwrite(fd, "data", 4, (off_t)at), 4);
	memcpy(zeros + at, "data", 4);
	expected(zeros, size, want);
	ck_assert_int_eq(hash_fd(fd, size, got), 0);
	ck_assert_mem_eq(got, want, HASH_SIZE);
	close(fd);
	free(zeros);
}
END_TEST

START_TEST(test_unreadable)
{
	unsigned char got[HASH_SIZE];
	int fd = openat(dir.fd, "w", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	errno = 0;
	ck_assert_int_eq(hash_fd(fd, 0, got), -1);
	ck_assert_int_eq(errno, EBADF);
	close(fd);
	errno = 0;
	ck_assert_int_eq(hash_fd(dir.fd, 0, got), -1);
	ck_assert_int_eq(errno, EISDIR);
}
END_TEST

Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("bytes");

	tcase_add_test(tc, test_published_values);
	tcase_add_test(tc, test_pieces);
	tcase_add_test(tc, test_zeros);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_file_sizes, 0, (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(tc, test_sparse);
	tcase_add_test(tc, test_unreadable);
	suite_add_tcase(s, tc);
	return s;
}
