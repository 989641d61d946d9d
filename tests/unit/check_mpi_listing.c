/*
 * check_mpi_listing.c - pcopy-mpi's listing broker without MPI: a walker
 * thread takes its listings from the broker while the test's thread plays
 * the forwarder and the listing ranks (lister_read, broker_arrived).  The
 * walk must visit what it visits without a broker, in the same order; a
 * directory the walker skips is listed for nothing and dropped; every
 * directory is listed once, by a "rank" or by the walker; a listing too
 * big to send is left to the walker.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirstream.h"
#include "base/strlist.h"
#include "core/session.h"
#include "suites.h"
#include "testlib.h"
#include "walk/broker.h"
#include "walk/listing.h"
#include "walk/walk.h"

#define LISTERS 2

static struct scratch root;

/* One walk: what it visited, in order, and what it skips. */
struct walk_run {
	struct strlist visited; /* relpaths, directories as "relpath/" */
	const char *skip;       /* a directory not entered, or NULL */
	const struct walk_source *source;
	_Atomic int errors; /* asserted on the test's thread, after the walk */
	_Atomic int done;
};

static int on_entry(void *ctx, const struct walk_entry *e)
{
	struct walk_run *w = ctx;
	char line[512];

	/* the size proves the stat is the entry's, whoever made it */
	snprintf(line, sizeof(line), "%s %lld", e->relpath, (long long)e->st->st_size);
	strlist_add(&w->visited, line);
	return 0;
}

static int on_directory(void *ctx, const struct walk_entry *e, int descend)
{
	struct walk_run *w = ctx;
	char line[512];

	snprintf(line, sizeof(line), "%s/", e->relpath);
	strlist_add(&w->visited, line);
	return descend && (w->skip == NULL || strcmp(e->relpath, w->skip) != 0);
}

static void on_error(void *ctx, const char *relpath, int err)
{
	struct walk_run *w = ctx;

	(void)relpath;
	(void)err;
	atomic_fetch_add(&w->errors, 1);
}

static void *walk_main(void *arg)
{
	struct walk_run *w = arg;
	struct walk_options o = { .source = w->source };
	struct walk_visitor v = {
		.entry = on_entry, .directory = on_directory, .error = on_error, .ctx = w
	};

	walk_tree(root.fd, &o, &v);
	atomic_store(&w->done, 1);
	return NULL;
}

/* 4 top directories of 5 subdirectories of 3 files of sizes 0..2. */
static int make_tree(void)
{
	char path[64];
	int dirs = 1;

	for (int t = 0; t < 4; t++) {
		snprintf(path, sizeof(path), "t%d", t);
		ck_assert_int_eq(mkdirat(root.fd, path, 0755), 0);
		dirs++;
		for (int d = 0; d < 5; d++) {
			snprintf(path, sizeof(path), "t%d/d%d", t, d);
			ck_assert_int_eq(mkdirat(root.fd, path, 0755), 0);
			dirs++;
			for (int f = 0; f < 3; f++) {
				snprintf(path, sizeof(path), "t%d/d%d/f%d", t, d, f);
				ck_assert_int_eq(write_file_at(root.fd, path, "ab", (size_t)f,
							       0644),
						 0);
			}
		}
	}
	return dirs;
}

/* Play the forwarder and LISTERS ranks until the walk is over; directories they listed. */
static int serve(struct broker *b, struct walk_run *w)
{
	struct walk_options o = { 0 };
	char *dirbuf = dirstream_buffer();
	int listed = 0;

	while (!atomic_load(&w->done)) {
		for (int rank = 1; rank <= LISTERS; rank++) {
			size_t len;
			char *paths = broker_next_batch(b, rank, &len);

			struct lister_reply reply = { 0 };

			for (size_t at = 0; paths != NULL && at < len; at += strlen(paths + at) + 1)
				lister_read(root.fd, &o, paths + at, dirbuf, NULL, &reply);
			if (paths != NULL)
				ck_assert_int_eq(broker_arrived(b, rank, reply.buf, reply.len), 0);
			listed += (int)reply.dirs;
			free(reply.buf);
			free(paths);
		}
		test_pause(0.0001);
	}
	free(dirbuf);
	return listed;
}

/* Walk with a broker (enabled or not), skipping `skip`; check against a plain walk. */
static void walk_with_broker(int enabled, const char *skip)
{
	struct walk_run plain = { .skip = skip }, brokered = { .skip = skip };
	struct worker_slot slot;
	struct broker_config c = {
		.listers = LISTERS, .enabled = enabled, .root = -1, .slot = &slot
	};
	struct broker *b;
	pthread_t walker;
	int dirs, listed;

	scratch_make(&root);
	dirs = make_tree();
	memset(&slot, 0, sizeof(slot));
	c.root = root.fd;
	strlist_init(&plain.visited);
	strlist_init(&brokered.visited);
	walk_main(&plain);
	b = broker_create(&c);
	brokered.source = broker_source(b);
	ck_assert_int_eq(pthread_create(&walker, NULL, walk_main, &brokered), 0);
	listed = serve(b, &brokered);
	pthread_join(walker, NULL);
	ck_assert_int_eq(atomic_load(&plain.errors) + atomic_load(&brokered.errors), 0);
	ck_assert_uint_eq(brokered.visited.count, plain.visited.count);
	for (size_t i = 0; i < plain.visited.count; i++)
		ck_assert_str_eq(strlist_get(&brokered.visited, i), strlist_get(&plain.visited, i));
	if (skip == NULL)
		ck_assert_int_eq(listed + (int)atomic_load(&slot.dirs_listed), dirs);
	if (!enabled)
		ck_assert_int_eq(listed, 0);
	broker_free(b);
	strlist_free(&plain.visited);
	strlist_free(&brokered.visited);
	scratch_remove(&root);
}

