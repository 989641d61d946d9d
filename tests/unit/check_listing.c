/*
 * check_listing.c - listings read for the walker by someone else: the
 * packed form's round trip (a failed stat included), malformed buffers,
 * the walk-order keys, and a walk that takes its listings from a source.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"
#include "testlib.h"
#include "walk/listing.h"
#include "walk/walk.h"

/* A listing of three entries: stated, failed (ENOENT), not stated. */
static void make_three(struct listing *l, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0640;
	st->st_size = 12345;
	st->st_ino = 77;
	st->st_mtim.tv_nsec = 999;
	listing_init(l);
	listing_add(l, DT_REG, "file", st, 0);
	listing_add(l, DT_UNKNOWN, "gone", NULL, ENOENT);
	listing_add(l, DT_DIR, "a directory", NULL, LISTING_NOT_STATED);
}

START_TEST(test_pack_unpack_round_trip)
{
	struct listing l, back;
	struct stat st;
	const char *name;
	unsigned char type;
	size_t len, pos = 0;
	char *buf;

	make_three(&l, &st);
	buf = listing_pack(&l, &len);
	ck_assert_int_eq(listing_unpack(buf, len, &back), 0);
	ck_assert_uint_eq(back.count, 3);
	ck_assert(lookahead_list_next(&back.names, &pos, &type, &name));
	ck_assert_str_eq(name, "file");
	ck_assert_int_eq(type, DT_REG);
	ck_assert_int_eq(back.stats[0].err, 0);
	ck_assert_mem_eq(&back.stats[0].st, &st, sizeof(st));
	ck_assert(lookahead_list_next(&back.names, &pos, &type, &name));
	ck_assert_str_eq(name, "gone");
	ck_assert_int_eq(type, DT_UNKNOWN);
	ck_assert_int_eq(back.stats[1].err, ENOENT);
	ck_assert(lookahead_list_next(&back.names, &pos, &type, &name));
	ck_assert_str_eq(name, "a directory");
	ck_assert_int_eq(back.stats[2].err, LISTING_NOT_STATED);
	ck_assert(!lookahead_list_next(&back.names, &pos, &type, &name));
	free(buf);
	listing_free(&back);
	listing_free(&l);
}
END_TEST

START_TEST(test_empty_listing_round_trip)
{
	struct listing l, back;
	size_t len;
	char *buf;

	listing_init(&l);
	buf = listing_pack(&l, &len);
	ck_assert_int_eq(listing_unpack(buf, len, &back), 0);
	ck_assert_uint_eq(back.count, 0);
	ck_assert_uint_eq(back.names.len, 0);
	free(buf);
	listing_free(&back);
}
END_TEST

START_TEST(test_malformed_refused)
{
	struct listing l, back;
	struct stat st;
	size_t len;
	char *buf;

	make_three(&l, &st);
	buf = listing_pack(&l, &len);
	/* Every truncation is refused, and so is a name without its NUL. */
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_int_eq(listing_unpack(buf, cut, &back), -1);
	buf[len - 1] = 'x';
	ck_assert_int_eq(listing_unpack(buf, len, &back), -1);
	buf[len - 1] = '\0';
	/* A count that does not match the names. */
	buf[0]++;
	ck_assert_int_eq(listing_unpack(buf, len, &back), -1);
	ck_assert_uint_eq(back.count, 0);
	free(buf);
	listing_free(&l);
}
END_TEST

/* The tree below, its directories in walk order, each with its index path. */
static const struct {
	const char *path;
	int depth;
	uint32_t index[3];
} tree_dirs[] = {
	{ "", 0, { 0 } },       { "a", 1, { 1 } },
	{ "a/x", 2, { 1, 0 } }, { "a/x/deep", 3, { 1, 0, 5 } },
	{ "a/y", 2, { 1, 3 } }, { "b", 1, { 4 } },
	{ "b/z", 2, { 4, 0 } },
};
#define TREE_DIRS ((int)(sizeof(tree_dirs) / sizeof(tree_dirs[0])))

/* Build the key of tree_dirs[i] the way a broker does: from its parent's. */
static void key_of(int i, struct walk_key *k)
{
	struct walk_key parent = { NULL, 0 };

	*k = parent;
	for (int level = 0; level < tree_dirs[i].depth; level++) {
		walk_key_child(&parent, tree_dirs[i].index[level], k);
		walk_key_free(&parent);
		parent = *k;
	}
}

