/* check_plan.c - the per-entry decisions, without a filesystem. */
#include <string.h>

#include "suites.h"
#include "sync/plan.h"

static struct stat of_type(mode_t type)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = type | 0644;
	return st;
}

/* Nothing in DST: every type goes in. */
START_TEST(test_nothing_there)
{
	ck_assert_ptr_null(plan_replace_conflict(S_IFDIR, NULL));
	ck_assert_ptr_null(plan_replace_conflict(S_IFREG, NULL));
	ck_assert_ptr_null(plan_replace_conflict(S_IFLNK, NULL));
}
END_TEST

/* A directory merges into a directory and replaces links and special files, not files. */
START_TEST(test_directory_source)
{
	struct stat dir = of_type(S_IFDIR), reg = of_type(S_IFREG), lnk = of_type(S_IFLNK),
		    fifo = of_type(S_IFIFO);

	ck_assert_ptr_null(plan_replace_conflict(S_IFDIR, &dir));
	ck_assert_str_eq(plan_replace_conflict(S_IFDIR, &reg), REASON_NONDIR_BY_DIR);
	ck_assert_ptr_null(plan_replace_conflict(S_IFDIR, &lnk));
	ck_assert_ptr_null(plan_replace_conflict(S_IFDIR, &fifo));
}
END_TEST

/* A non-directory replaces any non-directory but never a directory. */
START_TEST(test_nondirectory_source)
{
	static const mode_t types[] = { S_IFREG, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR };
	struct stat dir = of_type(S_IFDIR);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		for (size_t j = 0; j < sizeof(types) / sizeof(types[0]); j++) {
			struct stat there = of_type(types[j]);

			ck_assert_ptr_null(plan_replace_conflict(types[i], &there));
		}
		ck_assert_str_eq(plan_replace_conflict(types[i], &dir), REASON_DIR_BY_NONDIR);
	}
}
END_TEST

/* A source entry: a regular file of 10 bytes, mode 0644, uid/gid 1, mtime 100.5. */
static struct entry_stat source(void)
{
	struct entry_stat es;

	memset(&es, 0, sizeof(es));
	es.mode = S_IFREG | 0644;
	es.size = 10;
	es.uid = es.gid = 1;
	es.mtime_sec = 100;
	es.mtime_nsec = 5;
	return es;
}

/* DST's copy of source(): equal in everything. */
static struct stat copy_of(const struct entry_stat *es)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = es->mode;
	st.st_size = (off_t)es->size;
	st.st_uid = es->uid;
	st.st_gid = es->gid;
	st.st_mtim.tv_sec = es->mtime_sec;
	st.st_mtim.tv_nsec = es->mtime_nsec;
	return st;
}

static const struct plan_context changed_as_root = {
	.update = UPDATE_CHANGED, .preserve = PRESERVE_ALL, .euid = 0, .checksum = 0
};

/* Nothing there: every mode copies. */
START_TEST(test_update_missing)
{
	struct entry_stat es = source();

	for (int m = UPDATE_ALL; m <= UPDATE_CHANGED; m++) {
		struct plan_context pc = { .update = (enum update_mode)m,
					   .preserve = PRESERVE_ALL,
					   .euid = 0,
					   .checksum = 0 };

		ck_assert_int_eq(plan_update(&pc, &es, NULL), PLAN_COPY);
	}
}
END_TEST

START_TEST(test_update_all_none)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);
	struct plan_context all = {
		.update = UPDATE_ALL, .preserve = PRESERVE_ALL, .euid = 0, .checksum = 0
	};
	struct plan_context none = {
		.update = UPDATE_NONE, .preserve = PRESERVE_ALL, .euid = 0, .checksum = 0
	};

	ck_assert_int_eq(plan_update(&all, &es, &st), PLAN_COPY);
	st.st_size = 99;
	ck_assert_int_eq(plan_update(&none, &es, &st), PLAN_SKIP);
	st.st_mode = S_IFDIR | 0755;
	ck_assert_int_eq(plan_update(&none, &es, &st), PLAN_SKIP);
}
END_TEST