START_TEST(test_walk_through_broker)
{
	walk_with_broker(1, NULL);
}
END_TEST

START_TEST(test_skipped_directory_dropped)
{
	walk_with_broker(1, "t1");
}
END_TEST

START_TEST(test_disabled_broker_lists_nothing)
{
	walk_with_broker(0, NULL);
}
END_TEST

/* Make `n` empty files in the new directory `dir` of the scratch tree. */
static void make_wide_directory(const char *dir, int n)
{
	char name[64];

	ck_assert_int_eq(mkdirat(root.fd, dir, 0755), 0);
	for (int i = 0; i < n; i++) {
		int fd;

		snprintf(name, sizeof(name), "%s/entry-%05d", dir, i);
		fd = openat(root.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
}

/*
 * Memory stays bounded whatever the directory: one whose listing passes
 * 1 MiB (8,000 stat'ed entries) is answered "cannot", and so is every
 * directory after a reply reaches 1 MiB (two of 4,000 entries); the
 * reply itself stays whole.  A reply cut short is refused as malformed.
 */
START_TEST(test_big_listings_left_to_walker)
{
	struct walk_options o = { 0 };
	struct lister_reply reply = { 0 };
	struct worker_slot slot;
	struct broker_config c = { .listers = 1, .enabled = 1, .root = -1, .slot = &slot };
	char *dirbuf = dirstream_buffer();
	struct broker *b;

	scratch_make(&root);
	memset(&slot, 0, sizeof(slot));
	make_wide_directory("wide", 8000);
	lister_read(root.fd, &o, "wide", dirbuf, NULL, &reply);
	ck_assert_uint_eq(reply.dirs, 0);
	ck_assert_uint_lt(reply.len, 1024);
	free(reply.buf);
	memset(&reply, 0, sizeof(reply));
	make_wide_directory("a", 4000);
	make_wide_directory("b", 4000);
	make_wide_directory("c", 4000);
	lister_read(root.fd, &o, "a", dirbuf, NULL, &reply);
	lister_read(root.fd, &o, "b", dirbuf, NULL, &reply);
	ck_assert_uint_ge(reply.len, (size_t)1 << 20);
	lister_read(root.fd, &o, "c", dirbuf, NULL, &reply);
	ck_assert_uint_eq(reply.dirs, 2);
	ck_assert_uint_eq(reply.entries, 8000);
	c.root = root.fd;
	b = broker_create(&c);
	ck_assert_int_eq(broker_arrived(b, 1, reply.buf, reply.len), 0);
	ck_assert_int_eq(broker_arrived(b, 1, reply.buf, reply.len - 1), -1);
	broker_free(b);
	free(reply.buf);
	free(dirbuf);
	scratch_remove(&root);
}
END_TEST

/*
 * A lister on another node numbers SRC's file system differently: the
 * stats it sends say rank 0's number (dev_rank0) for its own (dev_here).
 */
START_TEST(test_device_renumbered)
{
	struct walk_options o = { 0 };
	struct lister_reply reply = { 0 };
	char *dirbuf = dirstream_buffer();
	const char *rest;
	struct listing l;
	struct stat top;
	int fd;

	scratch_make(&root);
	ck_assert_int_eq(fstat(root.fd, &top), 0);
	ck_assert_int_eq(mkdirat(root.fd, "d", 0755), 0);
	fd = openat(root.fd, "d/f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	reply.dev_here = top.st_dev;
	reply.dev_rank0 = (uint64_t)top.st_dev + 1000;
	lister_read(root.fd, &o, "d", dirbuf, NULL, &reply);
	ck_assert_uint_eq(reply.dirs, 1);
	/* the reply: a head, the path, then the packed listing (mpi_listing.c) */
	rest = memchr(reply.buf + 16, '\0', reply.len - 16);
	ck_assert_ptr_nonnull(rest);
	rest++;
	ck_assert_int_eq(listing_unpack(rest, reply.len - (size_t)(rest - reply.buf), &l), 0);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_int_eq(l.stats[0].err, 0);
	ck_assert_uint_eq((uint64_t)l.stats[0].st.st_dev, (uint64_t)top.st_dev + 1000);
	listing_free(&l);
	free(reply.buf);
	free(dirbuf);
	scratch_remove(&root);
}
END_TEST

/* List each of the `len` bytes of `paths` and answer for rank 1. */
static void answer(struct broker *b, const char *paths, size_t len, char *dirbuf)
{
	struct walk_options o = { 0 };

	for (size_t at = 0; at < len; at += strlen(paths + at) + 1) {
		struct lister_reply reply = { 0 };

		lister_read(root.fd, &o, paths + at, dirbuf, NULL, &reply);
		ck_assert_int_eq(broker_arrived(b, 1, reply.buf, reply.len), 0);
		free(reply.buf);
	}
}

/*
 * Hand out to rank 1, list and answer until the broker has nothing more;
 * count each path "X/..." handed out in by_top[X].
 */
static void drain(struct broker *b, int *by_top, char *dirbuf)
{
	size_t len;
	char *paths;

	while ((paths = broker_next_batch(b, 1, &len)) != NULL) {
		for (size_t at = 0; at < len; at += strlen(paths + at) + 1)
			if (paths[at] != '\0' && paths[at + 1] == '/')
				by_top[(unsigned char)paths[at]]++;
		answer(b, paths, len, dirbuf);
		free(paths);
	}
}

/* The broker's walker side takes `relpath`, which must have arrived. */
static void take(struct broker *b, const char *relpath)
{
	const struct walk_source *src = broker_source(b);
	struct listing l;

	ck_assert_int_eq(src->take(src->ctx, relpath, &l), 1);
	listing_free(&l);
}

/* Make `n` empty subdirectories of the new directory `dir`. */
static void make_subdirs(const char *dir, int n)
{
	char name[64];

	ck_assert_int_eq(mkdirat(root.fd, dir, 0755), 0);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s/%04d", dir, i);
		ck_assert_int_eq(mkdirat(root.fd, name, 0755), 0);
	}
}

/*
 * Rank 0's memory is bounded whatever the tree.  All ranks together have
 * at most 128 directories to answer (64 each).  From listings it learns
 * at most known_max directories ahead of the walker (150 here, 8,192 in
 * use): of a, b and c (60 subdirectories each), the last in walk order
 * (readdir's) arrives with 124 known, so only 26 of its are handed out
 * before the walker takes it, the rest after, each once.
 */
START_TEST(test_known_directories_bounded)
{
	struct worker_slot slot;
	struct broker_config c = {
		.listers = 3, .enabled = 1, .root = -1, .slot = &slot, .known_max = 150
	};
	char *dirbuf = dirstream_buffer(), top[3], last[2];
	int by_top[256] = { 0 }, n[4] = { 0 };
	struct broker *b;
	size_t len;
	char *paths;

	scratch_make(&root);
	memset(&slot, 0, sizeof(slot));
	make_subdirs("a", 60);
	make_subdirs("b", 60);
	make_subdirs("c", 60);
	c.root = root.fd;
	for (int round = 0; round < 2; round++) {
		b = broker_create(&c);
		paths = broker_next_batch(b, 1, &len); /* the root */
		ck_assert_ptr_nonnull(paths);
		answer(b, paths, len, dirbuf);
		free(paths);
		paths = broker_next_batch(b, 1, &len); /* its three */
		ck_assert_uint_eq(len, 6);
		for (int i = 0; i < 3; i++)
			top[i] = paths[2 * i];
		answer(b, paths, len, dirbuf);
		free(paths);
		if (round == 1)
			break;
		/* Nobody answers: 64 for rank 1, 64 for rank 2, none for rank 3. */
		for (int rank = 1; rank <= 3; rank++)
			while ((paths = broker_next_batch(b, rank, &len)) != NULL) {
				for (size_t at = 0; at < len; at += strlen(paths + at) + 1)
					n[rank]++;
				free(paths);
			}
		ck_assert_int_eq(n[1], 64);
		ck_assert_int_eq(n[2], 64);
		ck_assert_int_eq(n[3], 0);
		broker_free(b);
	}
	drain(b, by_top, dirbuf);
	ck_assert_int_eq(by_top[(unsigned char)top[0]], 60);
	ck_assert_int_eq(by_top[(unsigned char)top[1]], 60);
	ck_assert_int_eq(by_top[(unsigned char)top[2]], 26);
	take(b, "");
	for (int i = 0; i < 3; i++) {
		last[0] = top[i];
		last[1] = '\0';
		take(b, last);
	}
	drain(b, by_top, dirbuf);
	ck_assert_int_eq(by_top[(unsigned char)top[2]], 60);
	broker_free(b);
	free(dirbuf);
	scratch_remove(&root);
}
END_TEST

Suite *mpi_listing_suite(void)
{
	Suite *s = suite_create("mpi_listing");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_walk_through_broker);
	tcase_add_test(tc, test_skipped_directory_dropped);
	tcase_add_test(tc, test_disabled_broker_lists_nothing);
	tcase_add_test(tc, test_big_listings_left_to_walker);
	tcase_add_test(tc, test_device_renumbered);
	tcase_add_test(tc, test_known_directories_bounded);
	suite_add_tcase(s, tc);
	return s;
}
