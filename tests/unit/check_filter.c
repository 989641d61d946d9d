/* check_filter.c - filter: rsync's pattern forms, rule order, rules read from files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"
#include "testlib.h"
#include "walk/filter.h"

#define MAX_RULES 4

/* One question: with these rules (--exclude unless "+ "), is path excluded? */
struct match_case {
	const char *rules[MAX_RULES]; /* NULL-terminated */
	const char *path;             /* relative to the top of SRC */
	int is_dir;
	int excluded; /* the answer rsync gives */
};

/* Ask every case of `cases` and check the answers. */
static void check_cases(const struct match_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct match_case *c = &cases[i];
		struct filter f;

		filter_init(&f);
		for (int k = 0; k < MAX_RULES && c->rules[k] != NULL; k++)
			ck_assert_int_eq(filter_add(&f, c->rules[k], 0), 0);
		ck_assert_msg(filter_excluded(&f, c->path, c->is_dir) == c->excluded,
			      "rule '%s'%s: '%s' (%s) should be %s", c->rules[0],
			      c->rules[1] ? " ..." : "", c->path, c->is_dir ? "dir" : "file",
			      c->excluded ? "excluded" : "included");
		filter_free(&f);
	}
}

#define CHECK_CASES(...)                                                   \
	do {                                                               \
		static const struct match_case cases_[] = { __VA_ARGS__ }; \
		check_cases(cases_, sizeof(cases_) / sizeof(cases_[0]));   \
	} while (0)

START_TEST(test_unanchored_matches_last_component)
{
	CHECK_CASES({ { "*.log" }, "a.log", 0, 1 }, { { "*.log" }, "d/e/a.log", 0, 1 },
		    { { "*.log" }, "a.logx", 0, 0 }, { { "*.log" }, "a.log/b", 0, 0 },
		    { { "core" }, "x/y/core", 0, 1 }, { { "core" }, "x/core/y", 0, 0 },
		    { { "core" }, "xcore", 0, 0 });
}
END_TEST

START_TEST(test_anchored_matches_from_top)
{
	CHECK_CASES({ { "/top.txt" }, "top.txt", 0, 1 }, { { "/top.txt" }, "d/top.txt", 0, 0 },
		    { { "/d/e" }, "d/e", 1, 1 }, { { "/d/e" }, "x/d/e", 1, 0 },
		    { { "/d" }, "d/e", 0, 0 });
}
END_TEST

START_TEST(test_inner_slash_matches_trailing_components)
{
	CHECK_CASES({ { "a/b" }, "a/b", 0, 1 }, { { "a/b" }, "x/a/b", 0, 1 },
		    { { "a/b" }, "xa/b", 0, 0 }, { { "a/b" }, "b", 0, 0 },
		    { { "a/b" }, "a/b/c", 0, 0 }, { { "a/*/c" }, "z/a/b/c", 0, 1 },
		    { { "a/*/c" }, "a/b/b/c", 0, 0 });
}
END_TEST

START_TEST(test_trailing_slash_is_directory_only)
{
	CHECK_CASES({ { "cache/" }, "cache", 1, 1 }, { { "cache/" }, "cache", 0, 0 },
		    { { "cache/" }, "x/cache", 1, 1 }, { { "/cache/" }, "x/cache", 1, 0 },
		    { { "/cache/" }, "cache", 1, 1 }, { { "c*/" }, "cx", 0, 0 });
}
END_TEST

START_TEST(test_star_stops_at_slash)
{
	CHECK_CASES({ { "/a*c" }, "abc", 0, 1 }, { { "/a*c" }, "ab/c", 0, 0 },
		    { { "/a/*.c" }, "a/x.c", 0, 1 }, { { "/a/*.c" }, "a/b/x.c", 0, 0 },
		    { { "*" }, "any/thing", 0, 1 }, { { ".*" }, "d/.hidden", 0, 1 },
		    { { "*" }, "d/.hidden", 0, 1 });
}
END_TEST