/* older: only a strictly newer source mtime copies, to the nanosecond. */
START_TEST(test_update_older)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);
	struct plan_context pc = {
		.update = UPDATE_OLDER, .preserve = PRESERVE_ALL, .euid = 0, .checksum = 0
	};

	ck_assert_int_eq(plan_update(&pc, &es, &st), PLAN_SKIP);
	st.st_mtim.tv_nsec = 4;
	ck_assert_int_eq(plan_update(&pc, &es, &st), PLAN_COPY);
	st.st_mtim.tv_nsec = 6;
	ck_assert_int_eq(plan_update(&pc, &es, &st), PLAN_SKIP);
	st.st_mtim.tv_sec = 99;
	ck_assert_int_eq(plan_update(&pc, &es, &st), PLAN_COPY);
	st.st_mtim.tv_sec = 101;
	st.st_mtim.tv_nsec = 0;
	ck_assert_int_eq(plan_update(&pc, &es, &st), PLAN_SKIP);
}
END_TEST

/* changed: type, size, mtime (either way) or a device number copy. */
START_TEST(test_update_changed_data)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);

	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_SKIP);
	st.st_size = 11;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_COPY);
	st = copy_of(&es);
	st.st_mtim.tv_nsec = 6;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_COPY);
	st = copy_of(&es);
	st.st_mtim.tv_sec = 200; /* newer in DST: still a change */
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_COPY);
	st = copy_of(&es);
	st.st_mode = S_IFLNK | 0777;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_COPY);
	es.mode = S_IFCHR | 0600;
	es.size = 0;
	es.rdev = 0x0103;
	st = copy_of(&es);
	st.st_rdev = 0x0103;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_SKIP);
	st.st_rdev = 0x0105;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_COPY);
}
END_TEST

/* changed, equal data: mode and (as root) owner are fixed in place; atime is ignored. */
START_TEST(test_update_changed_metadata)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);
	struct plan_context user = {
		.update = UPDATE_CHANGED, .preserve = PRESERVE_ALL, .euid = 1000, .checksum = 0
	};
	struct plan_context no_mode = { .update = UPDATE_CHANGED,
					.preserve = PRESERVE_ALL & ~PRESERVE_MODE,
					.euid = 0,
					.checksum = 0 };

	st.st_atim.tv_sec = 12345;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_SKIP);
	st.st_mode = S_IFREG | 0600;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_FIX_META);
	ck_assert_int_eq(plan_update(&no_mode, &es, &st), PLAN_SKIP);
	st = copy_of(&es);
	st.st_uid = 2;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_FIX_META);
	/* A user cannot give files away: the owner is not compared. */
	ck_assert_int_eq(plan_update(&user, &es, &st), PLAN_SKIP);
	/* A symlink's own mode bits mean nothing. */
	es.mode = S_IFLNK | 0777;
	st = copy_of(&es);
	st.st_mode = S_IFLNK | 0755;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_SKIP);
}
END_TEST

/* Directories: always with all; else only when mode, owner or mtime differ. */
START_TEST(test_plan_directory)
{
	struct entry_stat es = source();
	struct plan_context all = {
		.update = UPDATE_ALL, .preserve = PRESERVE_ALL, .euid = 0, .checksum = 0
	};
	struct plan_context no_times = { .update = UPDATE_CHANGED,
					 .preserve = PRESERVE_ALL & ~PRESERVE_TIMESTAMPS,
					 .euid = 0,
					 .checksum = 0 };
	struct stat st;

	es.mode = S_IFDIR | 0755;
	es.size = 4096;
	st = copy_of(&es);
	ck_assert_int_eq(plan_directory(&all, &es, &st), PLAN_FIX_META);
	ck_assert_int_eq(plan_directory(&changed_as_root, &es, &st), PLAN_SKIP);
	st.st_size = 8192; /* a directory's size is not its data */
	ck_assert_int_eq(plan_directory(&changed_as_root, &es, &st), PLAN_SKIP);
	st.st_mtim.tv_sec = 101;
	ck_assert_int_eq(plan_directory(&changed_as_root, &es, &st), PLAN_FIX_META);
	ck_assert_int_eq(plan_directory(&no_times, &es, &st), PLAN_SKIP);
	st = copy_of(&es);
	st.st_mode = S_IFDIR | 0700;
	ck_assert_int_eq(plan_directory(&changed_as_root, &es, &st), PLAN_FIX_META);
}
END_TEST

