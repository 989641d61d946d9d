/* check_spill.c - workers' regions of the spill file, read back in walk order. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/session.h"
#include "run/spill.h"
#include "suites.h"

static struct shared_state *sh;
static int fd;

static void setup(void)
{
	sh = shared_state_create(3, 0); /* slots 0..2 workers, 3 the parent */
	ck_assert_ptr_nonnull(sh);
	fd = spill_create();
	ck_assert_int_ge(fd, 0);
}

static void teardown(void)
{
	close(fd);
	shared_state_destroy(sh);
}

static void add(int slot, uint64_t seq, uint64_t ino, const char *path)
{
	struct entry_stat st = { .ino = ino, .nlink = 2, .mode = 0100644, .size = seq * 10 };

	ck_assert_int_eq(spill_add(fd, slot, &sh->slots[slot], seq, &st, path), 0);
}

START_TEST(test_merged_in_walk_order)
{
	static const char *const want[] = { "a", "b/x", "c", "d/e/f", "g", "h" };
	struct spill_reader *r;
	struct spill_entry e;
	int n = 0;

	/* each worker's region is in increasing order; together they interleave */
	add(0, 0, 100, "a");
	add(2, 1, 101, "b/x");
	add(0, 2, 102, "c");
	add(1, 3, 103, "d/e/f");
	add(2, 4, 104, "g");
	add(1, 5, 105, "h");
	r = spill_reader_open(fd, sh);
	while (spill_next(r, &e) == 1) {
		ck_assert_int_lt(n, 6);
		ck_assert_uint_eq(e.seq, (uint64_t)n);
		ck_assert_str_eq(e.relpath, want[n]);
		ck_assert_uint_eq(e.st.ino, 100 + (uint64_t)n);
		ck_assert_uint_eq(e.st.size, 10 * (uint64_t)n);
		n++;
	}
	ck_assert_int_eq(n, 6);
	spill_reader_close(r);
}
END_TEST

START_TEST(test_empty)
{
	struct spill_reader *r = spill_reader_open(fd, sh);
	struct spill_entry e;

	ck_assert_int_eq(spill_next(r, &e), 0);
	spill_reader_close(r);
}
END_TEST

/* Many long paths: the read-back buffer is refilled across records. */
START_TEST(test_long_paths_across_refills)
{
	char path[JOB_PATH_MAX];
	struct spill_reader *r;
	struct spill_entry e;
	uint64_t n = 0;

	for (uint64_t i = 0; i < 200; i++) {
		size_t len = 1 + (i * 37) % (JOB_PATH_MAX - 1);

		memset(path, 'a' + (int)(i % 26), len);
		path[len] = '\0';
		add((int)(i % 3), i, i, path);
	}
	r = spill_reader_open(fd, sh);
	while (spill_next(r, &e) == 1) {
		ck_assert_uint_eq(e.seq, n);
		ck_assert_uint_eq(strlen(e.relpath), 1 + (n * 37) % (JOB_PATH_MAX - 1));
		ck_assert_int_eq(e.relpath[0], 'a' + (int)(n % 26));
		n++;
	}
	ck_assert_uint_eq(n, 200);
	spill_reader_close(r);
}
END_TEST

/* Bytes written but not published (a worker killed mid-record) are not read. */
START_TEST(test_unpublished_bytes_ignored)
{
	struct spill_reader *r;
	struct spill_entry e;
	uint64_t published;

	add(1, 7, 1, "kept");
	published = atomic_load(&sh->slots[1].spilled);
	add(1, 8, 2, "lost");
	atomic_store(&sh->slots[1].spilled, published);
	r = spill_reader_open(fd, sh);
	ck_assert_int_eq(spill_next(r, &e), 1);
	ck_assert_str_eq(e.relpath, "kept");
	ck_assert_int_eq(spill_next(r, &e), 0);
	spill_reader_close(r);
}
END_TEST

/* A region published longer than what is there: an error, not garbage. */
START_TEST(test_short_region_is_an_error)
{
	struct spill_reader *r;
	struct spill_entry e;

	atomic_store(&sh->slots[0].spilled, 4096);
	r = spill_reader_open(fd, sh);
	ck_assert_int_eq(spill_next(r, &e), -1);
	spill_reader_close(r);
}
END_TEST

/*
 * A rank's records go to rank 0 with SRC's device as rank 0 numbers it:
 * records on that device are renumbered, others (a file system mounted
 * inside SRC) are not, and the records read back whole.
 */
START_TEST(test_device_renumbered)
{
	struct entry_stat on_src = { .dev = 7, .ino = 1, .nlink = 2, .mode = 0100644 };
	struct entry_stat nested = { .dev = 9, .ino = 2, .nlink = 2, .mode = 0100644 };
	struct spill_reader *r;
	struct spill_entry e;
	size_t len;
	char *records;

	ck_assert_int_eq(spill_add(fd, 0, &sh->slots[0], 0, &on_src, "a"), 0);
	ck_assert_int_eq(spill_add(fd, 0, &sh->slots[0], 1, &nested, "mnt/b"), 0);
	ck_assert_int_eq(spill_add(fd, 0, &sh->slots[0], 2, &on_src, "c/d"), 0);
	records = spill_take(fd, 0, &sh->slots[0], 0, &len);
	ck_assert_ptr_nonnull(records);
	spill_map_dev(records, len, 7, 1234);
	ck_assert_int_eq(spill_append(fd, 1, &sh->slots[1], records, len), 0);
	free(records);
	atomic_store(&sh->slots[0].spilled, 0); /* read back slot 1's copy only */
	r = spill_reader_open(fd, sh);
	ck_assert_int_eq(spill_next(r, &e), 1);
	ck_assert_str_eq(e.relpath, "a");
	ck_assert_uint_eq(e.st.dev, 1234);
	ck_assert_int_eq(spill_next(r, &e), 1);
	ck_assert_str_eq(e.relpath, "mnt/b");
	ck_assert_uint_eq(e.st.dev, 9);
	ck_assert_int_eq(spill_next(r, &e), 1);
	ck_assert_str_eq(e.relpath, "c/d");
	ck_assert_uint_eq(e.st.dev, 1234);
	ck_assert_uint_eq(e.st.ino, 1);
	ck_assert_int_eq(spill_next(r, &e), 0);
	spill_reader_close(r);
}
END_TEST

Suite *spill_suite(void)
{
	Suite *s = suite_create("spill");
	TCase *tc = tcase_create("regions");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_merged_in_walk_order);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_long_paths_across_refills);
	tcase_add_test(tc, test_unpublished_bytes_ignored);
	tcase_add_test(tc, test_short_region_is_an_error);
	tcase_add_test(tc, test_device_renumbered);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
