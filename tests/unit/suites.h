/* suites.h - one Check suite per module, gathered by check_main.c. */
#ifndef PCOPY_SUITES_H
#define PCOPY_SUITES_H

#include <check.h>

Suite *queue_suite(void);
Suite *copy_suite(void);
Suite *options_suite(void);
Suite *progress_suite(void);
Suite *walk_suite(void);
Suite *path_suite(void);
Suite *inode_table_suite(void);
Suite *lookahead_suite(void);
Suite *plan_suite(void);
Suite *change_suite(void);
Suite *quote_suite(void);
Suite *acl_suite(void);
Suite *filter_suite(void);
Suite *files_from_suite(void);
Suite *compare_suite(void);
Suite *delete_suite(void);
Suite *spill_suite(void);
Suite *adapt_suite(void);
Suite *listing_suite(void);
Suite *mpi_listing_suite(void);
Suite *wire_suite(void);
Suite *remote_suite(void);
Suite *xattr_list_suite(void);
Suite *hash_suite(void);

#endif