/*
 * Attributes and ACLs are read only when SRC's status changed no earlier
 * than its copy was written (ctime, to the ns), or with -c, and only when
 * kept.
 */
START_TEST(test_metadata_suspect)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);
	struct plan_context checksum = {
		.update = UPDATE_CHANGED, .preserve = PRESERVE_ALL, .euid = 0, .checksum = 1
	};
	struct plan_context acls_only = {
		.update = UPDATE_CHANGED, .preserve = PRESERVE_MODE, .euid = 0, .checksum = 0
	};
	struct plan_context xattrs_only = {
		.update = UPDATE_CHANGED, .preserve = PRESERVE_XATTR, .euid = 0, .checksum = 0
	};
	struct plan_context neither = { .update = UPDATE_CHANGED,
					.preserve =
						PRESERVE_ALL & ~(PRESERVE_MODE | PRESERVE_XATTR),
					.euid = 0,
					.checksum = 1 };

	es.ctime_sec = 100;
	es.ctime_nsec = 5;
	st.st_ctim.tv_sec = 200; /* the copy was written after SRC last changed */
	ck_assert_int_eq(plan_metadata_suspect(&changed_as_root, &es, &st), 0);
	ck_assert_int_eq(plan_metadata_suspect(&checksum, &es, &st), 1);
	st.st_ctim.tv_sec = 100;
	st.st_ctim.tv_nsec = 6;
	ck_assert_int_eq(plan_metadata_suspect(&changed_as_root, &es, &st), 0);
	st.st_ctim.tv_nsec = 5; /* the same clock tick: may have changed after the copy */
	ck_assert_int_eq(plan_metadata_suspect(&changed_as_root, &es, &st), 1);
	st.st_ctim.tv_nsec = 4;
	ck_assert_int_eq(plan_metadata_suspect(&changed_as_root, &es, &st), 1);
	st.st_ctim.tv_sec = 99;
	st.st_ctim.tv_nsec = 999999999;
	ck_assert_int_eq(plan_metadata_suspect(&changed_as_root, &es, &st), 1);
	ck_assert_int_eq(plan_metadata_suspect(&acls_only, &es, &st), 1);
	ck_assert_int_eq(plan_metadata_suspect(&xattrs_only, &es, &st), 1);
	/* Nothing of the kind kept, -c or not: nothing to compare. */
	ck_assert_int_eq(plan_metadata_suspect(&neither, &es, &st), 0);
	/* Directories and symlinks alike. */
	es.mode = S_IFDIR | 0755;
	st.st_mode = S_IFDIR | 0755;
	ck_assert_int_eq(plan_metadata_suspect(&changed_as_root, &es, &st), 1);
	es.mode = st.st_mode = S_IFLNK | 0777;
	ck_assert_int_eq(plan_metadata_suspect(&changed_as_root, &es, &st), 1);
}
END_TEST

/* Only --update=changed compares metadata at all. */
START_TEST(test_metadata_suspect_other_modes)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);

	es.ctime_sec = 300;
	for (int m = UPDATE_ALL; m <= UPDATE_CHANGED; m++) {
		struct plan_context pc = { .update = (enum update_mode)m,
					   .preserve = PRESERVE_ALL,
					   .euid = 0,
					   .checksum = 1 };

		ck_assert_int_eq(plan_metadata_suspect(&pc, &es, &st), m == UPDATE_CHANGED);
	}
}
END_TEST

/* --link-dest: a regular file unchanged in data, mode and (as root) owner. */
START_TEST(test_link_dest_equal)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);
	struct plan_context user = {
		.update = UPDATE_ALL, .preserve = PRESERVE_ALL, .euid = 1000, .checksum = 0
	};

	ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 1);
	/* Neither the update mode nor the access time plays a part. */
	st.st_atim.tv_sec = 12345;
	st.st_uid = 1000; /* the user's own file */
	ck_assert_int_eq(plan_link_dest(&user, &es, &st), 1);
}
END_TEST

