/* check_change.c - classifying and formatting what a run did to an entry. */
#include <string.h>
#include <sys/stat.h>

#include "report/change.h"
#include "suites.h"

START_TEST(test_change_of_copy)
{
	ck_assert_int_eq(change_of_copy(S_IFREG | 0644, 0), CHANGE_CREATED);
	ck_assert_int_eq(change_of_copy(S_IFREG | 0644, S_IFREG), CHANGE_UPDATED);
	ck_assert_int_eq(change_of_copy(S_IFREG | 0644, S_IFREG | 0600), CHANGE_UPDATED);
	ck_assert_int_eq(change_of_copy(S_IFREG, S_IFLNK), CHANGE_REPLACED);
	ck_assert_int_eq(change_of_copy(S_IFDIR, S_IFLNK), CHANGE_REPLACED);
	ck_assert_int_eq(change_of_copy(S_IFLNK, S_IFLNK), CHANGE_UPDATED);
	ck_assert_int_eq(change_of_copy(S_IFIFO, S_IFSOCK), CHANGE_REPLACED);
}
END_TEST

/* "XY PATH\n": the change's letter, the type's, the path as -v prints it. */
START_TEST(test_format_text)
{
	static const struct {
		enum change change;
		mode_t mode;
		const char *path, *line;
	} cases[] = {
		{ CHANGE_CREATED, S_IFREG, "d/a", "+f d/a\n" },
		{ CHANGE_UPDATED, S_IFLNK, "d/l", ">l d/l\n" },
		{ CHANGE_REPLACED, S_IFDIR, "d/x", "!d d/x\n" },
		{ CHANGE_METADATA, S_IFDIR, "d", ".d d\n" },
		{ CHANGE_HARDLINK, S_IFREG, "d/h", "hf d/h\n" },
		{ CHANGE_LINKED, S_IFREG, "d/k", "Lf d/k\n" },
		{ CHANGE_DELETED, S_IFIFO, "d/p", "-s d/p\n" },
		{ CHANGE_CREATED, S_IFREG, "d/a\nb", "+f 'd/a'$'\\n''b'\n" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = change_format_text(cases[i].change, cases[i].mode, cases[i].path, buf,
						sizeof(buf));

		ck_assert_str_eq(buf, cases[i].line);
		ck_assert_uint_eq(len, strlen(cases[i].line));
	}
	/* The length without a buffer, and a short buffer is not overrun. */
	ck_assert_uint_eq(change_format_text(CHANGE_CREATED, S_IFREG, "abc", NULL, 0), 7);
	memset(buf, 'x', sizeof(buf));
	change_format_text(CHANGE_CREATED, S_IFREG, "abcdef", buf, 5);
	ck_assert_int_eq(buf[5], 'x');
	ck_assert_int_eq(buf[4], '\0');
}
END_TEST

Suite *change_suite(void)
{
	Suite *s = suite_create("change");
	TCase *tc = tcase_create("change");

	tcase_add_test(tc, test_change_of_copy);
	tcase_add_test(tc, test_format_text);
	suite_add_tcase(s, tc);
	return s;
}
