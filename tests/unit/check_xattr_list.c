/*
 * check_xattr_list.c - the packed attribute list a remote source's
 * attributes travel in (xattr.h's xattr_list): its checks against
 * malformed bytes, and reading, copying and comparing through it on real
 * files in tmpfs (skipped where user attributes are off).
 */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/util.h"
#include "copy/acl.h"
#include "copy/xattr.h"
#include "suites.h"
#include "testlib.h"

/* --- the format, without a file system --- */

/* A list being built by hand, as a peer might send it. */
struct packed {
	unsigned char bytes[2 * (XATTR_SIZE_MAX + 512)];
	size_t len;
};

static void put_name(struct packed *p, const char *name, size_t name_len)
{
	memcpy(p->bytes + p->len, name, name_len);
	p->bytes[p->len + name_len] = '\0';
	p->len += name_len + 1;
}

static void put_length(struct packed *p, uint32_t value_len)
{
	uint32_t le = htole32(value_len);

	memcpy(p->bytes + p->len, &le, sizeof(le));
	p->len += sizeof(le);
}

/* One whole entry whose value is `value_len` bytes of 'v'. */
static void put_entry(struct packed *p, const char *name, uint32_t value_len)
{
	put_name(p, name, strlen(name));
	put_length(p, value_len);
	memset(p->bytes + p->len, 'v', value_len);
	p->len += value_len;
}

static void assert_refused(const struct packed *p)
{
	errno = 0;
	ck_assert_int_eq(xattr_list_check(p->bytes, p->len), -1);
	ck_assert_int_eq(errno, EINVAL);
}

START_TEST(test_well_formed)
{
	static struct packed p;
	char longest[XATTR_NAME_MAX + 1];

	p.len = 0;
	ck_assert_int_eq(xattr_list_check(p.bytes, 0), 0); /* no attributes */
	ck_assert_int_eq(xattr_list_check(NULL, 0), 0);
	put_entry(&p, "user.a", 3);
	put_entry(&p, "user.empty", 0);
	memset(longest, 'n', XATTR_NAME_MAX);
	longest[XATTR_NAME_MAX] = '\0';
	put_entry(&p, longest, XATTR_SIZE_MAX);
	ck_assert_int_eq(xattr_list_check(p.bytes, p.len), 0);
}
END_TEST

START_TEST(test_malformed)
{
	static struct packed p;
	char too_long[XATTR_NAME_MAX + 2];

	p.len = 0; /* the value's length cut short */
	put_entry(&p, "user.a", 1);
	put_name(&p, "user.b", 6);
	put_length(&p, 0);
	p.len -= 2;
	assert_refused(&p);

	p.len = 0; /* a value running past the end */
	put_entry(&p, "user.a", 10);
	p.len -= 5;
	assert_refused(&p);

	p.len = 0; /* an empty name */
	put_entry(&p, "", 1);
	assert_refused(&p);

	p.len = 0; /* a name one byte too long */
	memset(too_long, 'n', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	put_entry(&p, too_long, 1);
	assert_refused(&p);

	p.len = 0; /* a value one byte too long, all of it there */
	put_entry(&p, "user.a", XATTR_SIZE_MAX + 1);
	assert_refused(&p);

	p.len = 0; /* a name without its NUL */
	put_entry(&p, "user.a", 1);
	memcpy(p.bytes + p.len, "user", 4);
	p.len += 4;
	assert_refused(&p);

	p.len = 0; /* a length with all bits set */
	put_name(&p, "user.a", 6);
	put_length(&p, UINT32_MAX);
	assert_refused(&p);
}
END_TEST

/* --- on files --- */

/*
 * The TCase's directory in tmpfs, made and removed in the parent (an
 * unchecked fixture), so that a failed test leaves nothing behind; each
 * test has a fresh one inside.  Elsewhere than Linux's /dev/shm: /tmp.
 */
static char shm_base[64];
static struct scratch dir;

static void shm_make(void)
{
	snprintf(shm_base, sizeof(shm_base), "/dev/shm/pcopy-unit.XXXXXX");
	if (mkdtemp(shm_base) == NULL)
		shm_base[0] = '\0';
}

static void shm_remove(void)
{
	if (shm_base[0] != '\0')
		(void)remove_tree_at(AT_FDCWD, shm_base);
}

static void setup(void)
{
	if (shm_base[0] == '\0') {
		scratch_make(&dir);
		return;
	}
	snprintf(dir.path, sizeof(dir.path), "%s/t.XXXXXX", shm_base);
	ck_assert_ptr_nonnull(mkdtemp(dir.path));
	dir.fd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir.fd, 0);
}

