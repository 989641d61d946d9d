/*
 * check_acl.c - reading ACL values (acl.c) and describing lost metadata
 * (meta_loss_*), both without a filesystem.
 */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "copy/acl.h"
#include "copy/meta.h"
#include "suites.h"

/* Entry tags and the version, as in linux/posix_acl_xattr.h. */
enum { USER_OBJ = 0x01, USER = 0x02, GROUP_OBJ = 0x04, GROUP = 0x08, MASK = 0x10, OTHER = 0x20 };

/* An ACL value being built: header plus up to 16 entries. */
struct acl_value {
	unsigned char bytes[4 + 16 * 8];
	size_t len;
};

static void acl_begin(struct acl_value *v, uint32_t version)
{
	uint32_t le = htole32(version);

	memcpy(v->bytes, &le, 4);
	v->len = 4;
}

static void acl_add(struct acl_value *v, uint16_t tag, uint16_t perm, uint32_t id)
{
	uint16_t t = htole16(tag), p = htole16(perm);
	uint32_t i = htole32(id);

	memcpy(v->bytes + v->len, &t, 2);
	memcpy(v->bytes + v->len + 2, &p, 2);
	memcpy(v->bytes + v->len + 4, &i, 4);
	v->len += 8;
}

/* setfacl -m u:1000:rwx on a 0644 file: user::rw- user:1000:rwx group::r-- mask::rwx other::r-- */
START_TEST(test_named_user_group_is_its_entry)
{
	struct acl_value v;
	struct acl_summary a;

	acl_begin(&v, 2);
	acl_add(&v, USER_OBJ, 6, UINT32_MAX);
	acl_add(&v, USER, 7, 1000);
	acl_add(&v, GROUP_OBJ, 4, UINT32_MAX);
	acl_add(&v, MASK, 7, UINT32_MAX);
	acl_add(&v, OTHER, 4, UINT32_MAX);
	ck_assert_int_eq(acl_summarize(v.bytes, v.len, &a), 0);
	ck_assert_uint_eq(a.bits, 0644); /* not 0674: the mask is not the group's */
	ck_assert_int_eq(a.extended, 1);
}
END_TEST

/* The mask limits the owning group too: group::rwx mask::r-x gives r-x. */
START_TEST(test_mask_limits_group)
{
	struct acl_value v;
	struct acl_summary a;

	acl_begin(&v, 2);
	acl_add(&v, USER_OBJ, 7, UINT32_MAX);
	acl_add(&v, GROUP_OBJ, 7, UINT32_MAX);
	acl_add(&v, GROUP, 6, 50);
	acl_add(&v, MASK, 5, UINT32_MAX);
	acl_add(&v, OTHER, 0, UINT32_MAX);
	ck_assert_int_eq(acl_summarize(v.bytes, v.len, &a), 0);
	ck_assert_uint_eq(a.bits, 0750);
	ck_assert_int_eq(a.extended, 1);
}
END_TEST

/* Three base entries only: mode bits hold it all. */
START_TEST(test_minimal_acl_is_not_extended)
{
	struct acl_value v;
	struct acl_summary a;

	acl_begin(&v, 2);
	acl_add(&v, USER_OBJ, 6, UINT32_MAX);
	acl_add(&v, GROUP_OBJ, 4, UINT32_MAX);
	acl_add(&v, OTHER, 0, UINT32_MAX);
	ck_assert_int_eq(acl_summarize(v.bytes, v.len, &a), 0);
	ck_assert_uint_eq(a.bits, 0640);
	ck_assert_int_eq(a.extended, 0);
}
END_TEST

