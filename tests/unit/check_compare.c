/* check_compare.c - compare_contents_at: equal, differing and odd files. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy/compare.h"
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

/* Sizes around the 1 MiB chunk, and the small ones read in one call. */
static const size_t sizes[] = {
	0, 1, 4095, 4096, 4097, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, (3 << 20) + 7
};

/* Equal files are equal; one byte changed anywhere (first, middle, last) differs. */
START_TEST(test_equal_and_one_byte)
{
	size_t size = sizes[_i];
	unsigned char *data = malloc(size + 1);

	fill_pattern(data, size, (unsigned)size);
	ck_assert_int_eq(write_file_at(dir.fd, "a", data, size, 0644), 0);
	ck_assert_int_eq(write_file_at(dir.fd, "b", data, size, 0644), 0);
	ck_assert_int_eq(compare_contents_at(dir.fd, "a", 0, dir.fd, "b", size), 0);
	for (size_t at = 0; size > 0 && at < 3; at++) {
		size_t pos = at == 0 ? 0 : at == 1 ? size / 2 : size - 1;

		data[pos] ^= 0x55;
		ck_assert_int_eq(write_file_at(dir.fd, "b", data, size, 0644), 0);
		ck_assert_int_eq(compare_contents_at(dir.fd, "a", 0, dir.fd, "b", size), 1);
		data[pos] ^= 0x55;
	}
	free(data);
}
END_TEST

/* A file longer than its stat said (it grew) or shorter differs. */
START_TEST(test_lengths)
{
	ck_assert_int_eq(write_file_at(dir.fd, "a", "abcd", 4, 0644), 0);
	ck_assert_int_eq(write_file_at(dir.fd, "b", "abcde", 5, 0644), 0);
	ck_assert_int_eq(compare_contents_at(dir.fd, "a", 0, dir.fd, "b", 4), 1);
	ck_assert_int_eq(compare_contents_at(dir.fd, "b", 0, dir.fd, "a", 4), 1);
	ck_assert_int_eq(compare_contents_at(dir.fd, "a", 0, dir.fd, "b", 5), 1);
}
END_TEST

/* Not regular files, or missing ones: an error, never a hang or a follow. */
START_TEST(test_not_regular)
{
	ck_assert_int_eq(write_file_at(dir.fd, "a", "x", 1, 0644), 0);
	ck_assert_int_eq(mkfifoat(dir.fd, "fifo", 0644), 0);
	ck_assert_int_eq(symlinkat("a", dir.fd, "link"), 0);
	ck_assert_int_eq(compare_contents_at(dir.fd, "a", 0, dir.fd, "fifo", 1), -1);
	ck_assert_int_eq(compare_contents_at(dir.fd, "fifo", 0, dir.fd, "a", 1), -1);
	ck_assert_int_eq(compare_contents_at(dir.fd, "a", 0, dir.fd, "link", 1), -1);
	ck_assert_int_eq(compare_contents_at(dir.fd, "link", 0, dir.fd, "a", 1), -1);
	/* -L: the first (a source) is followed. */
	ck_assert_int_eq(compare_contents_at(dir.fd, "link", 1, dir.fd, "a", 1), 0);
	ck_assert_int_eq(compare_contents_at(dir.fd, "missing", 0, dir.fd, "a", 1), -1);
}
END_TEST

Suite *compare_suite(void)
{
	Suite *s = suite_create("compare");
	TCase *tc = tcase_create("contents");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_equal_and_one_byte, 0,
			    (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_not_regular);
	suite_add_tcase(s, tc);
	return s;
}
