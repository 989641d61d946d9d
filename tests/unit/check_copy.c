/*
 * check_copy.c - copy_entry and friends on real files in a scratch directory.
 *
 * The fallbacks (FORCE_CROSS_FS: sendfile, FORCE_NO_COPY_FILE_RANGE:
 * read/write, FORCE_NO_TMPFILE) are sticky for
 * the run: each TCase's setup gives its session's shared state the one it
 * tests (copy_set_force), and a fallback learnt in one test dies with that
 * test's shared state.  That a fallback really ran is observed, not assumed: the
 * read/write path allocates the copier's buffer, and a named temporary shows
 * up as an inotify IN_CREATE event in the destination directory.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "copy/copy.h"
#include "copy/data.h"
#include "copy/hash.h"
#include "copy/xattr.h"
#include "dst/dst.h"
#include "suites.h"
#include "sync/entry.h"
#include "sync/update.h"
#include "testlib.h"

static struct scratch tmp;
static int src = -1, dst = -1; /* tmp/src and tmp/dst */
static char dst_path[sizeof(tmp.path) + 8];
static struct options opts;
static struct session session;
static struct copier copier;
static struct dst *dstv;  /* DST's handle, in dst */
static int tmpfile_works; /* O_TMPFILE is usable in dst */
static unsigned forced;   /* FORCE_* flags of this TCase */

/* Times given to sources: atime, mtime, both with nanoseconds. */
static const struct timespec src_times[2] = {
	{ 1500000000, 987654321 },
	{ 1600000000, 123456789 },
};

/* The owner sources get (root can give any; others keep their own). */
static uid_t src_uid;
static gid_t src_gid;

