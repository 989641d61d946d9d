/*
 * check_main.c - runs every unit-test suite.
 *
 * One fallback under test is sticky for the whole process
 * (path_disable_openat2; copy's live in each test's shared state).  Check
 * forks per test by default,
 * so they stay inside one test; under CK_FORK=no (valgrind) they persist,
 * which is why each suite puts its sticky TCases last and the path suite,
 * whose fallback the walker would inherit, runs after the walk suite.
 */
#include <stdlib.h>

#include "suites.h"
#include "testlib.h"

int main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_add_suite(sr, copy_suite());
	srunner_add_suite(sr, options_suite());
	srunner_add_suite(sr, progress_suite());
	srunner_add_suite(sr, inode_table_suite());
	srunner_add_suite(sr, lookahead_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_add_suite(sr, change_suite());
	srunner_add_suite(sr, quote_suite());
	srunner_add_suite(sr, acl_suite());
	srunner_add_suite(sr, filter_suite());
	srunner_add_suite(sr, files_from_suite());
	srunner_add_suite(sr, compare_suite());
	srunner_add_suite(sr, delete_suite());
	srunner_add_suite(sr, spill_suite());
	srunner_add_suite(sr, adapt_suite());
	srunner_add_suite(sr, listing_suite());
	srunner_add_suite(sr, mpi_listing_suite());
	srunner_add_suite(sr, wire_suite());
	srunner_add_suite(sr, remote_suite());
	srunner_add_suite(sr, xattr_list_suite());
	srunner_add_suite(sr, hash_suite());
	srunner_add_suite(sr, walk_suite());
	srunner_add_suite(sr, path_suite());
	scratch_base_make();
	srunner_run_all(sr, CK_NORMAL);
	scratch_base_remove();
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