START_TEST(test_malformed_values_are_refused)
{
	struct acl_value v;
	struct acl_summary a;

	acl_begin(&v, 1); /* wrong version */
	acl_add(&v, USER_OBJ, 6, 0);
	acl_add(&v, GROUP_OBJ, 4, 0);
	acl_add(&v, OTHER, 4, 0);
	errno = 0;
	ck_assert_int_eq(acl_summarize(v.bytes, v.len, &a), -1);
	ck_assert_int_eq(errno, EINVAL);
	acl_begin(&v, 2); /* a named user without a mask */
	acl_add(&v, USER_OBJ, 6, 0);
	acl_add(&v, USER, 7, 5);
	acl_add(&v, GROUP_OBJ, 4, 0);
	acl_add(&v, OTHER, 4, 0);
	ck_assert_int_eq(acl_summarize(v.bytes, v.len, &a), -1);
	ck_assert_int_eq(acl_summarize(v.bytes, v.len - 3, &a), -1); /* torn entry */
	ck_assert_int_eq(acl_summarize(v.bytes, 2, &a), -1);
	acl_begin(&v, 2); /* no other entry */
	acl_add(&v, USER_OBJ, 6, 0);
	acl_add(&v, GROUP_OBJ, 4, 0);
	ck_assert_int_eq(acl_summarize(v.bytes, v.len, &a), -1);
	acl_begin(&v, 2); /* unknown tag */
	acl_add(&v, USER_OBJ, 6, 0);
	acl_add(&v, GROUP_OBJ, 4, 0);
	acl_add(&v, OTHER, 4, 0);
	acl_add(&v, 0x40, 4, 0);
	ck_assert_int_eq(acl_summarize(v.bytes, v.len, &a), -1);
}
END_TEST

START_TEST(test_acl_names)
{
	ck_assert(acl_is_xattr_name("system.posix_acl_access"));
	ck_assert(acl_is_xattr_name("system.posix_acl_default"));
	ck_assert(!acl_is_xattr_name("user.posix_acl_access"));
	ck_assert(!acl_is_xattr_name("system.posix_acl"));
}
END_TEST

START_TEST(test_loss_descriptions)
{
	struct meta_loss loss;
	char text[META_LOSS_TEXT_MAX];

	meta_loss_clear(&loss);
	for (int p = 0; p < META_PARTS; p++)
		ck_assert_int_eq(meta_loss_describe(&loss, (enum meta_part)p, text), 0);
	meta_loss_add(&loss, META_ACL, ENOTSUP, NULL);
	ck_assert_int_eq(loss.any, 1);
	ck_assert_int_eq(meta_loss_describe(&loss, META_ACL, text), 1);
	ck_assert_str_eq(text, "cannot preserve ACL: Operation not supported");
	ck_assert_int_eq(meta_loss_describe(&loss, META_XATTR, text), 0);
	meta_loss_add(&loss, META_XATTR, ENOTSUP, "user.x");
	ck_assert_int_eq(meta_loss_describe(&loss, META_XATTR, text), 1);
	ck_assert_str_eq(text,
			 "cannot preserve extended attribute 'user.x': Operation not supported");
	meta_loss_add(&loss, META_XATTR, ENOSPC, "user.y"); /* the first errno stays */
	meta_loss_add(&loss, META_XATTR, ENOTSUP, "user.z");
	ck_assert_int_eq(meta_loss_describe(&loss, META_XATTR, text), 1);
	ck_assert_str_eq(text, "cannot preserve extended attribute 'user.x' (and 2 more): "
			       "Operation not supported");
	meta_loss_add(&loss, META_TIMES, EPERM, NULL);
	ck_assert_int_eq(meta_loss_describe(&loss, META_TIMES, text), 1);
	ck_assert_str_eq(text, "cannot preserve timestamps: Operation not permitted");
	meta_loss_clear(&loss);
	ck_assert_int_eq(meta_loss_describe(&loss, META_ACL, text), 0);
}
END_TEST

/* An attribute name cannot put a newline (a forged line) into a message. */
START_TEST(test_loss_name_is_printable)
{
	struct meta_loss loss;
	char text[META_LOSS_TEXT_MAX];

	meta_loss_clear(&loss);
	meta_loss_add(&loss, META_XATTR, EIO, "user.a\npcopy: forged\x7f");
	ck_assert_int_eq(meta_loss_describe(&loss, META_XATTR, text), 1);
	ck_assert_str_eq(
		text,
		"cannot preserve extended attribute 'user.a?pcopy: forged?': Input/output error");
}
END_TEST

Suite *acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("summary");

	tcase_add_test(tc, test_named_user_group_is_its_entry);
	tcase_add_test(tc, test_mask_limits_group);
	tcase_add_test(tc, test_minimal_acl_is_not_extended);
	tcase_add_test(tc, test_malformed_values_are_refused);
	tcase_add_test(tc, test_acl_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("loss");
	tcase_add_test(tc, test_loss_descriptions);
	tcase_add_test(tc, test_loss_name_is_printable);
	suite_add_tcase(s, tc);
	return s;
}