/* Anything a link would share and the copy must not have: no link. */
START_TEST(test_link_dest_differs)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);
	struct plan_context user = {
		.update = UPDATE_CHANGED, .preserve = PRESERVE_ALL, .euid = 1000, .checksum = 0
	};

	st.st_size = 11;
	ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 0);
	st = copy_of(&es);
	st.st_mtim.tv_nsec = 6; /* to the nanosecond */
	ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 0);
	st = copy_of(&es);
	st.st_mtim.tv_sec = 99;
	ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 0);
	st = copy_of(&es);
	st.st_mode = S_IFREG | 0640;
	ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 0);
	st.st_mode = S_IFREG | 04644; /* set-id bits count */
	ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 0);
	st = copy_of(&es);
	st.st_gid = 2;
	ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 0);
	/* A user's copies are the user's: only its own files are linked. */
	ck_assert_int_eq(plan_link_dest(&user, &es, &st), 0);
	st.st_uid = 1000;
	ck_assert_int_eq(plan_link_dest(&user, &es, &st), 1); /* group 2: not the user's to set */
	st = copy_of(&es);
	st.st_uid = 2;
	ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 0);
}
END_TEST

/* Only regular files are linked: never a symlink, a FIFO or a directory. */
START_TEST(test_link_dest_types)
{
	static const mode_t types[] = { S_IFLNK, S_IFIFO, S_IFDIR, S_IFCHR, S_IFSOCK };
	struct entry_stat es = source();

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct entry_stat other = es;
		struct stat st = copy_of(&es);

		st.st_mode = types[i] | 0644;
		ck_assert_int_eq(plan_link_dest(&changed_as_root, &es, &st), 0);
		other.mode = types[i] | 0644;
		st = copy_of(&other);
		ck_assert_int_eq(plan_link_dest(&changed_as_root, &other, &st), 0);
	}
}
END_TEST

/* Without --preserve of mode or owner, the link must have what a new file would. */
START_TEST(test_link_dest_no_preserve)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);
	struct plan_context no_mode = { .update = UPDATE_ALL,
					.preserve = PRESERVE_ALL & ~PRESERVE_MODE,
					.umask = 022 };
	struct plan_context no_owner = { .update = UPDATE_ALL,
					 .preserve = PRESERVE_ALL & ~PRESERVE_OWNERSHIP,
					 .euid = 0,
					 .checksum = 0 };

	es.mode = S_IFREG | 0600;
	st.st_mode = S_IFREG | 0644; /* 0666 less the umask 022 */
	ck_assert_int_eq(plan_link_dest(&no_mode, &es, &st), 1);
	no_mode.umask = 077;
	ck_assert_int_eq(plan_link_dest(&no_mode, &es, &st), 0);
	st = copy_of(&es);
	st.st_uid = 2;
	ck_assert_int_eq(plan_link_dest(&no_owner, &es, &st), 1);
}
END_TEST

/* A user in groups 1000 (its own) and 1001, copying with --update=changed. */
static const gid_t member_of[] = { 1001 };
static const struct plan_context changed_as_user = {
	.update = UPDATE_CHANGED,
	.preserve = PRESERVE_ALL,
	.euid = 1000,
	.egid = 1000,
	.umask = 022,
	.groups = member_of,
	.ngroups = 1,
};

/* Root sets any group; a user only its own ones. */
START_TEST(test_sets_group)
{
	ck_assert_int_eq(plan_sets_group(&changed_as_root, 4242), 1);
	ck_assert_int_eq(plan_sets_group(&changed_as_user, 1000), 1);
	ck_assert_int_eq(plan_sets_group(&changed_as_user, 1001), 1);
	ck_assert_int_eq(plan_sets_group(&changed_as_user, 1002), 0);
	ck_assert_int_eq(plan_sets_group(&changed_as_user, 0), 0);
}
END_TEST

