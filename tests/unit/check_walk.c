/* check_walk.c - walk_tree: coverage, order, skipping, stopping, depth, loops. */
#include <check.h>
#include <dirent.h>
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
#include "walk/files_from.h"
#include "walk/filter.h"
#include "walk/lookahead.h"
#include "walk/walk.h"

#define MAX_SEEN 256

/* One visit the walker made. */
struct visit {
	char *relpath;
	mode_t type; /* S_IFMT bits of the entry's stat */
	int descend; /* for directories: what the walker offered */
	int name_ok; /* name is the basename of relpath and names the entry in dirfd */
};

/* What a walk saw. */
struct record {
	struct visit seen[MAX_SEEN];
	int count;
	char *errors[MAX_SEEN]; /* "relpath:errno" */
	int nerrors;
	const char *skip;       /* directory to answer 0 for */
	int stop_after;         /* visits before the visitor returns -1 (0: never) */
	_Atomic int *stop_flag; /* set after stop_after entries instead, if not NULL */
	int deepest;            /* longest relpath seen */
};

static struct scratch root;
static struct record rec;
static int walk_names_only;              /* walk with names_only (set by a test) */
static const struct filter *walk_filter; /* the walk's filter (set by a test) */

static void setup(void)
{
	walk_names_only = 0;
	walk_filter = NULL;
	memset(&rec, 0, sizeof(rec));
	scratch_make(&root);
}

static void teardown(void)
{
	for (int k = 0; k < rec.count; k++)
		free(rec.seen[k].relpath);
	for (int k = 0; k < rec.nerrors; k++)
		free(rec.errors[k]);
	scratch_remove(&root);
}

/*
 * Does e->name name what e->st describes, and end e->relpath?  With
 * names_only a non-directory's stat holds just its type.
 */
