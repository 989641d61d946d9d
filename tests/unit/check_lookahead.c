/* check_lookahead.c - listings passed from the counting scan to the walker. */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "walk/lookahead.h"

static struct lookahead la;

static void setup(void)
{
	lookahead_init(&la, LOOKAHEAD_BUDGET);
}

static void teardown(void)
{
	lookahead_destroy(&la);
}

/* Offer listing `seq` at `path` holding the names "<seq>.0" .. "<seq>.<n-1>". */
static void offer_numbered(uint64_t seq, const char *path, int n)
{
	struct lookahead_list l = { NULL, 0, 0 };
	char name[64];

	for (int k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "%llu.%d", (unsigned long long)seq, k);
		lookahead_list_add(&l, k % 2 ? DT_DIR : DT_REG, name);
	}
	lookahead_offer(&la, seq, path, &l);
	ck_assert_ptr_null(l.data); /* the listing was taken over or freed */
}

/* Does l hold exactly what offer_numbered(seq, _, n) put in, in order? */
static int holds_numbered(const struct lookahead_list *l, uint64_t seq, int n)
{
	const char *name;
	unsigned char type;
	size_t pos = 0;
	char want[64];
	int k = 0;

	while (lookahead_list_next(l, &pos, &type, &name)) {
		snprintf(want, sizeof(want), "%llu.%d", (unsigned long long)seq, k);
		if (k >= n || strcmp(name, want) != 0 || type != (k % 2 ? DT_DIR : DT_REG))
			return 0;
		k++;
	}
	return k == n;
}

START_TEST(test_offer_then_take)
{
	struct lookahead_list l = { NULL, 0, 0 };

	offer_numbered(0, "", 3);
	offer_numbered(1, "a", 0); /* an empty directory is a listing too */
	ck_assert_uint_gt(la.used, 0);
	ck_assert_int_eq(lookahead_take(&la, 0, "", &l), 1);
	ck_assert(holds_numbered(&l, 0, 3));
	free(l.data);
	ck_assert_int_eq(lookahead_take(&la, 1, "a", &l), 1);
	ck_assert(holds_numbered(&l, 1, 0));
	free(l.data);
	ck_assert_uint_eq(la.used, 0);
	ck_assert_ptr_null(la.head);
}
END_TEST

/* A listing not kept is a miss; those before it are dropped, later ones stay. */
START_TEST(test_missing_and_passed_listings)
{
	struct lookahead_list l = { NULL, 0, 0 };

	size_t both;

	offer_numbered(1, "a", 2);
	offer_numbered(3, "c", 2);
	both = la.used;
	ck_assert_int_eq(lookahead_take(&la, 0, "", &l), 0); /* not offered yet */
	ck_assert_uint_eq(la.used, both);
	ck_assert_int_eq(lookahead_take(&la, 2, "b", &l), 0);
	ck_assert_uint_gt(la.used, 0); /* 1 was passed and dropped, 3 kept */
	ck_assert_uint_lt(la.used, both);
	both = la.used;
	offer_numbered(2, "b", 2); /* too late: the walker read it itself */
	ck_assert_uint_eq(la.used, both);
	ck_assert_int_eq(lookahead_take(&la, 3, "c", &l), 1);
	ck_assert(holds_numbered(&l, 3, 2));
	free(l.data);
	ck_assert_uint_eq(la.used, 0);
}
END_TEST

START_TEST(test_budget_refuses)
{
	struct lookahead_list l = { NULL, 0, 0 };

	lookahead_destroy(&la);
	lookahead_init(&la, 512);
	offer_numbered(0, "", 2);    /* small: kept */
	offer_numbered(1, "a", 100); /* about 700 bytes: over the budget */
	offer_numbered(2, "b", 2);   /* fits beside the first */
	ck_assert_uint_le(la.used, 512);
	ck_assert_int_eq(lookahead_take(&la, 0, "", &l), 1);
	free(l.data);
	ck_assert_int_eq(lookahead_take(&la, 1, "a", &l), 0);
	ck_assert_int_eq(lookahead_take(&la, 2, "b", &l), 1);
	ck_assert(holds_numbered(&l, 2, 2));
	free(l.data);
}
END_TEST

/* The walks differ: from then on nothing is kept and nothing taken. */
START_TEST(test_path_mismatch_turns_it_off)
{
	struct lookahead_list l = { NULL, 0, 0 };

	offer_numbered(0, "", 1);
	offer_numbered(1, "a", 1);
	offer_numbered(2, "b", 1);
	ck_assert_int_eq(lookahead_take(&la, 0, "", &l), 1);
	free(l.data);
	ck_assert_int_eq(lookahead_take(&la, 1, "d", &l), 0); /* the scan had "a" */
	ck_assert_ptr_null(la.head);
	ck_assert_uint_eq(la.used, 0);
	ck_assert_int_eq(lookahead_take(&la, 2, "b", &l), 0);
	offer_numbered(3, "c", 1);
	ck_assert_int_eq(lookahead_take(&la, 3, "c", &l), 0);
	ck_assert_uint_eq(la.used, 0);
}
END_TEST

#define RACE_DIRS 20000

static void *offer_all(void *arg)
{
	(void)arg;
	for (uint64_t seq = 0; seq < RACE_DIRS; seq++) {
		char path[32];

		snprintf(path, sizeof(path), "d%llu", (unsigned long long)seq);
		offer_numbered(seq, path, (int)(seq % 5));
	}
	return NULL;
}

/* Scan and walker at once: whatever is taken is whole and right. */
START_TEST(test_concurrent_offer_and_take)
{
	struct lookahead_list l = { NULL, 0, 0 };
	pthread_t producer;

	ck_assert_int_eq(pthread_create(&producer, NULL, offer_all, NULL), 0);
	for (uint64_t seq = 0; seq < RACE_DIRS; seq++) {
		char path[32];

		snprintf(path, sizeof(path), "d%llu", (unsigned long long)seq);
		if (lookahead_take(&la, seq, path, &l)) {
			ck_assert(holds_numbered(&l, seq, (int)(seq % 5)));
			free(l.data);
			l.data = NULL;
		}
	}
	pthread_join(producer, NULL);
	ck_assert_int_eq(la.off, 0); /* same paths: the walks never differed */
	/* A walker that catches up must still be served from then on. */
	offer_numbered(RACE_DIRS, "last", 3);
	ck_assert_int_eq(lookahead_take(&la, RACE_DIRS, "last", &l), 1);
	ck_assert(holds_numbered(&l, RACE_DIRS, 3));
	free(l.data);
	ck_assert_uint_eq(la.used, 0);
}
END_TEST

Suite *lookahead_suite(void)
{
	Suite *s = suite_create("lookahead");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_offer_then_take);
	tcase_add_test(tc, test_missing_and_passed_listings);
	tcase_add_test(tc, test_budget_refuses);
	tcase_add_test(tc, test_path_mismatch_turns_it_off);
	tcase_add_test(tc, test_concurrent_offer_and_take);
	suite_add_tcase(s, tc);
	return s;
}
