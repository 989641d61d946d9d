/*
 * check_path.c - open_beneath (with openat2 and with the per-component
 * fallback) and the path helpers.  path_disable_openat2() is sticky for the
 * process, so the fallback TCase comes last (see check_main.c).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/path.h"
#include "suites.h"
#include "testlib.h"

/* Levels of the deep chain; LEVELS * (NAME_LEN + 1) > PATH_MAX. */
#define LEVELS 40
#define NAME_LEN 120
/* The level below which the deep chain has a symlink "jump" to the next level. */
#define JUMP_LEVEL 36

static struct scratch root;
static char *deep_path; /* relpath of the deepest directory */

/* The name of level k of the deep chain. */
static void level_name(int k, char *name)
{
	memset(name, 'a' + k % 26, NAME_LEN);
	name[0] = 'L';
	name[1] = (char)('0' + k / 10);
	name[2] = (char)('0' + k % 10);
	name[NAME_LEN] = '\0';
}

/* Build the chain with mkdirat relative to each level's fd. */
static void make_deep_chain(void)
{
	char name[NAME_LEN + 1];
	int fd = dup(root.fd);
	size_t len = 0;

	deep_path = calloc(1, LEVELS * (NAME_LEN + 1) + 1);
	ck_assert_ptr_nonnull(deep_path);
	for (int k = 0; k < LEVELS; k++) {
		int next;

		level_name(k, name);
		ck_assert_int_eq(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(next, 0);
		if (k == JUMP_LEVEL) /* "jump" in level k-1 points at level k */
			ck_assert_int_eq(symlinkat(name, fd, "jump"), 0);
		close(fd);
		fd = next;
		len += (size_t)sprintf(deep_path + len, "%s%s", k ? "/" : "", name);
	}
	ck_assert_int_eq(write_file_at(fd, "leaf", "bottom", 6, 0644), 0);
	close(fd);
	ck_assert_uint_gt(strlen(deep_path), PATH_MAX);
}

static void setup(void)
{
	scratch_make(&root);
	ck_assert_int_eq(mkdirat(root.fd, "a", 0755), 0);
	ck_assert_int_eq(mkdirat(root.fd, "a/b", 0755), 0);
	ck_assert_int_eq(write_file_at(root.fd, "a/b/f", "deep", 4, 0644), 0);
	ck_assert_int_eq(symlinkat("a", root.fd, "lnk"), 0);
	ck_assert_int_eq(symlinkat("b/f", root.fd, "a/flink"), 0);
	ck_assert_int_eq(symlinkat("/etc", root.fd, "abs"), 0);
	make_deep_chain();
}

static void setup_components(void)
{
	path_disable_openat2();
	setup();
}

static void teardown(void)
{
	free(deep_path);
	deep_path = NULL;
	scratch_remove(&root);
}

/* Read the (short) file open at fd and close it. */
static void assert_reads(int fd, const char *want)
{
	char buf[64];
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

static void assert_refused(const char *relpath, int flags)
{
	int fd;

	errno = 0;
	fd = open_beneath(root.fd, relpath, flags, 0, 0);
	if (fd >= 0)
		close(fd);
	ck_assert_msg(fd == -1, "'%.40s' was opened", relpath);
	/* The per-component walk meets a directory link as ENOTDIR (see below). */
	ck_assert_msg(errno == ELOOP || errno == EXDEV || errno == ENOTDIR,
		      "'%.40s': errno %d (%s)", relpath, errno, strerror(errno));
}

/* Refused with ELOOP, as openat2(RESOLVE_NO_SYMLINKS) says. */
static void assert_refused_eloop(const char *relpath, int flags)
{
	int fd;

	errno = 0;
	fd = open_beneath(root.fd, relpath, flags, 0, 0);
	if (fd >= 0)
		close(fd);
	ck_assert_msg(fd == -1, "'%.40s' was opened", relpath);
	ck_assert_msg(errno == ELOOP, "'%.40s': errno %d (%s), want ELOOP", relpath, errno,
		      strerror(errno));
}

START_TEST(test_opens_beneath)
{
	struct stat a, b;
	int fd;

	assert_reads(open_beneath(root.fd, "a/b/f", O_RDONLY, 0, 0), "deep");
	assert_reads(open_beneath(root.fd, "a//b/./f", O_RDONLY, 0, 0), "deep");
	fd = open_beneath(root.fd, "", O_RDONLY | O_DIRECTORY, 0, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(fstat(root.fd, &b), 0);
	ck_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
	errno = 0;
	ck_assert_int_eq(open_beneath(root.fd, "a/missing", O_RDONLY, 0, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_creates_with_mode)
{
	struct stat st;
	int fd = open_beneath(root.fd, "a/b/new", O_WRONLY | O_CREAT | O_EXCL, 0640, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0700, 0600);
	close(fd);
	errno = 0;
	ck_assert_int_eq(open_beneath(root.fd, "a/b/new", O_WRONLY | O_CREAT | O_EXCL, 0640, 0),
			 -1);
	ck_assert_int_eq(errno, EEXIST);
}
END_TEST

START_TEST(test_refuses_symlink_in_middle)
{
	assert_refused("lnk/b/f", O_RDONLY);
	assert_refused("lnk/b", O_RDONLY | O_DIRECTORY);
	assert_refused("abs/passwd", O_RDONLY);
}
END_TEST

START_TEST(test_refuses_symlink_at_end)
{
	assert_refused("a/flink", O_RDONLY);
	assert_refused("lnk", O_RDONLY | O_DIRECTORY);
	assert_refused("abs", O_RDONLY);
}
END_TEST

START_TEST(test_refuses_dotdot)
{
	assert_refused("..", O_RDONLY | O_DIRECTORY);
	assert_refused("../x", O_RDONLY);
	assert_refused("a/../../x", O_RDONLY);
	assert_refused("a/b/../../..", O_RDONLY | O_DIRECTORY);
}
END_TEST

/*
 * Both backends should give the same errno for the same tree, so a user
 * reads the same message whatever the kernel: "Too many levels of symbolic
 * links", not "Not a directory" for a link that is (to) a directory.
 */
START_TEST(test_symlink_errno_is_eloop)
{
	assert_refused_eloop("a/flink", O_RDONLY);
	assert_refused_eloop("lnk/b/f", O_RDONLY);
	assert_refused_eloop("lnk", O_RDONLY | O_DIRECTORY);
}
END_TEST

/* An absolute path never reaches outside root. */
START_TEST(test_absolute_stays_beneath)
{
	int fd = open_beneath(root.fd, "/etc/passwd", O_RDONLY, 0, 0);

	if (fd >= 0)
		close(fd);
	ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(test_follow_allows_symlinks)
{
	assert_reads(open_beneath(root.fd, "lnk/b/f", O_RDONLY, 0, 1), "deep");
	assert_reads(open_beneath(root.fd, "a/flink", O_RDONLY, 0, 1), "deep");
}
END_TEST

START_TEST(test_longer_than_path_max)
{
	char *leaf = path_join(deep_path, "leaf");
	struct stat st;
	int fd;

	assert_reads(open_beneath(root.fd, leaf, O_RDONLY, 0, 0), "bottom");
	assert_reads(open_beneath(root.fd, leaf, O_RDONLY, 0, 1), "bottom");
	fd = open_beneath(root.fd, deep_path, O_RDONLY | O_DIRECTORY, 0, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstatat(fd, "leaf", &st, 0), 0);
	ck_assert_int_eq(st.st_size, 6);
	close(fd);
	free(leaf);
}
END_TEST

/* The symlink sits beyond the first PATH_MAX piece of the path. */
START_TEST(test_long_path_refuses_symlink)
{
	char name[NAME_LEN + 1];
	size_t cut = (size_t)JUMP_LEVEL * (NAME_LEN + 1) - 1; /* end of level JUMP_LEVEL-1 */
	char *via = malloc(strlen(deep_path) + 16);

	ck_assert_ptr_nonnull(via);
	ck_assert_uint_gt(cut, PATH_MAX);
	level_name(JUMP_LEVEL, name);
	ck_assert(strncmp(deep_path + cut + 1, name, NAME_LEN) == 0);
	memcpy(via, deep_path, cut);
	sprintf(via + cut, "/jump%s/leaf", deep_path + cut + 1 + NAME_LEN);
	assert_reads(open_beneath(root.fd, via, O_RDONLY, 0, 1), "bottom");
	assert_refused(via, O_RDONLY);
	free(via);
}
END_TEST

START_TEST(test_pathbuf_push_trim)
{
	struct pathbuf pb;
	size_t mark;

	pathbuf_init(&pb);
	ck_assert_str_eq(pb.data, "");
	ck_assert_uint_eq(pathbuf_push(&pb, "a"), 0);
	ck_assert_str_eq(pb.data, "a");
	mark = pathbuf_push(&pb, "bc");
	ck_assert_uint_eq(mark, 1);
	ck_assert_str_eq(pb.data, "a/bc");
	ck_assert_uint_eq(pathbuf_push(&pb, "d"), 4);
	ck_assert_str_eq(pb.data, "a/bc/d");
	pathbuf_trim(&pb, mark);
	ck_assert_str_eq(pb.data, "a");
	ck_assert_uint_eq(pb.len, 1);
	pathbuf_trim(&pb, 0);
	ck_assert_str_eq(pb.data, "");
	pathbuf_set(&pb, "x/yz", 3);
	ck_assert_str_eq(pb.data, "x/y");
	ck_assert_uint_eq(pb.len, 3);
	pathbuf_free(&pb);
}
END_TEST

START_TEST(test_pathbuf_grows)
{
	char name[NAME_LEN + 1];
	struct pathbuf pb;

	pathbuf_init(&pb);
	for (int k = 0; k < LEVELS; k++) {
		level_name(k, name);
		ck_assert_uint_eq(pathbuf_push(&pb, name),
				  k == 0 ? 0 : (size_t)k * (NAME_LEN + 1) - 1);
	}
	ck_assert_uint_eq(pb.len, strlen(pb.data));
	ck_assert_uint_eq(pb.len, (size_t)LEVELS * (NAME_LEN + 1) - 1);
	ck_assert_uint_gt(pb.cap, pb.len);
	level_name(LEVELS - 1, name);
	ck_assert_str_eq(path_basename(pb.data), name);
	pathbuf_trim(&pb, NAME_LEN);
	level_name(0, name);
	ck_assert_str_eq(pb.data, name);
	pathbuf_free(&pb);
}
END_TEST

START_TEST(test_basename_dirlen_join)
{
	char *joined;

	ck_assert_str_eq(path_basename("a/b/c"), "c");
	ck_assert_str_eq(path_basename("c"), "c");
	ck_assert_str_eq(path_basename(""), "");
	ck_assert_uint_eq(path_dirlen("a/b/c"), 3);
	ck_assert_uint_eq(path_dirlen("ab/c"), 2);
	ck_assert_uint_eq(path_dirlen("c"), 0);
	ck_assert_uint_eq(path_dirlen(""), 0);
	joined = path_join("/src", "a/b");
	ck_assert_str_eq(joined, "/src/a/b");
	free(joined);
	joined = path_join("/src", "");
	ck_assert_str_eq(joined, "/src");
	free(joined);
}
END_TEST

static TCase *open_tcase(const char *name, void (*fixture)(void))
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fixture, teardown);
	tcase_add_test(tc, test_opens_beneath);
	tcase_add_test(tc, test_creates_with_mode);
	tcase_add_test(tc, test_refuses_symlink_in_middle);
	tcase_add_test(tc, test_refuses_symlink_at_end);
	tcase_add_test(tc, test_symlink_errno_is_eloop);
	tcase_add_test(tc, test_refuses_dotdot);
	tcase_add_test(tc, test_absolute_stays_beneath);
	tcase_add_test(tc, test_follow_allows_symlinks);
	tcase_add_test(tc, test_longer_than_path_max);
	tcase_add_test(tc, test_long_path_refuses_symlink);
	tcase_set_timeout(tc, 30);
	return tc;
}

Suite *path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *helpers = tcase_create("helpers");

	tcase_add_test(helpers, test_pathbuf_push_trim);
	tcase_add_test(helpers, test_pathbuf_grows);
	tcase_add_test(helpers, test_basename_dirlen_join);
	suite_add_tcase(s, helpers);
	suite_add_tcase(s, open_tcase("openat2", setup));
	/* Sticky: must stay the last TCase of the last suite. */
	suite_add_tcase(s, open_tcase("components", setup_components));
	return s;
}
