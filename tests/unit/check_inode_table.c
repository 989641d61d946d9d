/* check_inode_table.c - the (dev, ino) -> first path table for hard links. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/inode_table.h"
#include "suites.h"

static struct inode_table table;

static void setup(void)
{
	inode_table_init(&table);
}

static void teardown(void)
{
	inode_table_free(&table);
}

START_TEST(test_first_sighting_then_first_path)
{
	ck_assert_ptr_null(inode_table_check(&table, 1, 100, "a/first"));
	ck_assert_str_eq(inode_table_check(&table, 1, 100, "b/second"), "a/first");
	ck_assert_str_eq(inode_table_check(&table, 1, 100, "c/third"), "a/first");
	ck_assert_ptr_null(inode_table_check(&table, 1, 101, "a/other"));
	ck_assert_str_eq(inode_table_check(&table, 1, 101, "x"), "a/other");
	ck_assert_uint_eq(table.count, 2);
}
END_TEST

START_TEST(test_find_never_adds)
{
	ck_assert_ptr_null(inode_table_find(&table, 1, 100));
	ck_assert_uint_eq(table.count, 0);
	ck_assert_ptr_null(inode_table_check(&table, 1, 100, "a/first"));
	ck_assert_str_eq(inode_table_find(&table, 1, 100), "a/first");
	ck_assert_ptr_null(inode_table_find(&table, 2, 100));
	ck_assert_uint_eq(table.count, 1);
}
END_TEST

START_TEST(test_zero_ids_are_entries_too)
{
	ck_assert_ptr_null(inode_table_check(&table, 0, 0, "zero"));
	ck_assert_str_eq(inode_table_check(&table, 0, 0, "again"), "zero");
	ck_assert_ptr_null(inode_table_check(&table, 0, 1, "one"));
	ck_assert_str_eq(inode_table_check(&table, 0, 0, "third"), "zero");
}
END_TEST

START_TEST(test_same_ino_distinct_devs)
{
	ck_assert_ptr_null(inode_table_check(&table, 1, 42, "dev1"));
	ck_assert_ptr_null(inode_table_check(&table, 2, 42, "dev2"));
	ck_assert_ptr_null(inode_table_check(&table, UINT64_MAX, 42, "devmax"));
	ck_assert_str_eq(inode_table_check(&table, 2, 42, "?"), "dev2");
	ck_assert_str_eq(inode_table_check(&table, 1, 42, "?"), "dev1");
	ck_assert_str_eq(inode_table_check(&table, UINT64_MAX, 42, "?"), "devmax");
	/* And swapped: (dev, ino) = (42, 1) is not (1, 42). */
	ck_assert_ptr_null(inode_table_check(&table, 42, 1, "swapped"));
	ck_assert_uint_eq(table.count, 4);
}
END_TEST

#define MANY 100000

/* Inodes spread over a few devices, with ids that collide in low bits. */
static void ids_of(unsigned k, uint64_t *dev, uint64_t *ino)
{
	*dev = k % 3;
	*ino = (uint64_t)(k / 3) << 12;
}

START_TEST(test_grows_and_keeps_everything)
{
	char path[32];
	uint64_t dev, ino;

	for (unsigned k = 0; k < MANY; k++) {
		ids_of(k, &dev, &ino);
		snprintf(path, sizeof(path), "dir/%u", k);
		ck_assert_ptr_null(inode_table_check(&table, dev, ino, path));
	}
	ck_assert_uint_eq(table.count, MANY);
	ck_assert_uint_ge(table.cap, 2 * MANY);
	ck_assert_uint_eq(table.cap & (table.cap - 1), 0);
	for (unsigned k = 0; k < MANY; k++) {
		const char *first;

		ids_of(k, &dev, &ino);
		snprintf(path, sizeof(path), "dir/%u", k);
		first = inode_table_check(&table, dev, ino, "later");
		ck_assert_ptr_nonnull(first);
		ck_assert_str_eq(first, path);
	}
	ck_assert_uint_eq(table.count, MANY);
}
END_TEST

START_TEST(test_free_then_reuse)
{
	ck_assert_ptr_null(inode_table_check(&table, 5, 5, "p"));
	inode_table_free(&table);
	ck_assert_ptr_null(table.entries);
	inode_table_init(&table);
	ck_assert_ptr_null(inode_table_check(&table, 5, 5, "q"));
	ck_assert_str_eq(inode_table_check(&table, 5, 5, "r"), "q");
}
END_TEST

Suite *inode_table_suite(void)
{
	Suite *s = suite_create("inode_table");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_first_sighting_then_first_path);
	tcase_add_test(tc, test_find_never_adds);
	tcase_add_test(tc, test_zero_ids_are_entries_too);
	tcase_add_test(tc, test_same_ino_distinct_devs);
	tcase_add_test(tc, test_grows_and_keeps_everything);
	tcase_add_test(tc, test_free_then_reuse);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