/* A user's copy gets SRC's group when the user is in it: then it is compared. */
START_TEST(test_update_changed_group_as_user)
{
	struct entry_stat es = source();
	struct stat st;

	es.uid = 1000;
	es.gid = 1000;
	st = copy_of(&es);
	ck_assert_int_eq(plan_update(&changed_as_user, &es, &st), PLAN_SKIP);
	st.st_gid = 1001; /* wider than SRC's: fixed */
	ck_assert_int_eq(plan_update(&changed_as_user, &es, &st), PLAN_FIX_META);
	es.gid = 1001;
	st.st_gid = 1000;
	ck_assert_int_eq(plan_update(&changed_as_user, &es, &st), PLAN_FIX_META);
	/* Nor can the group of a file the user does not own be set. */
	st.st_uid = 1002;
	ck_assert_int_eq(plan_update(&changed_as_user, &es, &st), PLAN_SKIP);
	st.st_uid = 1000;
	/* A group the user is not in cannot be given: not compared. */
	es.gid = 1002;
	ck_assert_int_eq(plan_update(&changed_as_user, &es, &st), PLAN_SKIP);
	/* Nor is anything of the owner without PRESERVE_OWNERSHIP. */
	struct plan_context no_owner = changed_as_user;

	no_owner.preserve &= ~(unsigned)PRESERVE_OWNERSHIP;
	es.gid = 1001;
	ck_assert_int_eq(plan_update(&no_owner, &es, &st), PLAN_SKIP);
}
END_TEST

/* Set-id bits count only where the copy can keep them. */
START_TEST(test_copy_mode_setid)
{
	struct entry_stat es = source();
	struct stat st;

	es.mode = S_IFREG | 06755;
	ck_assert_uint_eq(plan_copy_mode(&changed_as_root, &es), 06755);
	/* A user owns its copies and is not in group 1: neither bit can be kept. */
	ck_assert_uint_eq(plan_copy_mode(&changed_as_user, &es), 0755);
	es.uid = 1000;
	es.gid = 1001;
	ck_assert_uint_eq(plan_copy_mode(&changed_as_user, &es), 06755);
	es.uid = es.gid = 1;
	st = copy_of(&es);
	st.st_mode = S_IFREG | 0755; /* what the user's copy has: settled */
	ck_assert_int_eq(plan_update(&changed_as_user, &es, &st), PLAN_SKIP);
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_FIX_META);
	/* Not preserved: a new file's mode under the umask. */
	struct plan_context no_mode = changed_as_user;

	no_mode.preserve &= ~(unsigned)PRESERVE_MODE;
	ck_assert_uint_eq(plan_copy_mode(&no_mode, &es), 0644);
	es.mode = S_IFDIR | 0700;
	ck_assert_uint_eq(plan_copy_mode(&no_mode, &es), 0755);
}
END_TEST

/* Metadata of an inode with other names is never fixed in place. */
START_TEST(test_fix_meta_shared)
{
	struct entry_stat es = source();
	struct stat st = copy_of(&es);

	st.st_nlink = 1;
	ck_assert_int_eq(plan_fix_meta(&st), PLAN_FIX_META);
	st.st_nlink = 2;
	ck_assert_int_eq(plan_fix_meta(&st), PLAN_REWRITE);
	/* SRC's own pair, linked in DST as in SRC, its mode changed: a new file. */
	es.nlink = 2;
	st.st_mode = S_IFREG | 0600;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_REWRITE);
	/* Another snapshot's name of a file SRC has alone: the same. */
	es.nlink = 1;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_REWRITE);
	/* Nothing to change: left alone, however many names it has. */
	st.st_mode = es.mode;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_SKIP);
	st.st_nlink = 7;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_SKIP);
	/* New data is a new file anyway. */
	st.st_size = 99;
	ck_assert_int_eq(plan_update(&changed_as_root, &es, &st), PLAN_COPY);
}
END_TEST