START_TEST(test_double_star_crosses_slashes)
{
	CHECK_CASES({ { "/src/**/*.o" }, "src/a/x.o", 0, 1 },
		    { { "/src/**/*.o" }, "src/a/b/x.o", 0, 1 },
		    { { "/src/**/*.o" }, "src/x.o", 0, 0 },
		    { { "/src/**/*.o" }, "lib/src/a/x.o", 0, 0 },
		    { { "/src/**/b*.c" }, "src/x/bz/y.c", 0, 0 },
		    { { "/src/**/b*.c" }, "src/x/bz.c", 0, 1 }, { { "/src/**" }, "src/a/b", 0, 1 },
		    { { "/src/**" }, "src", 1, 0 }, { { "logs/**" }, "x/logs/a/b", 0, 1 },
		    { { "logs/**" }, "xlogs/a", 0, 0 }, { { "a**z" }, "d/ab/yz", 0, 1 },
		    { { "/a/**/m/**/z" }, "a/b/m/c/d/z", 0, 1 },
		    { { "/a/**/m/**/z" }, "a/m/z", 0, 0 }, { { "/a*c/**" }, "ab/c/d", 0, 0 },
		    { { "/a/**/m/**/z" }, "a/b/mm/c/z", 0, 0 });
}
END_TEST

START_TEST(test_leading_double_star_matches_at_top)
{
	CHECK_CASES({ { "**/tmp" }, "tmp", 1, 1 }, { { "**/tmp" }, "a/b/tmp", 1, 1 },
		    { { "**/tmp" }, "a/xtmp", 1, 0 }, { { "**/tmp/" }, "a/tmp", 0, 0 });
}
END_TEST

START_TEST(test_triple_star_matches_directory_and_contents)
{
	CHECK_CASES({ { "logs/***" }, "logs", 1, 1 }, { { "logs/***" }, "logs", 0, 0 },
		    { { "logs/***" }, "a/logs/b/c", 0, 1 }, { { "/logs/***" }, "a/logs", 1, 0 },
		    { { "/logs/***" }, "logs/x", 0, 1 });
}
END_TEST

START_TEST(test_question_mark_and_classes)
{
	CHECK_CASES({ { "?.txt" }, "a.txt", 0, 1 }, { { "?.txt" }, "ab.txt", 0, 0 },
		    { { "/a?c" }, "a/c", 0, 0 }, { { "/a?c" }, "abc", 0, 1 },
		    { { "[a-c]*.tmp" }, "b1.tmp", 0, 1 }, { { "[a-c]*.tmp" }, "d1.tmp", 0, 0 },
		    { { "[!a-c]*" }, "d", 0, 1 }, { { "[!a-c]*" }, "a", 0, 0 },
		    { { "/a[/]c" }, "a/c", 0, 0 });
}
END_TEST

START_TEST(test_backslash_escapes_only_with_wildcards)
{
	CHECK_CASES({ { "foo\\bar" }, "foo\\bar", 0, 1 }, { { "foo\\bar" }, "foobar", 0, 0 },
		    { { "foo\\*" }, "foo*", 0, 1 }, { { "foo\\*" }, "fooz", 0, 0 },
		    { { "[ab]\\x" }, "ax", 0, 1 }, { { "[ab]\\x" }, "a\\x", 0, 0 });
}
END_TEST

START_TEST(test_first_match_wins)
{
	CHECK_CASES({ { "+ keep.log", "*.log" }, "keep.log", 0, 0 },
		    { { "+ keep.log", "*.log" }, "other.log", 0, 1 },
		    { { "*.log", "+ keep.log" }, "keep.log", 0, 1 },
		    { { "+ */", "+ *.c", "*" }, "dir", 1, 0 },
		    { { "+ */", "+ *.c", "*" }, "dir/x.c", 0, 0 },
		    { { "+ */", "+ *.c", "*" }, "dir/x.h", 0, 1 }, { { "+ *.c" }, "x.h", 0, 0 },
		    { { "*.o" }, "x.c", 0, 0 });
}
END_TEST

START_TEST(test_prefixes_empty_and_clear)
{
	struct filter f;

	filter_init(&f);
	ck_assert_int_eq(filter_excluded(NULL, "a", 0), 0);
	ck_assert_int_eq(filter_excluded(&f, "a", 0), 0);
	filter_add(&f, "- *.o", 1); /* "- " wins over --include */
	ck_assert_int_eq(filter_excluded(&f, "x.o", 0), 1);
	filter_add(&f, "", 0);
	filter_add(&f, "/", 0);
	ck_assert_uint_eq(f.count, 1);
	ck_assert_int_eq(filter_excluded(&f, "x", 0), 0);
	filter_add(&f, "!", 0);
	ck_assert_uint_eq(f.count, 0);
	ck_assert_int_eq(filter_excluded(&f, "x.o", 0), 0);
	filter_add(&f, "+ x.o", 0);
	filter_add(&f, "*", 1);
	filter_add(&f, "-x", 0); /* no space: a pattern "-x" */
	ck_assert_int_eq(filter_excluded(&f, "x.o", 0), 0);
	filter_free(&f);
}
END_TEST