static int name_matches(const struct walk_entry *e, int follow, int names_only)
{
	struct stat st;

	if (strcmp(e->name, path_basename(e->relpath)) != 0)
		return 0;
	if (fstatat(e->dirfd, e->name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if ((st.st_mode & S_IFMT) != (e->st->st_mode & S_IFMT))
		return 0;
	if (names_only && !S_ISDIR(st.st_mode))
		return 1;
	return st.st_ino == e->st->st_ino && st.st_dev == e->st->st_dev;
}

static void note(struct record *r, const struct walk_entry *e, int descend, int follow,
		 int names_only)
{
	size_t len = strlen(e->relpath);
	struct visit *v;

	ck_assert_int_lt(r->count, MAX_SEEN);
	v = &r->seen[r->count++];
	v->relpath = strdup(e->relpath);
	v->type = e->st->st_mode & S_IFMT;
	v->descend = descend;
	v->name_ok = name_matches(e, follow, names_only);
	if ((int)len > r->deepest)
		r->deepest = (int)len;
}

/* The visitor's ctx: the record and the walk's options. */
struct visit_ctx {
	struct record *r;
	int follow;
	int names_only;
};

/* After each visit: -1 when the visitor should stop the walk now. */
static int after_visit(struct record *r)
{
	if (r->stop_after == 0 || r->count < r->stop_after)
		return 0;
	if (r->stop_flag == NULL)
		return -1;
	atomic_store(r->stop_flag, 1);
	return 0;
}

static int on_entry(void *ctx, const struct walk_entry *e)
{
	struct visit_ctx *c = ctx;

	note(c->r, e, -1, c->follow, c->names_only);
	return after_visit(c->r);
}

static int on_directory(void *ctx, const struct walk_entry *e, int descend)
{
	struct visit_ctx *c = ctx;

	note(c->r, e, descend, c->follow, c->names_only);
	if (after_visit(c->r) < 0)
		return -1;
	return c->r->skip != NULL && strcmp(e->relpath, c->r->skip) == 0 ? 0 : 1;
}

static void on_error(void *ctx, const char *relpath, int err)
{
	struct visit_ctx *c = ctx;
	char buf[PATH_MAX + 32];

	ck_assert_int_lt(c->r->nerrors, MAX_SEEN);
	snprintf(buf, sizeof(buf), "%.*s:%d", PATH_MAX, relpath, err);
	c->r->errors[c->r->nerrors++] = strdup(buf);
}

static int walk(int follow, _Atomic int *stop)
{
	struct visit_ctx ctx = { .r = &rec, .follow = follow, .names_only = walk_names_only };
	struct walk_visitor v = {
		.entry = on_entry, .directory = on_directory, .error = on_error, .ctx = &ctx
	};
	struct walk_options o = {
		.follow = follow,
		.names_only = walk_names_only,
		.stop = stop,
		.filter = walk_filter,
	};

	return walk_tree(root.fd, &o, &v);
}

/* Clear the record for another walk. */
static void forget_visits(void)
{
	for (int k = 0; k < rec.count; k++)
		free(rec.seen[k].relpath);
	for (int k = 0; k < rec.nerrors; k++)
		free(rec.errors[k]);
	memset(&rec, 0, sizeof(rec));
}

/*
 * A names-only walk offering its listings to la, as the counting scan does;
 * then a clean record for the walk that takes them.
 */
static void produce_listings(struct lookahead *la)
{
	struct visit_ctx ctx = { .r = &rec, .names_only = 1 };
	struct walk_visitor v = {
		.entry = on_entry, .directory = on_directory, .error = on_error, .ctx = &ctx
	};
	struct walk_options o = { .names_only = 1, .lookahead = la, .lookahead_produce = 1 };

	ck_assert_int_eq(walk_tree(root.fd, &o, &v), 0);
	forget_visits();
}

/* The walker's walk, taking listings from la. */
static int consume_listings(struct lookahead *la)
{
	struct visit_ctx ctx = { .r = &rec };
	struct walk_visitor v = {
		.entry = on_entry, .directory = on_directory, .error = on_error, .ctx = &ctx
	};
	struct walk_options o = { .lookahead = la };

	return walk_tree(root.fd, &o, &v);
}

/* Index of relpath in the record (asserting it was visited exactly once). */
static int index_of(const char *relpath)
{
	int found = -1;

	for (int k = 0; k < rec.count; k++) {
		if (strcmp(rec.seen[k].relpath, relpath) != 0)
			continue;
		ck_assert_msg(found < 0, "'%.60s' visited twice", relpath);
		found = k;
	}
	ck_assert_msg(found >= 0, "'%.60s' not visited", relpath);
	return found;
}

static int has_error(const char *relpath, int err)
{
	char want[PATH_MAX + 32];

	snprintf(want, sizeof(want), "%s:%d", relpath, err);
	for (int k = 0; k < rec.nerrors; k++)
		if (strcmp(rec.errors[k], want) == 0)
			return 1;
	return 0;
}

/*
 * f0, a/, a/f1, a/b/, a/b/f2, a/b/c/ (empty), d/ (empty), l -> a, p (fifo),
 * and a dot-name .hidden.
 */
static void make_tree(void)
{
	ck_assert_int_eq(write_file_at(root.fd, "f0", "0", 1, 0644), 0);
	ck_assert_int_eq(write_file_at(root.fd, ".hidden", "h", 1, 0644), 0);
	ck_assert_int_eq(mkdirat(root.fd, "a", 0755), 0);
	ck_assert_int_eq(write_file_at(root.fd, "a/f1", "1", 1, 0644), 0);
	ck_assert_int_eq(mkdirat(root.fd, "a/b", 0755), 0);
	ck_assert_int_eq(write_file_at(root.fd, "a/b/f2", "2", 1, 0644), 0);
	ck_assert_int_eq(mkdirat(root.fd, "a/b/c", 0755), 0);
	ck_assert_int_eq(mkdirat(root.fd, "d", 0755), 0);
	ck_assert_int_eq(symlinkat("a", root.fd, "l"), 0);
	ck_assert_int_eq(mkfifoat(root.fd, "p", 0644), 0);
}

static const struct {
	const char *relpath;
	mode_t type;
} tree_entries[] = {
	{ "f0", S_IFREG },  { ".hidden", S_IFREG }, { "a", S_IFDIR },     { "a/f1", S_IFREG },
	{ "a/b", S_IFDIR }, { "a/b/f2", S_IFREG },  { "a/b/c", S_IFDIR }, { "d", S_IFDIR },
	{ "l", S_IFLNK },   { "p", S_IFIFO },
};

#define TREE_COUNT ((int)(sizeof(tree_entries) / sizeof(tree_entries[0])))

/* Every parent directory is visited before what is inside it. */
static void assert_parents_first(void)
{
	for (int k = 0; k < rec.count; k++) {
		size_t len = path_dirlen(rec.seen[k].relpath);
		char *parent;
		int at;

		if (len == 0)
			continue;
		parent = strndup(rec.seen[k].relpath, len);
		ck_assert_ptr_nonnull(parent);
		at = index_of(parent);
		free(parent);
		ck_assert_msg(at < k, "'%.60s' before its directory", rec.seen[k].relpath);
	}
}

START_TEST(test_visits_everything_once)
{
	make_tree();
	ck_assert_int_eq(walk(0, NULL), 0);
	ck_assert_int_eq(rec.count, TREE_COUNT);
	ck_assert_int_eq(rec.nerrors, 0);
	for (int k = 0; k < TREE_COUNT; k++) {
		struct visit *v = &rec.seen[index_of(tree_entries[k].relpath)];

		ck_assert_msg(v->type == tree_entries[k].type, "'%.60s' has the wrong type",
			      v->relpath);
		ck_assert_msg(v->name_ok, "'%.60s': name or dirfd wrong", v->relpath);
		if (v->type == S_IFDIR)
			ck_assert_int_eq(v->descend, 1);
	}
}
END_TEST

/* names_only: the same entries with the same types, from d_type. */
START_TEST(test_names_only)
{
	make_tree();
	walk_names_only = 1;
	ck_assert_int_eq(walk(0, NULL), 0);
	ck_assert_int_eq(rec.count, TREE_COUNT);
	for (int k = 0; k < TREE_COUNT; k++) {
		struct visit *v = &rec.seen[index_of(tree_entries[k].relpath)];

		ck_assert_msg(v->type == tree_entries[k].type, "'%.60s' has the wrong type",
			      v->relpath);
		ck_assert_msg(v->name_ok, "'%.60s': name or dirfd wrong", v->relpath);
	}
	assert_parents_first();
}
END_TEST

/* names_only with follow: a link is looked through, not typed as a link. */
START_TEST(test_names_only_follow)
{
	make_tree();
	walk_names_only = 1;
	ck_assert_int_eq(walk(1, NULL), 0);
	ck_assert_int_eq(rec.seen[index_of("l")].type, S_IFDIR);
	ck_assert_int_eq(rec.seen[index_of("l/b/f2")].type, S_IFREG);
	ck_assert_int_eq(rec.count, TREE_COUNT + 4); /* l/f1, l/b, l/b/f2, l/b/c */
}
END_TEST

START_TEST(test_directories_before_contents)
{
	make_tree();
	ck_assert_int_eq(walk(0, NULL), 0);
	assert_parents_first();
	/* A directory's own entries come before its subdirectories' entries. */
	ck_assert_int_lt(index_of("a/f1"), index_of("a/b/f2"));
	ck_assert_int_lt(index_of("a/b"), index_of("a/b/f2"));
	ck_assert_int_lt(index_of("f0"), index_of("a/f1"));
	ck_assert_int_lt(index_of("p"), index_of("a/f1"));
}
END_TEST

START_TEST(test_skipped_directory_not_entered)
{
	make_tree();
	rec.skip = "a";
	ck_assert_int_eq(walk(0, NULL), 0);
	index_of("a");
	index_of("d");
	for (int k = 0; k < rec.count; k++)
		ck_assert_msg(strncmp(rec.seen[k].relpath, "a/", 2) != 0, "'%.60s' visited",
			      rec.seen[k].relpath);
	ck_assert_int_eq(rec.count, TREE_COUNT - 4);
}
END_TEST

/*
 * Excluded entries are not visited, and an excluded directory is not
 * entered -- its loops (an error if walked with follow) go unseen and an
 * include that matches inside it changes nothing.  With follow, a link
 * to a directory is a directory to the filter.
 */
static void check_filtered_walk(int names_only)
{
	static const char *const rules[] = { "+ f2", "b/", "p", "+ f1", "f*", "l/", NULL };
	static const char *const want[] = { ".hidden", "a", "a/f1", "a/up", "d", NULL };
	struct filter f;
	int n = 0;

	make_tree();
	ck_assert_int_eq(symlinkat(".", root.fd, "a/b/self"), 0);
	ck_assert_int_eq(symlinkat("f1", root.fd, "a/up"), 0);
	filter_init(&f);
	for (int k = 0; rules[k] != NULL; k++)
		filter_add(&f, rules[k], 0);
	walk_filter = &f;
	walk_names_only = names_only;
	ck_assert_int_eq(walk(1, NULL), 0);
	for (; want[n] != NULL; n++)
		index_of(want[n]);
	ck_assert_int_eq(rec.count, n);
	ck_assert_int_eq(rec.nerrors, 0);
	filter_free(&f);
}

START_TEST(test_filter_skips_entries_and_directories)
{
	check_filtered_walk(0);
}
END_TEST

START_TEST(test_filter_names_only)
{
	check_filtered_walk(1);
}
END_TEST

/*
 * With a list: the listed paths, each after the directories leading to
 * it (each visited once), a listed directory with all inside it, and an
 * error for a listed path that is not there.
 */
START_TEST(test_listed_paths_only)
{
	char *paths[] = { "", "a/b/c", "a/b/f2", "f0", "missing/x", "p" };
	static const char *const want[] = { "a", "a/b", "a/b/c", "a/b/f2", "f0", "p" };
	struct files_from l = { paths + 1, 5, 5 };
	struct visit_ctx ctx = { .r = &rec };
	struct walk_visitor v = {
		.entry = on_entry, .directory = on_directory, .error = on_error, .ctx = &ctx
	};
	struct walk_options o = { .files = &l };

	make_tree();
	ck_assert_int_eq(walk_tree(root.fd, &o, &v), 0);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		index_of(want[k]);
	ck_assert_int_eq(rec.count, 6);
	ck_assert_int_eq(rec.nerrors, 1);
	ck_assert(has_error("missing/x", ENOENT));
	assert_parents_first();
	/* "" is all of the tree */
	forget_visits();
	l.paths = paths;
	l.count = 2;
	ck_assert_int_eq(walk_tree(root.fd, &o, &v), 0);
	ck_assert_int_eq(rec.count, TREE_COUNT);
	/* a listed directory is walked whole */
	forget_visits();
	paths[1] = "a";
	l.paths = paths + 1;
	l.count = 1;
	ck_assert_int_eq(walk_tree(root.fd, &o, &v), 0);
	ck_assert_int_eq(rec.count, 5); /* a, a/f1, a/b, a/b/f2, a/b/c */
}
END_TEST

START_TEST(test_visitor_stops_walk)
{
	make_tree();
	rec.stop_after = 1;
	ck_assert_int_eq(walk(0, NULL), -1);
	ck_assert_int_eq(rec.count, 1);
}
END_TEST

START_TEST(test_stop_flag_ends_walk)
{
	_Atomic int stop = 1;

	make_tree();
	ck_assert_int_eq(walk(0, &stop), -1);
	ck_assert_int_eq(rec.count, 0);
	/* Raised mid-walk: nothing after the current entry. */
	atomic_store(&stop, 0);
	rec.stop_after = 2;
	rec.stop_flag = &stop;
	ck_assert_int_eq(walk(0, &stop), -1);
	ck_assert_int_eq(rec.count, 2);
}
END_TEST

START_TEST(test_empty_root)
{
	ck_assert_int_eq(walk(0, NULL), 0);
	ck_assert_int_eq(rec.count, 0);
	ck_assert_int_eq(rec.nerrors, 0);
}
END_TEST

#define DEEP_LEVELS 40
#define DEEP_NAME 120

/* A chain of DEEP_LEVELS directories with long names and a file at the bottom. */
static void make_deep_tree(void)
{
	char name[DEEP_NAME + 1];
	int fd = dup(root.fd);

	for (int k = 0; k < DEEP_LEVELS; k++) {
		int next;

		memset(name, 'a' + k % 26, DEEP_NAME);
		name[DEEP_NAME] = '\0';
		ck_assert_int_eq(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(next, 0);
		close(fd);
		fd = next;
	}
	ck_assert_int_eq(write_file_at(fd, "leaf", "bottom", 6, 0644), 0);
	close(fd);
}

START_TEST(test_deeper_than_path_max)
{
	int leaf = -1, dirs = 0;

	make_deep_tree();
	ck_assert_int_eq(walk(0, NULL), 0);
	ck_assert_int_eq(rec.nerrors, 0);
	ck_assert_int_eq(rec.count, DEEP_LEVELS + 1);
	for (int k = 0; k < rec.count; k++) {
		struct visit *v = &rec.seen[k];

		ck_assert_msg(v->name_ok, "entry %d: name or dirfd wrong", k);
		if (v->type == S_IFDIR) {
			ck_assert_uint_eq(strlen(v->relpath),
					  (size_t)(dirs + 1) * (DEEP_NAME + 1) - 1);
			dirs++;
		} else {
			leaf = k;
		}
	}
	ck_assert_int_eq(dirs, DEEP_LEVELS);
	ck_assert_int_eq(leaf, DEEP_LEVELS);
	ck_assert_str_eq(path_basename(rec.seen[leaf].relpath), "leaf");
	ck_assert_int_gt(rec.deepest, PATH_MAX);
	assert_parents_first();
}
END_TEST

/* Without follow, symbolic links are entries and never entered. */
START_TEST(test_links_not_followed)
{
	make_tree();
	ck_assert_int_eq(symlinkat(".", root.fd, "a/self"), 0);
	ck_assert_int_eq(walk(0, NULL), 0);
	ck_assert_int_eq(rec.seen[index_of("a/self")].type, S_IFLNK);
	ck_assert_int_eq(rec.count, TREE_COUNT + 1);
	ck_assert_int_eq(rec.nerrors, 0);
}
END_TEST

START_TEST(test_follow_cycle_reported)
{
	make_tree();
	ck_assert_int_eq(symlinkat("..", root.fd, "a/up"), 0);
	ck_assert_int_eq(symlinkat(".", root.fd, "a/b/self"), 0);
	ck_assert_int_eq(walk(1, NULL), 0);
	ck_assert_msg(has_error("a/up", WALK_CYCLE), "a/up -> .. not reported");
	ck_assert_msg(has_error("a/b/self", WALK_CYCLE), "a/b/self -> . not reported");
	/* l -> a is a directory when followed, entered once, its loops caught too. */
	ck_assert_int_eq(rec.seen[index_of("l")].type, S_IFDIR);
	ck_assert_int_eq(rec.seen[index_of("l/b/f2")].type, S_IFREG);
	ck_assert(has_error("l/up", WALK_CYCLE));
	ck_assert(has_error("l/b/self", WALK_CYCLE));
	assert_parents_first();
}
END_TEST

/* A symbolic link loop is not a directory cycle: the kernel's ELOOP. */
START_TEST(test_follow_symlink_loop_is_eloop)
{
	make_tree();
	ck_assert_int_eq(symlinkat("loop2", root.fd, "a/loop1"), 0);
	ck_assert_int_eq(symlinkat("loop1", root.fd, "a/loop2"), 0);
	ck_assert_int_eq(walk(1, NULL), 0);
	ck_assert(has_error("a/loop1", ELOOP));
	ck_assert(has_error("a/loop2", ELOOP));
	ck_assert(!has_error("a/loop1", WALK_CYCLE));
}
END_TEST

/* cp -L reports a dangling link ("cannot stat"); it must not vanish silently. */
START_TEST(test_follow_dangling_link_not_silent)
{
	ck_assert_int_eq(symlinkat("nowhere", root.fd, "dangling"), 0);
	ck_assert_int_eq(walk(1, NULL), 0);
	ck_assert_msg(rec.count + rec.nerrors == 1,
		      "dangling link with follow: %d visits, %d errors", rec.count, rec.nerrors);
}
END_TEST

/*
 * The walker takes the scan's listings instead of reading: a name added
 * after the scan is not seen (what a read a moment earlier gives), a name
 * removed since is skipped without a word, and everything else is visited
 * with its own stat.
 */
START_TEST(test_lookahead_listings_taken)
{
	struct lookahead la;

	lookahead_init(&la, LOOKAHEAD_BUDGET);
	make_tree();
	produce_listings(&la);
	ck_assert_int_eq(write_file_at(root.fd, "a/late", "x", 1, 0644), 0);
	ck_assert_int_eq(unlinkat(root.fd, "a/b/f2", 0), 0);
	ck_assert_int_eq(consume_listings(&la), 0);
	ck_assert_int_eq(rec.nerrors, 0);
	ck_assert_int_eq(rec.count, TREE_COUNT - 1);
	for (int k = 0; k < TREE_COUNT; k++) {
		struct visit *v;

		if (strcmp(tree_entries[k].relpath, "a/b/f2") == 0)
			continue;
		v = &rec.seen[index_of(tree_entries[k].relpath)];
		ck_assert_msg(v->type == tree_entries[k].type, "'%.60s' has the wrong type",
			      v->relpath);
		ck_assert_msg(v->name_ok, "'%.60s': name or stat wrong", v->relpath);
	}
	assert_parents_first();
	ck_assert_uint_eq(la.used, 0);
	/* Without the listings the same walk sees the tree as it is now. */
	forget_visits();
	ck_assert_int_eq(walk(0, NULL), 0);
	index_of("a/late");
	lookahead_destroy(&la);
}
END_TEST

/*
 * The walker skips a directory the scan entered: the directories after it
 * no longer line up, and the walker must read them itself, not take the
 * listing of another directory.
 */
START_TEST(test_lookahead_walks_differ)
{
	struct lookahead la;

	lookahead_init(&la, LOOKAHEAD_BUDGET);
	make_tree();
	ck_assert_int_eq(write_file_at(root.fd, "d/g", "g", 1, 0644), 0);
	produce_listings(&la);
	rec.skip = "a/b";
	ck_assert_int_eq(consume_listings(&la), 0);
	ck_assert_int_eq(rec.nerrors, 0);
	index_of("d/g");
	index_of("a/f1");
	for (int k = 0; k < rec.count; k++) {
		ck_assert_msg(strncmp(rec.seen[k].relpath, "a/b/", 4) != 0, "'%.60s' visited",
			      rec.seen[k].relpath);
		ck_assert_msg(rec.seen[k].name_ok, "'%.60s': name or stat wrong",
			      rec.seen[k].relpath);
	}
	ck_assert_int_eq(rec.count, TREE_COUNT + 1 - 2);
	lookahead_destroy(&la);
}
END_TEST

/* What the `listed` hook saw: each listing, when, and how many names. */
static struct {
	char *relpath;
	int visits_before; /* rec.count when it came */
	int names;         /* names in it */
	int complete;
	int has_p; /* the excluded fifo "p" is among the names */
} listings[MAX_SEEN];
static int nlistings;

static int on_listed(void *ctx, const struct walk_listing *l)
{
	const char *name;
	unsigned char t;
	size_t pos = 0;

	(void)ctx;
	ck_assert_int_lt(nlistings, MAX_SEEN);
	listings[nlistings].relpath = strdup(l->relpath);
	listings[nlistings].visits_before = rec.count;
	listings[nlistings].complete = l->complete;
	listings[nlistings].names = 0;
	listings[nlistings].has_p = 0;
	while (l->names != NULL && lookahead_list_next(l->names, &pos, &t, &name)) {
		listings[nlistings].names++;
		if (strcmp(name, "p") == 0)
			listings[nlistings].has_p = t == DT_FIFO || t == DT_UNKNOWN;
	}
	nlistings++;
	return 0;
}

/* Check the listings of make_tree's directories against the visits. */
static void check_listings(void)
{
	static const struct {
		const char *relpath;
		int names;
	} dirs[] = { { "", 6 }, { "a", 2 }, { "a/b", 2 }, { "a/b/c", 0 }, { "d", 0 } };

	ck_assert_int_eq(nlistings, 5);
	for (int k = 0; k < nlistings; k++) {
		int found = 0;

		ck_assert_int_eq(listings[k].complete, 1);
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			if (strcmp(dirs[i].relpath, listings[k].relpath) != 0)
				continue;
			found = 1;
			ck_assert_int_eq(listings[k].names, dirs[i].names);
		}
		ck_assert_msg(found, "listing of '%s'", listings[k].relpath);
		/* After the directory's own visit, before any of its entries. */
		if (listings[k].relpath[0] != '\0')
			ck_assert_int_gt(listings[k].visits_before, index_of(listings[k].relpath));
		for (int v = 0; v < listings[k].visits_before; v++)
			ck_assert_msg(path_dirlen(rec.seen[v].relpath) !=
						      strlen(listings[k].relpath) ||
					      strncmp(rec.seen[v].relpath, listings[k].relpath,
						      strlen(listings[k].relpath)) != 0,
				      "'%s' visited before its directory's listing",
				      rec.seen[v].relpath);
	}
	ck_assert_int_eq(listings[0].has_p, 1);
	for (int k = 0; k < nlistings; k++)
		free(listings[k].relpath);
	nlistings = 0;
}

/*
 * The `listed` hook (--delete's) gets each directory's whole listing,
 * excluded names too, before any entry in it is visited; from the scan's
 * listings as from reading.
 */
START_TEST(test_listed_before_entries)
{
	struct visit_ctx ctx = { .r = &rec };
	struct walk_visitor v = { .entry = on_entry,
				  .directory = on_directory,
				  .error = on_error,
				  .ctx = &ctx,
				  .listed = on_listed };
	struct walk_options o = { 0 };
	struct lookahead la;
	struct filter f;

	make_tree();
	filter_init(&f);
	filter_add(&f, "p", 0);
	o.filter = &f;
	ck_assert_int_eq(walk_tree(root.fd, &o, &v), 0);
	ck_assert_int_eq(rec.count, TREE_COUNT - 1);
	check_listings();
	forget_visits();
	lookahead_init(&la, LOOKAHEAD_BUDGET);
	produce_listings(&la);
	o.lookahead = &la;
	ck_assert_int_eq(walk_tree(root.fd, &o, &v), 0);
	check_listings();
	lookahead_destroy(&la);
	filter_free(&f);
}
END_TEST

/* A directory visitor that removes the (empty) directory "d" it is shown. */
static int on_directory_remove_d(void *ctx, const struct walk_entry *e, int descend)
{
	if (strcmp(e->relpath, "d") == 0)
		ck_assert_int_eq(unlinkat(root.fd, "d", AT_REMOVEDIR), 0);
	return on_directory(ctx, e, descend);
}

/* A directory that cannot be opened: `error`, then a listing marked incomplete. */
START_TEST(test_listed_unreadable)
{
	struct visit_ctx ctx = { .r = &rec };
	struct walk_visitor v = { .entry = on_entry,
				  .directory = on_directory_remove_d,
				  .error = on_error,
				  .ctx = &ctx,
				  .listed = on_listed };
	struct walk_options o = { 0 };
	int incomplete = -1;

	make_tree();
	ck_assert_int_eq(walk_tree(root.fd, &o, &v), 0);
	ck_assert(has_error("d", ENOENT));
	ck_assert_int_eq(nlistings, 5);
	for (int k = 0; k < nlistings; k++) {
		if (strcmp(listings[k].relpath, "d") == 0)
			incomplete = k;
		else
			ck_assert_int_eq(listings[k].complete, 1);
	}
	ck_assert_int_ge(incomplete, 0);
	ck_assert_int_eq(listings[incomplete].complete, 0);
	ck_assert_int_eq(listings[incomplete].names, 0);
	for (int k = 0; k < nlistings; k++)
		free(listings[k].relpath);
	nlistings = 0;
}
END_TEST

Suite *walk_suite(void)
{
	Suite *s = suite_create("walk");
	TCase *tc = tcase_create("walk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_visits_everything_once);
	tcase_add_test(tc, test_directories_before_contents);
	tcase_add_test(tc, test_names_only);
	tcase_add_test(tc, test_names_only_follow);
	tcase_add_test(tc, test_skipped_directory_not_entered);
	tcase_add_test(tc, test_filter_skips_entries_and_directories);
	tcase_add_test(tc, test_filter_names_only);
	tcase_add_test(tc, test_listed_paths_only);
	tcase_add_test(tc, test_visitor_stops_walk);
	tcase_add_test(tc, test_stop_flag_ends_walk);
	tcase_add_test(tc, test_empty_root);
	tcase_add_test(tc, test_deeper_than_path_max);
	tcase_add_test(tc, test_links_not_followed);
	tcase_add_test(tc, test_follow_cycle_reported);
	tcase_add_test(tc, test_follow_symlink_loop_is_eloop);
	tcase_add_test(tc, test_follow_dangling_link_not_silent);
	tcase_add_test(tc, test_lookahead_listings_taken);
	tcase_add_test(tc, test_lookahead_walks_differ);
	tcase_add_test(tc, test_listed_before_entries);
	tcase_add_test(tc, test_listed_unreadable);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