static int open_dir(const char *name)
{
	int fd;

	ck_assert_int_eq(mkdirat(tmp.fd, name, 0755), 0);
	fd = openat(tmp.fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static void probe_tmpfile(void)
{
	int fd = openat(dst, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

	tmpfile_works = fd >= 0 && !(forced & FORCE_NO_TMPFILE);
	if (fd >= 0)
		close(fd);
}

/* The user's umask, restored by teardown: pcopy runs with umask 0 (main.c). */
static mode_t user_umask;

static void setup(void)
{
	user_umask = umask(0);
	scratch_make(&tmp);
	src = open_dir("src");
	dst = open_dir("dst");
	snprintf(dst_path, sizeof(dst_path), "%s/dst", tmp.path);
	memset(&opts, 0, sizeof(opts));
	opts.jobs = 1;
	opts.preserve = PRESERVE_ALL;
	memset(&session, 0, sizeof(session));
	session.opts = &opts;
	session.src_root = src;
	session.dst_root = dst;
	session.dst_ops = &dst_local;
	session.shared = shared_state_create(1, 0);
	ck_assert_ptr_nonnull(session.shared);
	copy_set_force(session.shared, forced);
	session.umask = user_umask;
	session.euid = geteuid();
	session.egid = getegid();
	session.force = forced;
	copier_init(&copier, &session, &session.shared->slots[0]);
	dstv = dst_open(&session, &session.shared->slots[0]);
	ck_assert_int_eq(dst_enter(dstv, "", 0), 0);
	src_uid = session.euid == 0 ? 4242 : session.euid;
	src_gid = session.euid == 0 ? 4343 : session.egid;
	probe_tmpfile();
}

static void setup_default(void)
{
	forced = 0;
	setup();
}

static void setup_no_copy_file_range(void)
{
	forced = FORCE_NO_COPY_FILE_RANGE;
	setup();
}

static void setup_cross_fs(void)
{
	forced = FORCE_CROSS_FS;
	setup();
}

static void setup_split_all(void)
{
	forced = FORCE_SPLIT_ALL;
	setup();
}

static void setup_split_all_cross_fs(void)
{
	forced = FORCE_SPLIT_ALL | FORCE_CROSS_FS;
	setup();
}

static void setup_no_tmpfile(void)
{
	forced = FORCE_NO_TMPFILE;
	setup();
}

static void teardown(void)
{
	copier_free(&copier);
	dst_close(dstv);
	dstv = NULL;
	shared_state_destroy(session.shared);
	session.shared = NULL;
	close(src);
	close(dst);
	src = dst = -1;
	scratch_remove(&tmp);
	umask(user_umask);
}

static struct worker_slot *slot(void)
{
	return copier.slot;
}

/* A counter's value (a plain call keeps assertion messages readable). */
static uint64_t load(_Atomic uint64_t *counter)
{
	return atomic_load(counter);
}

/* Nothing named .pcopy-tmp* in dst, and the slot names no temporary. */
static void assert_no_temporaries(void)
{
	int fd = openat(dst, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(fd);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		ck_assert_msg(strncmp(de->d_name, ".pcopy-tmp", 10) != 0, "left behind: %s",
			      de->d_name);
	}
	closedir(d);
	ck_assert_str_eq(slot()->tmpname, "");
}

/* Make src/name: `size` bytes of pattern, `mode`, owner and times set. */
static unsigned char *make_source(const char *name, size_t size, mode_t mode)
{
	unsigned char *data = malloc(size > 0 ? size : 1);

	ck_assert_ptr_nonnull(data);
	fill_pattern(data, size, (unsigned)size + 1);
	ck_assert_int_eq(write_file_at(src, name, data, size, mode), 0);
	ck_assert_int_eq(fchownat(src, name, src_uid, src_gid, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_int_eq(fchmodat(src, name, mode, 0), 0);
	ck_assert_int_eq(utimensat(src, name, src_times, AT_SYMLINK_NOFOLLOW), 0);
	return data;
}

/* copy_entry of src/name to dst/name with the walker's lstat as hint. */
static int copy_named(const char *name, enum job_kind kind)
{
	struct entry_stat es;
	struct stat st;

	ck_assert_int_eq(fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	entry_stat_from(&es, &st);
	errno = 0;
	return copy_entry(&copier, dstv, src, name, name, kind, &es);
}

static void assert_copied(const char *name, enum job_kind kind)
{
	int rc = copy_named(name, kind);

	ck_assert_msg(rc == 0, "copy_entry('%s'): %s (%s)", name, strerror(errno),
		      copier.reason ? copier.reason : "no reason");
	ck_assert_uint_eq(load(&slot()->bytes_inflight), 0);
}

/* Type, mode, owner and both times of dst/name are what the source had. */
static void assert_metadata(const char *name, mode_t type, mode_t mode, int check_atime)
{
	struct stat st;

	ck_assert_int_eq(fstatat(dst, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_uint_eq(st.st_mode & S_IFMT, type);
	if (type != S_IFLNK)
		ck_assert_uint_eq(st.st_mode & 07777, mode);
	ck_assert_uint_eq(st.st_uid, src_uid);
	ck_assert_uint_eq(st.st_gid, src_gid);
	ck_assert_int_eq(st.st_mtim.tv_sec, src_times[1].tv_sec);
	ck_assert_int_eq(st.st_mtim.tv_nsec, src_times[1].tv_nsec);
	if (check_atime) {
		ck_assert_int_eq(st.st_atim.tv_sec, src_times[0].tv_sec);
		ck_assert_int_eq(st.st_atim.tv_nsec, src_times[0].tv_nsec);
	}
}

static void assert_content(const char *name, const unsigned char *data, size_t size)
{
	size_t len;
	char *got = read_file_at(dst, name, &len);

	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, size);
	ck_assert_msg(memcmp(got, data, size) == 0, "content of %s differs", name);
	free(got);
}

static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, (1 << 20) + 1 };
static const mode_t modes[] = { 0640, 0600, 0755, 0444, 0751, 04755 };

START_TEST(test_regular_sizes)
{
	size_t size = sizes[_i];
	unsigned char *data = make_source("f", size, modes[_i]);

	assert_copied("f", JOB_REGULAR);
	assert_metadata("f", S_IFREG, modes[_i], 1);
	assert_content("f", data, size);
	ck_assert_uint_eq(load(&slot()->files), 1);
	ck_assert_uint_eq(load(&slot()->bytes), size);
	if (forced & FORCE_NO_COPY_FILE_RANGE)
		ck_assert_msg(copier.buf != NULL, "read/write fallback not used");
	/* Across file systems sendfile copies, not read/write. */
	if (forced & FORCE_CROSS_FS)
		ck_assert_msg(copier.buf == NULL, "read/write used where sendfile works");
	/* split_all: a file of two pages or more is copied as ranges. */
	if (forced & FORCE_SPLIT_ALL)
		ck_assert_uint_eq(load(&slot()->split_files), size >= 8192);
	assert_no_temporaries();
	free(data);
}
END_TEST

/* The IN_CREATE names seen in dst since watch_dst(). */
struct creations {
	int temporary; /* a .pcopy-tmp* name was created */
	int final;     /* the final name was created or renamed to */
};

static int watch_dst(void)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(inotify_add_watch(fd, dst_path, IN_CREATE | IN_MOVED_TO), 0);
	return fd;
}

static struct creations read_creations(int fd, const char *final)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct creations c = { 0, 0 };
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len > 0 && strncmp(ev->name, ".pcopy-tmp", 10) == 0)
				c.temporary |= (ev->mask & IN_CREATE) != 0;
			if (ev->len > 0 && strcmp(ev->name, final) == 0)
				c.final = 1;
			p += sizeof(*ev) + ev->len;
		}
	}
	close(fd);
	return c;
}

/* A fresh copy: O_TMPFILE leaves no name but the final one; else a named temporary. */
START_TEST(test_temporary_kind)
{
	unsigned char *data = make_source("f", 10000, 0644);
	int fd = watch_dst();
	struct creations c;

	assert_copied("f", JOB_REGULAR);
	c = read_creations(fd, "f");
	ck_assert(c.final);
	if (tmpfile_works)
		ck_assert_msg(!c.temporary, "a named temporary although O_TMPFILE works");
	else
		ck_assert_msg(c.temporary, "no named temporary without O_TMPFILE");
	assert_content("f", data, 10000);
	assert_no_temporaries();
	free(data);
}
END_TEST

/* Data extents [start, end) of a sparse layout, in 4 KiB blocks. */
static const struct sparse_layout {
	off_t size;
	int extents;
	off_t start[2], end[2];
} layouts[] = {
	/* holes at the start, in the middle and at the end */
	{ 4 << 20, 2, { 1 << 20, 2621440 }, { (1 << 20) + 65536, 2621440 + 65536 } },
	/* data at both ends, a hole in between */
	{ 3 << 20, 2, { 0, (3 << 20) - 8192 }, { 8192, 3 << 20 } },
	/* nothing but a hole */
	{ 1 << 20, 0, { 0, 0 }, { 0, 0 } },
};

static void make_sparse_source(const struct sparse_layout *l)
{
	unsigned char block[65536];
	int fd = openat(src, "sparse", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, l->size), 0);
	for (int k = 0; k < l->extents; k++) {
		size_t len = (size_t)(l->end[k] - l->start[k]);

		fill_pattern(block, sizeof(block), (unsigned)k + 7);
		ck_assert_int_eq(pwrite(fd, block, len, l->start[k]), (ssize_t)len);
	}
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
	ck_assert_int_eq(fchownat(src, "sparse", src_uid, src_gid, 0), 0);
	ck_assert_int_eq(utimensat(src, "sparse", src_times, 0), 0);
}

