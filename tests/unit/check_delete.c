/* check_delete.c - --delete's decisions and the name index, without a filesystem. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "suites.h"
#include "sync/delete.h"
#include "walk/lookahead.h"
#include "walk/nameset.h"

/* What SRC lacks goes; what it has stays, whatever its type, but for directories. */
START_TEST(test_decide_by_name_and_type)
{
	static const mode_t types[] = { S_IFREG, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFDIR };
	const size_t n = sizeof(types) / sizeof(types[0]);

	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(delete_decide(types[i], 0, 0, 0), DELETE_EXTRA);
		for (size_t j = 0; j < n; j++) {
			enum delete_action want = S_ISDIR(types[i]) != S_ISDIR(types[j])
							  ? DELETE_REPLACE
							  : DELETE_KEEP;

			ck_assert_int_eq(delete_decide(types[i], types[j], 0, 0), want);
		}
	}
}
END_TEST

/* The three replacements of the issue: dir over file, file over dir, link over dir. */
START_TEST(test_decide_replacements)
{
	ck_assert_int_eq(delete_decide(S_IFDIR, S_IFREG, 0, 0), DELETE_REPLACE);
	ck_assert_int_eq(delete_decide(S_IFREG, S_IFDIR, 0, 0), DELETE_REPLACE);
	ck_assert_int_eq(delete_decide(S_IFLNK, S_IFDIR, 0, 0), DELETE_REPLACE);
	/* A link to a directory in DST is not a directory: SRC's link replaces it. */
	ck_assert_int_eq(delete_decide(S_IFLNK, S_IFLNK, 0, 0), DELETE_KEEP);
}
END_TEST

/* Excluded: kept, with or without SRC's entry; --delete-excluded removes it either way. */
START_TEST(test_decide_excluded)
{
	ck_assert_int_eq(delete_decide(S_IFREG, 0, 1, 0), DELETE_KEEP);
	ck_assert_int_eq(delete_decide(S_IFDIR, 0, 1, 0), DELETE_KEEP);
	ck_assert_int_eq(delete_decide(S_IFDIR, S_IFREG, 1, 0), DELETE_KEEP);
	ck_assert_int_eq(delete_decide(S_IFREG, 0, 1, 1), DELETE_EXTRA);
	ck_assert_int_eq(delete_decide(S_IFREG, S_IFREG, 1, 1), DELETE_EXTRA);
	ck_assert_int_eq(delete_decide(S_IFDIR, S_IFDIR, 1, 1), DELETE_EXTRA);
	/* Not excluded: --delete-excluded changes nothing. */
	ck_assert_int_eq(delete_decide(S_IFREG, S_IFREG, 0, 1), DELETE_KEEP);
	ck_assert_int_eq(delete_decide(S_IFREG, 0, 0, 1), DELETE_EXTRA);
}
END_TEST

/* Every name added is found with its d_type; others are not. */
START_TEST(test_nameset_finds_names)
{
	struct lookahead_list l = { NULL, 0, 0 };
	struct nameset ns;
	unsigned char t = 0;

	nameset_init(&ns);
	lookahead_list_add(&l, DT_REG, "a");
	lookahead_list_add(&l, DT_DIR, "dir");
	lookahead_list_add(&l, DT_LNK, "a b\n");
	lookahead_list_add(&l, DT_UNKNOWN, "\xff\xfe");
	nameset_build(&ns, &l);
	ck_assert(nameset_find(&ns, "a", &t) && t == DT_REG);
	ck_assert(nameset_find(&ns, "dir", &t) && t == DT_DIR);
	ck_assert(nameset_find(&ns, "a b\n", &t) && t == DT_LNK);
	ck_assert(nameset_find(&ns, "\xff\xfe", &t) && t == DT_UNKNOWN);
	ck_assert(nameset_find(&ns, "a", NULL));
	ck_assert(!nameset_find(&ns, "b", &t));
	ck_assert(!nameset_find(&ns, "di", &t));
	ck_assert(!nameset_find(&ns, "dirr", &t));
	ck_assert(!nameset_find(&ns, "", &t));
	nameset_free(&ns);
	free(l.data);
}
END_TEST

/* An empty listing, or none, is an empty set; a set can be built again. */
START_TEST(test_nameset_empty_and_rebuilt)
{
	struct lookahead_list l = { NULL, 0, 0 };
	struct nameset ns;

	nameset_init(&ns);
	ck_assert(!nameset_find(&ns, "a", NULL));
	nameset_build(&ns, NULL);
	ck_assert(!nameset_find(&ns, "a", NULL));
	nameset_build(&ns, &l);
	ck_assert(!nameset_find(&ns, "a", NULL));
	lookahead_list_add(&l, DT_REG, "a");
	nameset_build(&ns, &l);
	ck_assert(nameset_find(&ns, "a", NULL));
	l.len = 0;
	lookahead_list_add(&l, DT_REG, "b");
	nameset_build(&ns, &l);
	ck_assert(!nameset_find(&ns, "a", NULL));
	ck_assert(nameset_find(&ns, "b", NULL));
	nameset_free(&ns);
	free(l.data);
}
END_TEST

/* 10,000 names, then a small listing in the same set: all found, nothing else. */
START_TEST(test_nameset_many)
{
	struct lookahead_list l = { NULL, 0, 0 };
	struct nameset ns;
	char name[32];

	nameset_init(&ns);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		lookahead_list_add(&l, DT_REG, name);
	}
	lookahead_list_add(&l, DT_DIR, "f00042"); /* a duplicate: the first counts */
	nameset_build(&ns, &l);
	for (int i = 0; i < 10000; i++) {
		unsigned char t = 0;

		snprintf(name, sizeof(name), "f%05d", i);
		ck_assert_msg(nameset_find(&ns, name, &t) && t == DT_REG, "%s", name);
		snprintf(name, sizeof(name), "g%05d", i);
		ck_assert_msg(!nameset_find(&ns, name, NULL), "%s", name);
	}
	l.len = 0;
	lookahead_list_add(&l, DT_REG, "only");
	nameset_build(&ns, &l);
	ck_assert(nameset_find(&ns, "only", NULL));
	ck_assert(!nameset_find(&ns, "f00001", NULL));
	nameset_free(&ns);
	free(l.data);
}
END_TEST

Suite *delete_suite(void)
{
	Suite *s = suite_create("delete");
	TCase *tc = tcase_create("decide");

	tcase_add_test(tc, test_decide_by_name_and_type);
	tcase_add_test(tc, test_decide_replacements);
	tcase_add_test(tc, test_decide_excluded);
	suite_add_tcase(s, tc);
	tc = tcase_create("nameset");
	tcase_add_test(tc, test_nameset_finds_names);
	tcase_add_test(tc, test_nameset_empty_and_rebuilt);
	tcase_add_test(tc, test_nameset_many);
	suite_add_tcase(s, tc);
	return s;
}