/* --link-dest as a user: a snapshot's file in another group of the user is not linked. */
START_TEST(test_link_dest_group_as_user)
{
	struct entry_stat es = source();
	struct stat st;

	es.uid = 1000;
	es.gid = 1000;
	es.mode = S_IFREG | 0640;
	st = copy_of(&es);
	ck_assert_int_eq(plan_link_dest(&changed_as_user, &es, &st), 1);
	st.st_gid = 1001;
	ck_assert_int_eq(plan_link_dest(&changed_as_user, &es, &st), 0);
	es.gid = 1002; /* not the user's: a copy could not have it either */
	ck_assert_int_eq(plan_link_dest(&changed_as_user, &es, &st), 1);
	st.st_uid = 1002; /* another user's file: a copy would be the user's */
	ck_assert_int_eq(plan_link_dest(&changed_as_user, &es, &st), 0);
}
END_TEST

/* An existing directory is narrowed to what both modes grant before anything is written in it. */
START_TEST(test_narrowed_dir)
{
	struct entry_stat es = source();
	struct plan_context no_mode = changed_as_root;

	es.mode = S_IFDIR | 0700;
	ck_assert_uint_eq(plan_narrowed_dir(&changed_as_root, 0755, &es, 0), 0700);
	es.mode = S_IFDIR | 0755;
	ck_assert_uint_eq(plan_narrowed_dir(&changed_as_root, 0700, &es, 0), 0700);
	ck_assert_uint_eq(plan_narrowed_dir(&changed_as_root, 0777, &es, 0), 0755);
	/* A wider ACL: its mask (the group bits) goes too. */
	ck_assert_uint_eq(plan_narrowed_dir(&changed_as_root, 0775, &es, 1), 0705);
	/* Sticky and set-gid bits stay as they are: dropping them would widen or regroup. */
	es.mode = S_IFDIR | 0777;
	ck_assert_uint_eq(plan_narrowed_dir(&changed_as_root, 01777, &es, 0), 01777);
	es.mode = S_IFDIR | 0755;
	ck_assert_uint_eq(plan_narrowed_dir(&changed_as_root, 03775, &es, 0), 03755);
	/* A user keeps what it needs to write there. */
	es.mode = S_IFDIR | 0555;
	es.uid = 1000;
	ck_assert_uint_eq(plan_narrowed_dir(&changed_as_user, 0555, &es, 0), 0755);
	ck_assert_uint_eq(plan_narrowed_dir(&changed_as_user, 0500, &es, 1), 0700);
	/* Mode not preserved: toward a new directory's, 0777 less the umask. */
	no_mode.preserve &= ~(unsigned)PRESERVE_MODE;
	no_mode.umask = 077;
	ck_assert_uint_eq(plan_narrowed_dir(&no_mode, 0755, &es, 0), 0700);
}
END_TEST

Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("replace");

	tcase_add_test(tc, test_nothing_there);
	tcase_add_test(tc, test_directory_source);
	tcase_add_test(tc, test_nondirectory_source);
	suite_add_tcase(s, tc);
	tc = tcase_create("update");
	tcase_add_test(tc, test_update_missing);
	tcase_add_test(tc, test_update_all_none);
	tcase_add_test(tc, test_update_older);
	tcase_add_test(tc, test_update_changed_data);
	tcase_add_test(tc, test_update_changed_metadata);
	tcase_add_test(tc, test_plan_directory);
	tcase_add_test(tc, test_metadata_suspect);
	tcase_add_test(tc, test_metadata_suspect_other_modes);
	tcase_add_test(tc, test_sets_group);
	tcase_add_test(tc, test_update_changed_group_as_user);
	tcase_add_test(tc, test_copy_mode_setid);
	tcase_add_test(tc, test_fix_meta_shared);
	tcase_add_test(tc, test_narrowed_dir);
	suite_add_tcase(s, tc);
	tc = tcase_create("link_dest");
	tcase_add_test(tc, test_link_dest_equal);
	tcase_add_test(tc, test_link_dest_differs);
	tcase_add_test(tc, test_link_dest_types);
	tcase_add_test(tc, test_link_dest_no_preserve);
	tcase_add_test(tc, test_link_dest_group_as_user);
	suite_add_tcase(s, tc);
	return s;
}
