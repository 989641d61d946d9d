/* check_plan.c - the per-entry decisions, without a filesystem. */
#include <string.h>

#include "plan.h"
#include "suites.h"

static struct stat of_type(mode_t type)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = type | 0644;
	return st;
}

/* Nothing in DST: every type goes in. */
START_TEST(test_nothing_there)
{
	ck_assert_ptr_null(plan_replace_conflict(S_IFDIR, NULL));
	ck_assert_ptr_null(plan_replace_conflict(S_IFREG, NULL));
	ck_assert_ptr_null(plan_replace_conflict(S_IFLNK, NULL));
}
END_TEST

/* A directory merges into a directory and replaces links and special files, not files. */
START_TEST(test_directory_source)
{
	struct stat dir = of_type(S_IFDIR), reg = of_type(S_IFREG), lnk = of_type(S_IFLNK),
		    fifo = of_type(S_IFIFO);

	ck_assert_ptr_null(plan_replace_conflict(S_IFDIR, &dir));
	ck_assert_str_eq(plan_replace_conflict(S_IFDIR, &reg), PLAN_NONDIR_BY_DIR);
	ck_assert_ptr_null(plan_replace_conflict(S_IFDIR, &lnk));
	ck_assert_ptr_null(plan_replace_conflict(S_IFDIR, &fifo));
}
END_TEST

/* A non-directory replaces any non-directory but never a directory. */
START_TEST(test_nondirectory_source)
{
	static const mode_t types[] = { S_IFREG, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR };
	struct stat dir = of_type(S_IFDIR);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		for (size_t j = 0; j < sizeof(types) / sizeof(types[0]); j++) {
			struct stat there = of_type(types[j]);

			ck_assert_ptr_null(plan_replace_conflict(types[i], &there));
		}
		ck_assert_str_eq(plan_replace_conflict(types[i], &dir), PLAN_DIR_BY_NONDIR);
	}
}
END_TEST

Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("replace");

	tcase_add_test(tc, test_nothing_there);
	tcase_add_test(tc, test_directory_source);
	tcase_add_test(tc, test_nondirectory_source);
	suite_add_tcase(s, tc);
	return s;
}