static struct scratch dir;

static void setup(void)
{
	scratch_make(&dir);
}

static void teardown(void)
{
	scratch_remove(&dir);
}

/* Write `len` bytes to the scratch file `name`; its path. */
static const char *rules_file(const char *name, const char *text, size_t len)
{
	static char path[256];

	ck_assert_int_eq(write_file_at(dir.fd, name, text, len, 0644), 0);
	snprintf(path, sizeof(path), "%s/%s", dir.path, name);
	return path;
}

START_TEST(test_load_skips_comments_and_blank_lines)
{
	static const char text[] = "# a comment\n; another\n\n*.o\r\n+ keep.tmp\n*.tmp\n"
				   "  spaced\nlast";
	struct filter f;

	filter_init(&f);
	ck_assert_int_eq(filter_load(&f, rules_file("r", text, sizeof(text) - 1), 0, 0), 0);
	ck_assert_uint_eq(f.count, 5);
	ck_assert_int_eq(filter_excluded(&f, "a.o", 0), 1); /* "\r\n" ends the line */
	ck_assert_int_eq(filter_excluded(&f, "keep.tmp", 0), 0);
	ck_assert_int_eq(filter_excluded(&f, "x.tmp", 0), 1);
	ck_assert_int_eq(filter_excluded(&f, "  spaced", 0), 1); /* spaces are the pattern's */
	ck_assert_int_eq(filter_excluded(&f, "last", 0), 1);     /* no final newline */
	ck_assert_int_eq(filter_excluded(&f, "# a comment", 0), 0);
	filter_free(&f);
}
END_TEST

START_TEST(test_load_as_include_and_nul_separated)
{
	static const char text[] = "*.c\0# a comment\0\0sub/\0";
	struct filter f;

	filter_init(&f);
	ck_assert_int_eq(filter_load(&f, rules_file("r0", text, sizeof(text) - 1), 1, 1), 0);
	filter_add(&f, "*", 0);
	ck_assert_uint_eq(f.count, 3);
	ck_assert_int_eq(filter_excluded(&f, "a.c", 0), 0);
	ck_assert_int_eq(filter_excluded(&f, "sub", 1), 0);
	ck_assert_int_eq(filter_excluded(&f, "a.h", 0), 1);
	filter_free(&f);
}
END_TEST

START_TEST(test_load_from_stdin_and_missing_file)
{
	static const char text[] = "*.o\n";
	struct filter f;
	int fd;

	filter_init(&f);
	rules_file("in", text, sizeof(text) - 1);
	fd = openat(dir.fd, "in", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	ck_assert_int_eq(filter_load(&f, "-", 0, 0), 0);
	ck_assert_int_eq(filter_excluded(&f, "x.o", 0), 1);
	errno = 0;
	ck_assert_int_eq(filter_load(&f, "/nonexistent/rules", 0, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	filter_free(&f);
}
END_TEST

Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("match");
	TCase *load = tcase_create("load");

	tcase_add_test(tc, test_unanchored_matches_last_component);
	tcase_add_test(tc, test_anchored_matches_from_top);
	tcase_add_test(tc, test_inner_slash_matches_trailing_components);
	tcase_add_test(tc, test_trailing_slash_is_directory_only);
	tcase_add_test(tc, test_star_stops_at_slash);
	tcase_add_test(tc, test_double_star_crosses_slashes);
	tcase_add_test(tc, test_leading_double_star_matches_at_top);
	tcase_add_test(tc, test_triple_star_matches_directory_and_contents);
	tcase_add_test(tc, test_question_mark_and_classes);
	tcase_add_test(tc, test_backslash_escapes_only_with_wildcards);
	tcase_add_test(tc, test_first_match_wins);
	tcase_add_test(tc, test_prefixes_empty_and_clear);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(load, setup, teardown);
	tcase_add_test(load, test_load_skips_comments_and_blank_lines);
	tcase_add_test(load, test_load_as_include_and_nul_separated);
	tcase_add_test(load, test_load_from_stdin_and_missing_file);
	suite_add_tcase(s, load);
	return s;
}