/* The data extents of the file `name` in `dir`, as SEEK_DATA/SEEK_HOLE see them. */
static int data_map(int dir, const char *name, off_t *map, int max)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	off_t pos = 0, data, hole;
	int n = 0;

	ck_assert_int_ge(fd, 0);
	while ((data = lseek(fd, pos, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		ck_assert_int_ge(hole, data);
		ck_assert_int_lt(n, max);
		map[2 * n] = data;
		map[2 * n + 1] = hole;
		n++;
		pos = hole;
	}
	ck_assert_int_eq(errno, ENXIO);
	close(fd);
	return n;
}

START_TEST(test_sparse)
{
	const struct sparse_layout *l = &layouts[_i];
	off_t src_map[16], dst_map[16];
	size_t len;
	char *want, *got;
	struct stat st;
	int n;

	make_sparse_source(l);
	assert_copied("sparse", JOB_REGULAR);
	assert_metadata("sparse", S_IFREG, 0644, 1);
	ck_assert_int_eq(fstatat(dst, "sparse", &st, 0), 0);
	ck_assert_int_eq(st.st_size, l->size);
	ck_assert_msg(st.st_blocks * 512 < st.st_size, "no holes: %lld blocks",
		      (long long)st.st_blocks);
	n = data_map(src, "sparse", src_map, 8);
	ck_assert_int_eq(data_map(dst, "sparse", dst_map, 8), n);
	for (int k = 0; k < 2 * n; k++)
		ck_assert_int_eq(dst_map[k], src_map[k]);
	want = read_file_at(src, "sparse", &len);
	got = read_file_at(dst, "sparse", &len);
	ck_assert(want != NULL && got != NULL && len == (size_t)l->size);
	ck_assert(memcmp(want, got, len) == 0);
	if (forced & FORCE_CROSS_FS)
		ck_assert_msg(copier.buf == NULL, "read/write used where sendfile works");
	/* Holes across the ranges' edges; a file of holes only has no blocks to split. */
	if (forced & FORCE_SPLIT_ALL)
		ck_assert_uint_eq(load(&slot()->split_files), l->extents > 0);
	free(want);
	free(got);
	assert_no_temporaries();
}
END_TEST

/* dst/f (with a second name dst/g) is replaced by rename, never rewritten in place. */
START_TEST(test_replaces_existing_file)
{
	unsigned char *data = make_source("f", 5000, 0644);
	struct stat before, after, old;
	size_t len;
	char *g;
	int oldfd;

	ck_assert_int_eq(write_file_at(dst, "f", "old contents", 12, 0600), 0);
	ck_assert_int_eq(linkat(dst, "f", dst, "g", 0), 0);
	ck_assert_int_eq(fstatat(dst, "f", &before, 0), 0);
	oldfd = openat(dst, "f", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(oldfd, 0);
	assert_copied("f", JOB_REGULAR);
	ck_assert_int_eq(fstatat(dst, "f", &after, 0), 0);
	ck_assert_uint_ne(after.st_ino, before.st_ino);
	ck_assert_int_eq(fstat(oldfd, &old), 0);
	ck_assert_uint_eq(old.st_nlink, 1); /* only g is left on the old inode */
	close(oldfd);
	g = read_file_at(dst, "g", &len);
	ck_assert(g != NULL && len == 12 && memcmp(g, "old contents", 12) == 0);
	free(g);
	assert_metadata("f", S_IFREG, 0644, 1);
	assert_content("f", data, 5000);
	assert_no_temporaries();
	free(data);
}
END_TEST

/* A symlink at the destination name is replaced, not written through. */
START_TEST(test_replaces_symlink_without_following)
{
	unsigned char *data = make_source("f", 3000, 0644);
	size_t len;
	char *victim;

	ck_assert_int_eq(write_file_at(tmp.fd, "victim", "victim", 6, 0644), 0);
	ck_assert_int_eq(symlinkat("../victim", dst, "f"), 0);
	assert_copied("f", JOB_REGULAR);
	victim = read_file_at(tmp.fd, "victim", &len);
	ck_assert(victim != NULL && len == 6 && memcmp(victim, "victim", 6) == 0);
	free(victim);
	assert_metadata("f", S_IFREG, 0644, 1);
	assert_content("f", data, 3000);
	assert_no_temporaries();
	free(data);
}
END_TEST

START_TEST(test_directory_in_the_way)
{
	unsigned char *data = make_source("f", 100, 0644);
	struct stat st;

	ck_assert_int_eq(mkdirat(dst, "f", 0755), 0);
	ck_assert_int_eq(write_file_at(dst, "f/inner", "x", 1, 0644), 0);
	ck_assert_int_eq(copy_named("f", JOB_REGULAR), -1);
	ck_assert_int_ne(errno, 0);
	ck_assert_int_eq(fstatat(dst, "f/inner", &st, 0), 0);
	ck_assert_int_eq(fstatat(dst, "f", &st, 0), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(load(&slot()->files), 0);
	assert_no_temporaries();
	ck_assert_int_eq(symlinkat("target", src, "l"), 0);
	ck_assert_int_eq(mkdirat(dst, "l", 0755), 0);
	ck_assert_int_eq(copy_named("l", JOB_SYMLINK), -1);
	ck_assert_int_eq(fstatat(dst, "l", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISDIR(st.st_mode));
	assert_no_temporaries();
	free(data);
}
END_TEST

/* A link given the owner and times, then one with a long target. */
START_TEST(test_symlink)
{
	char target[3001], got[PATH_MAX];
	ssize_t n;

	ck_assert_int_eq(symlinkat("some/where/../target with spaces", src, "l"), 0);
	ck_assert_int_eq(fchownat(src, "l", src_uid, src_gid, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_int_eq(utimensat(src, "l", src_times, AT_SYMLINK_NOFOLLOW), 0);
	assert_copied("l", JOB_SYMLINK);
	assert_metadata("l", S_IFLNK, 0, 1); /* before readlink touches atime */
	n = readlinkat(dst, "l", got, sizeof(got) - 1);
	ck_assert_int_eq(n, (ssize_t)strlen("some/where/../target with spaces"));
	got[n] = '\0';
	ck_assert_str_eq(got, "some/where/../target with spaces");
	ck_assert_uint_eq(load(&slot()->symlinks), 1);

	for (size_t k = 0; k < sizeof(target) - 1; k++)
		target[k] = k % 2 ? '/' : 'x';
	target[sizeof(target) - 1] = '\0';
	ck_assert_int_eq(symlinkat(target, src, "long"), 0);
	assert_copied("long", JOB_SYMLINK);
	n = readlinkat(dst, "long", got, sizeof(got) - 1);
	ck_assert_int_eq(n, (ssize_t)strlen(target));
	got[n] = '\0';
	ck_assert_str_eq(got, target);
	assert_no_temporaries();
}
END_TEST

/* An existing link or file at the name is replaced by the new link. */
START_TEST(test_symlink_replaces)
{
	char got[64];
	ssize_t n;

	ck_assert_int_eq(symlinkat("new-target", src, "l"), 0);
	ck_assert_int_eq(symlinkat("old-target", dst, "l"), 0);
	assert_copied("l", JOB_SYMLINK);
	n = readlinkat(dst, "l", got, sizeof(got) - 1);
	ck_assert_int_ge(n, 0);
	got[n] = '\0';
	ck_assert_str_eq(got, "new-target");
	ck_assert_int_eq(write_file_at(dst, "m", "file", 4, 0644), 0);
	ck_assert_int_eq(symlinkat("m-target", src, "m"), 0);
	assert_copied("m", JOB_SYMLINK);
	n = readlinkat(dst, "m", got, sizeof(got) - 1);
	ck_assert_int_ge(n, 0);
	got[n] = '\0';
	ck_assert_str_eq(got, "m-target");
	assert_no_temporaries();
}
END_TEST

static void make_fifo(const char *name)
{
	ck_assert_int_eq(mkfifoat(src, name, 0620), 0);
	ck_assert_int_eq(fchownat(src, name, src_uid, src_gid, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_int_eq(fchmodat(src, name, 0620, 0), 0);
	ck_assert_int_eq(utimensat(src, name, src_times, AT_SYMLINK_NOFOLLOW), 0);
}

/* Recreated, never opened: opening a FIFO nobody writes would hang. */
START_TEST(test_fifo)
{
	make_fifo("p");
	ck_assert_int_eq(write_file_at(dst, "q", "in the way", 10, 0644), 0);
	make_fifo("q");
	assert_copied("p", JOB_SPECIAL);
	assert_metadata("p", S_IFIFO, 0620, 1);
	assert_copied("q", JOB_SPECIAL);
	assert_metadata("q", S_IFIFO, 0620, 1);
	ck_assert_uint_eq(load(&slot()->specials), 2);
	assert_no_temporaries();
}
END_TEST

/* Sockets and (as root) device nodes are recreated with their rdev. */
START_TEST(test_socket_and_device)
{
	struct stat st;

	ck_assert_int_eq(mknodat(src, "sock", S_IFSOCK | 0640, 0), 0);
	assert_copied("sock", JOB_SPECIAL);
	ck_assert_int_eq(fstatat(dst, "sock", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	if (mknodat(src, "null", S_IFCHR | 0666, makedev(1, 3)) < 0)
		return; /* not allowed to make devices here */
	assert_copied("null", JOB_SPECIAL);
	ck_assert_int_eq(fstatat(dst, "null", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert_uint_eq(major(st.st_rdev), 1);
	ck_assert_uint_eq(minor(st.st_rdev), 3);
	ck_assert_uint_eq(load(&slot()->specials), 2);
	assert_no_temporaries();
}
END_TEST

/* A FIFO where a regular file was expected: refused at once, nothing made. */
START_TEST(test_fifo_as_regular_does_not_hang)
{
	struct stat st;

	make_fifo("p");
	ck_assert_int_eq(copy_named("p", JOB_REGULAR), -1);
	ck_assert_ptr_nonnull(copier.reason);
	errno = 0;
	ck_assert_int_eq(fstatat(dst, "p", &st, AT_SYMLINK_NOFOLLOW), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(load(&slot()->files), 0);
	assert_no_temporaries();
}
END_TEST

/* Without -L a symlink is never opened as the regular file it points to. */
START_TEST(test_symlink_as_regular_refused)
{
	struct stat st;
	unsigned char *data = make_source("f", 10, 0644);

	ck_assert_int_eq(symlinkat("f", src, "l"), 0);
	ck_assert_int_eq(copy_named("l", JOB_REGULAR), -1);
	ck_assert_int_eq(fstatat(dst, "l", &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_no_temporaries();
	free(data);
}
END_TEST

START_TEST(test_vanished_source)
{
	struct entry_stat es;

	memset(&es, 0, sizeof(es));
	es.mode = S_IFREG | 0644;
	errno = 0;
	ck_assert_int_eq(copy_entry(&copier, dstv, src, "gone", "gone", JOB_REGULAR, &es), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(faccessat(dst, "gone", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	errno = 0;
	ck_assert_int_eq(copy_entry(&copier, dstv, src, "gone", "gone", (enum job_kind)0, &es), -1);
	ck_assert_int_eq(errno, EINVAL);
	assert_no_temporaries();
}
END_TEST

START_TEST(test_stop_requested)
{
	unsigned char *data = make_source("f", 100000, 0644);

	atomic_store(&session.shared->stop, 1);
	ck_assert_int_eq(copy_named("f", JOB_REGULAR), -1);
	ck_assert_int_eq(errno, EINTR);
	ck_assert_ptr_nonnull(copier.reason);
	ck_assert_int_eq(faccessat(dst, "f", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_no_temporaries();
	free(data);
}
END_TEST

/* --no-preserve=mode,timestamps: cp's 0666 less the umask, times are new. */
START_TEST(test_no_preserve_mode_and_times)
{
	unsigned char *data = make_source("f", 10, 0751);
	struct stat st;

	opts.preserve &= ~(unsigned)(PRESERVE_MODE | PRESERVE_TIMESTAMPS);
	session.umask = 027;
	make_fifo("p");
	assert_copied("f", JOB_REGULAR);
	assert_copied("p", JOB_SPECIAL);
	ck_assert_int_eq(fstatat(dst, "f", &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_ne(st.st_mtim.tv_sec, src_times[1].tv_sec);
	ck_assert_int_eq(fstatat(dst, "p", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_ne(st.st_mtim.tv_sec, src_times[1].tv_sec);
	free(data);
}
END_TEST

/* Extended attributes follow the data (skipped where user xattrs are off). */
START_TEST(test_xattr_copied)
{
	unsigned char *data = make_source("f", 10, 0644);
	char path[sizeof(tmp.path) + 8], value[32];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/src/f", tmp.path);
	if (setxattr(path, "user.pcopy", "hello", 5, 0) < 0) {
		ck_assert_int_eq(errno, ENOTSUP);
		free(data);
		return;
	}
	assert_copied("f", JOB_REGULAR);
	snprintf(path, sizeof(path), "%s/dst/f", tmp.path);
	n = getxattr(path, "user.pcopy", value, sizeof(value));
	ck_assert_int_eq(n, 5);
	ck_assert_mem_eq(value, "hello", 5);
	assert_metadata("f", S_IFREG, 0644, 1);
	free(data);
}
END_TEST

START_TEST(test_remove_temporary)
{
	ck_assert_int_eq(write_file_at(dst, "keep", "k", 1, 0644), 0);
	errno = 0;
	ck_assert_int_eq(dst_untemp(dstv, "job", "keep"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(faccessat(dst, "keep", F_OK, 0), 0);
	ck_assert_int_eq(write_file_at(dst, TMPNAME_PREFIX "1.2", "t", 1, 0600), 0);
	ck_assert_int_eq(dst_untemp(dstv, "job", TMPNAME_PREFIX "1.2"), 0);
	assert_no_temporaries();
}
END_TEST

START_TEST(test_link_entry)
{
	struct stat a, b, c;

	ck_assert_int_eq(write_file_at(dst, "a", "a", 1, 0644), 0);
	ck_assert_int_eq(write_file_at(dst, "c", "other", 5, 0644), 0);
	ck_assert_int_eq(link_entry(&copier, dstv, "a", "b"), 0);
	ck_assert_int_eq(link_entry(&copier, dstv, "a", "b"), 1); /* already linked */
	ck_assert_int_eq(link_entry(&copier, dstv, "a", "c"), 0); /* replaces c */
	ck_assert_int_eq(fstatat(dst, "a", &a, 0), 0);
	ck_assert_int_eq(fstatat(dst, "b", &b, 0), 0);
	ck_assert_int_eq(fstatat(dst, "c", &c, 0), 0);
	ck_assert(a.st_ino == b.st_ino && a.st_ino == c.st_ino);
	ck_assert_uint_eq(a.st_nlink, 3);
	ck_assert_uint_eq(load(&slot()->hardlinks), 2); /* the one already there is not counted */
	assert_no_temporaries();
}
END_TEST

/* Copy `name` from the directory `dir` to dst; the test's verdict on it. */
static void copy_pseudo_file(const char *dir, const char *name)
{
	int sdir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t want_len, got_len;
	char *want, *got;
	struct entry_stat es;

	ck_assert_int_ge(sdir, 0);
	memset(&es, 0, sizeof(es));
	es.mode = S_IFREG | 0444;
	errno = 0;
	ck_assert_msg(copy_entry(&copier, dstv, sdir, name, name, JOB_REGULAR, &es) == 0,
		      "%s/%s: %s (%s)", dir, name, strerror(errno),
		      copier.reason ? copier.reason : "no reason");
	want = read_file_at(sdir, name, &want_len);
	got = read_file_at(dst, name, &got_len);
	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_gt(want_len, 0);
	ck_assert_uint_eq(got_len, want_len);
	ck_assert_mem_eq(got, want, want_len);
	ck_assert_ptr_null(copier.warning);
	free(want);
	free(got);
	close(sdir);
}

/* Did a fresh copier copy src/name with copy_file_range (no buffer)? */
static int copied_with_cfr(const char *name)
{
	struct copier fresh;
	struct entry_stat es;
	struct stat st;
	int used;

	copier_init(&fresh, &session, slot());
	ck_assert_int_eq(fstatat(src, name, &st, 0), 0);
	entry_stat_from(&es, &st);
	ck_assert_int_eq(copy_entry(&fresh, dstv, src, name, name, JOB_REGULAR, &es), 0);
	used = fresh.buf == NULL;
	copier_free(&fresh);
	return used;
}

/*
 * procfs says 0 bytes and sysfs 4096 (with no blocks): both are read to
 * their end, as cp does.  copy_file_range refuses them, which must not turn
 * it off for the files that follow.
 */
START_TEST(test_pseudo_files)
{
	static const char *const sysfs[] = { "/sys/kernel/mm/transparent_hugepage", "/sys/kernel",
					     "/sys/power" };
	static const char *const sysfs_names[] = { "enabled", "uevent_seqnum", "state" };
	unsigned char *data = make_source("before", 100000, 0644);
	int cfr_works = copied_with_cfr("before");

	copy_pseudo_file("/proc/sys/kernel", "ostype");
	copy_pseudo_file("/proc/self", "limits");
	for (size_t i = 0; i < sizeof(sysfs) / sizeof(sysfs[0]); i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", sysfs[i], sysfs_names[i]);
		if (access(path, R_OK) == 0) {
			copy_pseudo_file(sysfs[i], sysfs_names[i]);
			break;
		}
	}
	free(make_source("after", 100000, 0644));
	ck_assert_int_eq(copied_with_cfr("after"), cfr_works);
	free(data);
}
END_TEST

/* --- a source on another machine: what was read there, in src_meta --- */

/* A remote source: nothing of it here but its stat and `meta`. */
static struct src_entry remote(const struct entry_stat *es, const struct src_meta *meta)
{
	return (struct src_entry){ .dir = -1, .fd = -1, .st = es, .meta = meta };
}

/* -c: DST's file is hashed against the hash sent; no source is read. */
START_TEST(test_remote_compare)
{
	size_t size = (1 << 20) + 3;
	unsigned char *data = malloc(size), hash[HASH_SIZE];
	struct src_meta meta = { .hash = hash };
	struct entry_stat es = { .mode = S_IFREG | 0644, .size = size };
	struct src_entry from = remote(&es, &meta);
	struct hash_state *h = hash_new();

	fill_pattern(data, size, 3);
	hash_update(h, data, size);
	hash_final(h, hash);
	hash_free(h);
	ck_assert_int_eq(write_file_at(dst, "f", data, size, 0644), 0);
	ck_assert_int_eq(dst_compare(dstv, 0, "f", &from), 0);
	hash[HASH_SIZE - 1] ^= 1;
	ck_assert_int_eq(dst_compare(dstv, 0, "f", &from), 1);
	hash[HASH_SIZE - 1] ^= 1;
	es.size = size - 1; /* told apart by the size alone */
	ck_assert_int_eq(dst_compare(dstv, 0, "f", &from), 1);
	es.size = size;
	meta.hash = NULL; /* not sent: cannot tell */
	ck_assert_int_eq(dst_compare(dstv, 0, "f", &from), -1);
	meta.hash = hash;
	ck_assert_int_eq(dst_compare(dstv, 0, "missing", &from), -1);
	ck_assert_int_eq(symlinkat("f", dst, "link"), 0); /* never followed */
	ck_assert_int_eq(dst_compare(dstv, 0, "link", &from), -1);
	ck_assert_int_eq(mkfifoat(dst, "fifo", 0644), 0); /* never a hang */
	ck_assert_int_eq(dst_compare(dstv, 0, "fifo", &from), -1);
	free(data);
}
END_TEST

/*
 * Attributes compared with, and set from, the list read there: --update's
 * metadata fix of a regular file opens nothing of the source.
 */
START_TEST(test_remote_attributes)
{
	unsigned char *data = make_source("f", 10, 0640);
	unsigned char *list = NULL;
	struct src_meta meta = { .has_xattrs = 1 };
	struct entry_stat es;
	struct src_entry from = remote(&es, &meta);
	char path[sizeof(dst_path) + 2], value[8];
	struct stat st;
	int fd = openat(src, "f", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	entry_stat_from(&es, &st);
	if (fsetxattr(fd, "user.a", "1", 1, 0) < 0) {
		ck_assert_int_eq(errno, ENOTSUP);
		goto out;
	}
	ck_assert_int_eq(xattr_list_read(fd, -1, NULL, XATTR_OTHERS, &list, &meta.xattrs_len), 0);
	meta.xattrs = list;
	ck_assert_int_eq(write_file_at(dst, "f", "old", 3, 0600), 0);
	snprintf(path, sizeof(path), "%s/f", dst_path);
	ck_assert_int_eq(setxattr(path, "user.extra", "x", 1, 0), 0);
	ck_assert_int_eq(dst_attrs_equal(dstv, 0, "f", &from, XATTR_OTHERS), 0);
	ck_assert_int_eq(dst_fix_meta(dstv, "f", &from, &copier.lost), 0);
	ck_assert_int_eq(dst_attrs_equal(dstv, 0, "f", &from, XATTR_OTHERS), 1);
	ck_assert_int_eq(getxattr(path, "user.extra", NULL, 0), -1);
	ck_assert_int_eq(getxattr(path, "user.a", value, sizeof(value)), 1);
	ck_assert_int_eq(value[0], '1');
	assert_metadata("f", S_IFREG, 0640, 1);
	meta.has_xattrs = 0; /* not read there: nothing can be said, unless nothing is asked */
	ck_assert_int_eq(dst_attrs_equal(dstv, 0, "f", &from, XATTR_OTHERS), -1);
	ck_assert_int_eq(dst_attrs_equal(dstv, 0, "f", &from, 0), 1);
out:
	close(fd);
	free(list);
	free(data);
}
END_TEST

/* A symbolic link is made from the target read there, and --update compares with it. */
START_TEST(test_remote_symlink)
{
	struct src_meta meta = { .link_target = "target/x", .has_xattrs = 1 }; /* none */
	struct entry_stat es = { .mode = S_IFLNK | 0777, .size = 8 };
	struct src_entry from = remote(&es, &meta);
	struct stat st;
	char got[16];
	int tree;

	copier.meta = &meta;
	ck_assert_int_eq(copy_entry(&copier, dstv, -1, NULL, "l", JOB_SYMLINK, &es), 0);
	copier.meta = NULL;
	ck_assert_int_eq(readlinkat(dst, "l", got, sizeof(got)), 8);
	ck_assert_mem_eq(got, "target/x", 8);
	ck_assert_uint_eq(load(&slot()->symlinks), 1);
	ck_assert_int_eq(fstatat(dst, "l", &st, AT_SYMLINK_NOFOLLOW), 0);
	entry_stat_from(&es, &st); /* the same stat: only the target can differ */
	opts.update = UPDATE_CHANGED;
	ck_assert_int_eq(update_decide(&session, dstv, &from, "l", &st, &tree), PLAN_SKIP);
	meta.link_target = "target/y";
	ck_assert_int_eq(update_decide(&session, dstv, &from, "l", &st, &tree), PLAN_COPY);
	meta.link_target = NULL; /* not sent: copied, as one that cannot be read */
	ck_assert_int_eq(update_decide(&session, dstv, &from, "l", &st, &tree), PLAN_COPY);
}
END_TEST

/* The tests that every data path must pass, for the fallback TCases. */
static TCase *data_tcase(const char *name, void (*fixture)(void))
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fixture, teardown);
	tcase_add_loop_test(tc, test_regular_sizes, 0, (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_loop_test(tc, test_sparse, 0, (int)(sizeof(layouts) / sizeof(layouts[0])));
	tcase_add_test(tc, test_temporary_kind);
	tcase_add_test(tc, test_replaces_existing_file);
	tcase_add_test(tc, test_replaces_symlink_without_following);
	tcase_add_test(tc, test_directory_in_the_way);
	tcase_add_test(tc, test_stop_requested);
	tcase_set_timeout(tc, 60);
	return tc;
}

Suite *copy_suite(void)
{
	Suite *s = suite_create("copy");
	TCase *tc = data_tcase("default", setup_default);

	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_symlink_replaces);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_socket_and_device);
	tcase_add_test(tc, test_fifo_as_regular_does_not_hang);
	tcase_add_test(tc, test_symlink_as_regular_refused);
	tcase_add_test(tc, test_vanished_source);
	tcase_add_test(tc, test_no_preserve_mode_and_times);
	tcase_add_test(tc, test_xattr_copied);
	tcase_add_test(tc, test_remove_temporary);
	tcase_add_test(tc, test_link_entry);
	tcase_add_test(tc, test_pseudo_files);
	suite_add_tcase(s, tc);
	tc = tcase_create("remote_source");
	tcase_add_checked_fixture(tc, setup_default, teardown);
	tcase_add_test(tc, test_remote_compare);
	tcase_add_test(tc, test_remote_attributes);
	tcase_add_test(tc, test_remote_symlink);
	suite_add_tcase(s, tc);
	/* Sticky fallbacks last, read/write before named temporaries. */
	suite_add_tcase(s, data_tcase("cross_fs", setup_cross_fs));
	suite_add_tcase(s, data_tcase("split_all", setup_split_all));
	suite_add_tcase(s, data_tcase("split_all_cross_fs", setup_split_all_cross_fs));
	suite_add_tcase(s, data_tcase("no_copy_file_range", setup_no_copy_file_range));
	suite_add_tcase(s, data_tcase("no_tmpfile", setup_no_tmpfile));
	return s;
}