static void teardown(void)
{
	scratch_remove(&dir);
}

/* A new empty file `name`, open for reading and writing. */
static int make_file(const char *name)
{
	int fd = openat(dir.fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Give fd the attribute; 0 where the file system keeps no user attributes. */
static int set(int fd, const char *name, const char *value)
{
	if (fsetxattr(fd, name, value, strlen(value), 0) == 0)
		return 1;
	ck_assert_int_eq(errno, ENOTSUP);
	return 0;
}

static void assert_value(int fd, const char *name, const void *value, size_t len)
{
	char got[8192];

	ck_assert_int_eq(fgetxattr(fd, name, got, sizeof(got)), (ssize_t)len);
	ck_assert_mem_eq(got, value, len);
}

/* user.one = "1", user.empty = "", user.big = 4000 bytes. */
static const char *big_value(void)
{
	static char big[4001];

	memset(big, 'b', 4000);
	return big;
}

static int decorate(int fd)
{
	return set(fd, "user.one", "1") && set(fd, "user.empty", "") &&
	       set(fd, "user.big", big_value());
}

static struct xattr_source listed(const unsigned char *list, size_t len)
{
	return (struct xattr_source){
		.listed = 1, .list = list, .list_len = len, .fd = -1, .dir = -1
	};
}

/* Read a's attributes into a list, copy them to b through it, to c by name. */
START_TEST(test_round_trip)
{
	struct session s = { .euid = geteuid() };
	int a = make_file("a"), b = make_file("b"), c = make_file("c");
	unsigned char *list = NULL, *by_name = NULL;
	size_t len = 0, len2 = 0;
	struct xattr_source from;
	struct xattr_result res;
	struct meta_loss loss;

	if (!decorate(a))
		goto out;
	ck_assert_int_eq(set(b, "user.extra", "x"), 1);
	ck_assert_int_eq(xattr_list_read(a, -1, NULL, XATTR_OTHERS, &list, &len), 0);
	ck_assert_int_eq(xattr_list_check(list, len), 0);
	ck_assert_int_eq(xattr_list_read(-1, dir.fd, "a", XATTR_OTHERS, &by_name, &len2), 0);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(by_name, list, len);

	meta_loss_clear(&loss);
	from = listed(list, len);
	ck_assert_int_eq(xattr_copy_fd(&s, &from, b, XATTR_OTHERS | XATTR_REMOVE_EXTRA, &res,
				       &loss),
			 0);
	ck_assert_int_eq(loss.any, 0);
	ck_assert_int_eq(res.changed, 4); /* three written, one removed */
	assert_value(b, "user.one", "1", 1);
	assert_value(b, "user.empty", "", 0);
	assert_value(b, "user.big", big_value(), 4000);
	ck_assert_int_eq(fgetxattr(b, "user.extra", NULL, 0), -1);
	ck_assert_int_eq(xattr_copy_at(&s, &from, dir.fd, "c", XATTR_OTHERS, &res, &loss), 0);
	assert_value(c, "user.big", big_value(), 4000);
	ck_assert_int_eq(xattr_equal_at(dir.fd, "a", dir.fd, "c", XATTR_OTHERS), 1);
out:
	free(list);
	free(by_name);
	close_both(a, b);
	close(c);
}
END_TEST

/* Only the kinds asked for are read; a file with none gives an empty list. */
START_TEST(test_read_kinds)
{
	int a = make_file("a"), b = make_file("b");
	unsigned char *list = (unsigned char *)"x";
	size_t len = 1;

	ck_assert_int_eq(xattr_list_read(b, -1, NULL, XATTR_OTHERS | XATTR_ACLS, &list, &len), 0);
	ck_assert_ptr_null(list);
	ck_assert_uint_eq(len, 0);
	if (!set(a, "user.one", "1"))
		goto out;
	ck_assert_int_eq(xattr_list_read(a, -1, NULL, XATTR_ACLS, &list, &len), 0);
	ck_assert_uint_eq(len, 0);
	errno = 0;
	ck_assert_int_eq(xattr_list_read(-1, dir.fd, "missing", XATTR_OTHERS, &list, &len), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(list);
out:
	close_both(a, b);
}
END_TEST

/* A list against a file: the same names with the same values, or not. */
START_TEST(test_list_equal)
{
	int a = make_file("a"), b = make_file("b");
	unsigned char *list = NULL;
	size_t len = 0;

	ck_assert_int_eq(xattr_list_equal_at(NULL, 0, dir.fd, "b", XATTR_OTHERS), 1);
	if (!decorate(a))
		goto out;
	ck_assert_int_eq(xattr_list_equal_at(NULL, 0, dir.fd, "a", XATTR_OTHERS), 0);
	ck_assert_int_eq(xattr_list_equal_at(NULL, 0, dir.fd, "a", XATTR_ACLS), 1);
	ck_assert_int_eq(xattr_list_read(a, -1, NULL, XATTR_OTHERS, &list, &len), 0);
	ck_assert_int_eq(xattr_list_equal_at(list, len, dir.fd, "a", XATTR_OTHERS), 1);
	ck_assert_int_eq(xattr_list_equal_at(list, len, dir.fd, "b", XATTR_OTHERS), 0);
	ck_assert_int_eq(decorate(b), 1);
	ck_assert_int_eq(xattr_list_equal_at(list, len, dir.fd, "b", XATTR_OTHERS), 1);
	ck_assert_int_eq(set(b, "user.one", "2"), 1); /* a value differs */
	ck_assert_int_eq(xattr_list_equal_at(list, len, dir.fd, "b", XATTR_OTHERS), 0);
	ck_assert_int_eq(set(b, "user.one", "1"), 1);
	ck_assert_int_eq(set(b, "user.extra", "x"), 1); /* a name more */
	ck_assert_int_eq(xattr_list_equal_at(list, len, dir.fd, "b", XATTR_OTHERS), 0);
	ck_assert_int_eq(fremovexattr(b, "user.extra"), 0);
	ck_assert_int_eq(fremovexattr(b, "user.big"), 0); /* a name fewer */
	ck_assert_int_eq(xattr_list_equal_at(list, len, dir.fd, "b", XATTR_OTHERS), 0);
	ck_assert_int_eq(xattr_list_equal_at(list, len, dir.fd, "missing", XATTR_OTHERS), -1);
out:
	free(list);
	close_both(a, b);
}
END_TEST

/* The access ACL travels too, when ACLs are asked for (as cp -p would keep it). */
START_TEST(test_acl_travels)
{
	/* user::rw- user:1234:r-- group::r-- mask::r-- other::r-- */
	static const unsigned char acl[] = { 2,   0,   0,   0,   1,   0,   6,  0,   255, 255, 255,
					     255, 2,   0,   4,   0,   210, 4,  0,   0,   4,   0,
					     4,   0,   255, 255, 255, 255, 16, 0,   4,   0,   255,
					     255, 255, 255, 32,  0,   4,   0,  255, 255, 255, 255 };
	struct session s = { .euid = geteuid() };
	int a = make_file("a"), b = make_file("b");
	unsigned char *list = NULL;
	size_t len = 0;
	struct xattr_source from;
	struct xattr_result res;
	struct meta_loss loss;

	if (fsetxattr(a, ACL_ACCESS_XATTR, acl, sizeof(acl), 0) < 0) {
		ck_assert(errno == ENOTSUP || errno == EOPNOTSUPP);
		goto out;
	}
	ck_assert_int_eq(xattr_list_read(a, -1, NULL, XATTR_OTHERS, &list, &len), 0);
	ck_assert_uint_eq(len, 0); /* an ACL is not among the others */
	ck_assert_int_eq(xattr_list_read(a, -1, NULL, XATTR_ACLS, &list, &len), 0);
	ck_assert_int_ne(len, 0);
	meta_loss_clear(&loss);
	from = listed(list, len);
	ck_assert_int_eq(xattr_copy_fd(&s, &from, b, XATTR_ACLS, &res, &loss), 0);
	assert_value(b, ACL_ACCESS_XATTR, acl, sizeof(acl));
	ck_assert_int_eq(xattr_list_equal_at(list, len, dir.fd, "b", XATTR_ACLS), 1);
out:
	free(list);
	close_both(a, b);
}
END_TEST

Suite *xattr_list_suite(void)
{
	Suite *s = suite_create("xattr_list");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_well_formed);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_unchecked_fixture(tc, shm_make, shm_remove);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_read_kinds);
	tcase_add_test(tc, test_list_equal);
	tcase_add_test(tc, test_acl_travels);
	suite_add_tcase(s, tc);
	return s;
}