START_TEST(test_keys_give_walk_order)
{
	struct walk_key keys[TREE_DIRS];

	for (int i = 0; i < TREE_DIRS; i++)
		key_of(i, &keys[i]);
	for (int i = 0; i < TREE_DIRS; i++)
		for (int j = 0; j < TREE_DIRS; j++) {
			int c = walk_key_compare(&keys[i], &keys[j]);

			ck_assert_msg((c < 0) == (i < j) && (c == 0) == (i == j), "%s vs %s: %d",
				      tree_dirs[i].path, tree_dirs[j].path, c);
		}
	for (int i = 0; i < TREE_DIRS; i++)
		walk_key_free(&keys[i]);
}
END_TEST

/* --- a walk fed by a source --- */

static struct scratch root;

/* What the test source did and what the visitor saw. */
static struct {
	int taken;             /* listings handed to the walker */
	int read_itself;       /* directories it read itself */
	int finished;          /* the finished hook ran */
	long long size_of_big; /* st_size the visitor saw for "big" */
	int saw_gone;          /* the visitor saw "gone-later" (stat'ed by the walker) */
	int errors;
} seen;

/* Hand out the root's listing: "big" with a made-up size, "real" with a failed stat. */
static int source_take(void *ctx, const char *relpath, struct listing *out)
{
	struct stat st;

	(void)ctx;
	if (strcmp(relpath, "") != 0)
		return 0;
	ck_assert_int_eq(fstatat(root.fd, "big", &st, AT_SYMLINK_NOFOLLOW), 0);
	st.st_size = 4242; /* proves the walker took this stat and made none */
	listing_init(out);
	listing_add(out, DT_REG, "big", &st, 0);
	listing_add(out, DT_REG, "gone-later", NULL, EIO);
	listing_add(out, DT_DIR, "sub", NULL, LISTING_NOT_STATED);
	seen.taken++;
	return 1;
}

static void source_read_itself(void *ctx, const char *relpath, const struct lookahead_list *l)
{
	(void)ctx;
	(void)l;
	ck_assert_str_eq(relpath, "sub");
	seen.read_itself++;
}

static void source_finished(void *ctx)
{
	(void)ctx;
	seen.finished++;
}

static int on_entry(void *ctx, const struct walk_entry *e)
{
	(void)ctx;
	if (strcmp(e->relpath, "big") == 0)
		seen.size_of_big = (long long)e->st->st_size;
	if (strcmp(e->relpath, "gone-later") == 0)
		seen.saw_gone = (long long)e->st->st_size == 3;
	return 0;
}

static int on_directory(void *ctx, const struct walk_entry *e, int descend)
{
	(void)ctx;
	(void)e;
	return descend;
}

static void on_error(void *ctx, const char *relpath, int err)
{
	(void)ctx;
	(void)relpath;
	(void)err;
	seen.errors++;
}

START_TEST(test_walk_takes_source_listings)
{
	const struct walk_source src = { source_take, source_read_itself, source_finished, NULL };
	struct walk_options o = { .source = &src };
	struct walk_visitor v = { .entry = on_entry, .directory = on_directory, .error = on_error };

	scratch_make(&root);
	ck_assert_int_eq(write_file_at(root.fd, "big", "0123456789", 10, 0644), 0);
	ck_assert_int_eq(write_file_at(root.fd, "gone-later", "abc", 3, 0644), 0);
	ck_assert_int_eq(mkdirat(root.fd, "sub", 0755), 0);
	ck_assert_int_eq(write_file_at(root.fd, "sub/inner", "x", 1, 0644), 0);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(walk_tree(root.fd, &o, &v), 0);
	ck_assert_int_eq(seen.taken, 1);
	ck_assert_int_eq(seen.size_of_big, 4242);
	ck_assert_int_eq(seen.saw_gone, 1); /* no usable stat: the walker made its own */
	ck_assert_int_eq(seen.read_itself, 1);
	ck_assert_int_eq(seen.finished, 1);
	ck_assert_int_eq(seen.errors, 0);
	scratch_remove(&root);
}
END_TEST

Suite *listing_suite(void)
{
	Suite *s = suite_create("listing");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pack_unpack_round_trip);
	tcase_add_test(tc, test_empty_listing_round_trip);
	tcase_add_test(tc, test_malformed_refused);
	tcase_add_test(tc, test_keys_give_walk_order);
	tcase_add_test(tc, test_walk_takes_source_listings);
	suite_add_tcase(s, tc);
	return s;
}
