/* check_files_from.c - the --files-from list: cleaning, order, duplicates, refusals, inside. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "testlib.h"
#include "walk/files_from.h"

static struct scratch dir;
static struct files_from list;

static void setup(void)
{
	scratch_make(&dir);
	files_from_init(&list);
}

static void teardown(void)
{
	files_from_free(&list);
	scratch_remove(&dir);
}

/* Load `len` bytes of text as a list; files_from_load's result, *bad kept in bad_entry. */
static char *bad_entry;

static int load(const char *text, size_t len, int nul)
{
	char path[256];

	ck_assert_int_eq(write_file_at(dir.fd, "list", text, len, 0644), 0);
	snprintf(path, sizeof(path), "%s/list", dir.path);
	return files_from_load(&list, path, nul, &bad_entry);
}

START_TEST(test_cleaned_sorted_unique)
{
	static const char text[] = "b\n/a/x//y/\n# comment\n\n; another\na b\n./a/./x/y\n"
				   "a/x\r\na\nab\na/x/y\n";
	static const char *const want[] = { "a", "a/x", "a/x/y", "a b", "ab", "b" };

	ck_assert_int_eq(load(text, sizeof(text) - 1, 0), 0);
	ck_assert_uint_eq(list.count, 6);
	for (size_t i = 0; i < list.count; i++)
		ck_assert_str_eq(list.paths[i], want[i]);
}
END_TEST

START_TEST(test_whole_source_and_nul)
{
	static const char text[] = "z\0/\0.\0a\nb\0";

	ck_assert_int_eq(load(text, sizeof(text) - 1, 1), 0);
	ck_assert_uint_eq(list.count, 3);
	ck_assert_str_eq(list.paths[0], "");
	ck_assert_str_eq(list.paths[1], "a\nb");
	ck_assert_str_eq(list.paths[2], "z");
}
END_TEST

START_TEST(test_dotdot_refused)
{
	static const char text[] = "ok\nx/../y\n";

	errno = 0;
	ck_assert_int_eq(load(text, sizeof(text) - 1, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_nonnull(bad_entry);
	ck_assert_str_eq(bad_entry, "x/../y");
	free(bad_entry);
	ck_assert_int_eq(files_from_load(&list, "/nonexistent/list", 0, &bad_entry), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(bad_entry);
}
END_TEST

START_TEST(test_inside)
{
	ck_assert(files_from_inside("a/b", "a"));
	ck_assert(files_from_inside("a/b/c", "a/b"));
	ck_assert(!files_from_inside("ab", "a"));
	ck_assert(!files_from_inside("a", "a/b"));
	ck_assert(files_from_inside("x", ""));
}
END_TEST

/* What a list takes: its paths, all inside them, and directories on the way to them. */
START_TEST(test_covers)
{
	static const char *const paths[] = { "d/sub/f", "b", "d/x", "e/f/g", "b-c", "a/", "#c" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		ck_assert_int_eq(files_from_add(&list, paths[i]), 0);
	files_from_done(&list);
	ck_assert_uint_eq(list.count, 7);
	ck_assert(files_from_covers(&list, "#c", 0)); /* a comment only as a line of a file */
	/* listed, whatever the type */
	ck_assert(files_from_covers(&list, "b", 0));
	ck_assert(files_from_covers(&list, "b", 1));
	ck_assert(files_from_covers(&list, "a", 1)); /* "a/" cleaned to "a" */
	ck_assert(files_from_covers(&list, "d/x", 0));
	/* inside a listed one */
	ck_assert(files_from_covers(&list, "b/deep/er", 0));
	ck_assert(files_from_covers(&list, "d/sub/f/g", 1));
	/* directories on the way, not files of those names */
	ck_assert(files_from_covers(&list, "d", 1));
	ck_assert(!files_from_covers(&list, "d", 0));
	ck_assert(files_from_covers(&list, "d/sub", 1));
	ck_assert(files_from_covers(&list, "e/f", 1));
	/* nothing else: names that only begin the same, siblings */
	ck_assert(!files_from_covers(&list, "bb", 0));
	ck_assert(!files_from_covers(&list, "b-", 0));
	ck_assert(!files_from_covers(&list, "d/su", 1));
	ck_assert(!files_from_covers(&list, "d/sub/g", 0));
	ck_assert(!files_from_covers(&list, "e/g", 1));
	ck_assert(!files_from_covers(&list, "c", 1));
	ck_assert(!files_from_covers(&list, "z", 1));
	/* a ".." is refused, and SRC itself takes everything */
	ck_assert_int_eq(files_from_add(&list, "x/../y"), -1);
	ck_assert_int_eq(files_from_add(&list, "."), 0);
	files_from_done(&list);
	ck_assert(files_from_covers(&list, "anything/at/all", 0));
}
END_TEST

/* An empty list takes nothing. */
START_TEST(test_covers_empty)
{
	files_from_done(&list);
	ck_assert(!files_from_covers(&list, "a", 1));
	ck_assert(!files_from_covers(&list, "a", 0));
}
END_TEST

Suite *files_from_suite(void)
{
	Suite *s = suite_create("files_from");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cleaned_sorted_unique);
	tcase_add_test(tc, test_whole_source_and_nul);
	tcase_add_test(tc, test_dotdot_refused);
	tcase_add_test(tc, test_inside);
	tcase_add_test(tc, test_covers);
	tcase_add_test(tc, test_covers_empty);
	suite_add_tcase(s, tc);
	return s;
}
