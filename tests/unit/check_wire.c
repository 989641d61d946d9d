/*
 * check_wire.c - the remote protocol's encoding (transport/wire.h): what
 * is written reads back the same, little-endian on any machine; a reader
 * never goes past its payload or a caller's bound, and stays failed once
 * it has; names and paths from the wire are only what they claim to be.
 */
#include <check.h>
#include <limits.h>
#include <string.h>

#include "suites.h"
#include "transport/wire.h"

/* Every field written reads back, and the payload is used up exactly. */
START_TEST(test_round_trip)
{
	struct wire_out o = { 0 };
	struct wire_in in;
	char buf[16];
	size_t len;
	const char *s;

	wire_put_u8(&o, 0xab);
	wire_put_u16(&o, 0xbeef);
	wire_put_u32(&o, 0xdeadbeef);
	wire_put_u64(&o, 0x0123456789abcdefULL);
	wire_put_i64(&o, -2);
	wire_put_str(&o, "name", 4);
	wire_put_str(&o, "", 0);
	wire_put_bytes(&o, "xyz", 3);
	wire_in_init(&in, o.buf, o.len);
	ck_assert_uint_eq(wire_u8(&in), 0xab);
	ck_assert_uint_eq(wire_u16(&in), 0xbeef);
	ck_assert_uint_eq(wire_u32(&in), 0xdeadbeef);
	ck_assert_uint_eq(wire_u64(&in), 0x0123456789abcdefULL);
	ck_assert_int_eq(wire_i64(&in), -2);
	ck_assert_str_eq(wire_cstr(&in, buf, 8), "name");
	s = wire_str(&in, 8, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(memcmp(wire_bytes(&in, 3), "xyz", 3), 0);
	ck_assert_int_eq(wire_ok(&in, 1), 1);
	wire_out_free(&o);
}
END_TEST

/* The byte order is the protocol's, not the machine's. */
START_TEST(test_little_endian)
{
	struct wire_out o = { 0 };
	struct wire_head h = { 0x01020304, 0x0506, 0x0708 }, back;
	unsigned char head[WIRE_HEAD_SIZE];
	static const unsigned char want[] = { 4, 3, 2, 1, 6, 5, 8, 7 };

	wire_put_u32(&o, 0x01020304);
	ck_assert_int_eq(memcmp(o.buf, want, 4), 0);
	wire_head_put(head, &h);
	ck_assert_int_eq(memcmp(head, want, sizeof(want)), 0);
	h.length = 1000;
	wire_head_put(head, &h);
	ck_assert_int_eq(wire_head_get(head, &back), 0);
	ck_assert_uint_eq(back.length, 1000);
	ck_assert_uint_eq(back.type, 0x0506);
	ck_assert_uint_eq(back.stream, 0x0708);
	wire_out_free(&o);
}
END_TEST

/* A header announcing more than WIRE_FRAME_MAX is refused. */
START_TEST(test_head_too_long)
{
	struct wire_head h = { WIRE_FRAME_MAX + 1, 1, 0 }, back;
	unsigned char head[WIRE_HEAD_SIZE];

	wire_head_put(head, &h);
	ck_assert_int_eq(wire_head_get(head, &back), -1);
	h.length = WIRE_FRAME_MAX;
	wire_head_put(head, &h);
	ck_assert_int_eq(wire_head_get(head, &back), 0);
}
END_TEST

/* Short payloads: each read past the end fails, and so does every one after. */
START_TEST(test_truncated)
{
	static const unsigned char three[] = { 1, 2, 3 };
	struct wire_in in;

	wire_in_init(&in, three, sizeof(three));
	ck_assert_uint_eq(wire_u16(&in), 0x0201);
	ck_assert_uint_eq(wire_u32(&in), 0);
	ck_assert_int_eq(wire_ok(&in, 0), 0);
	ck_assert_uint_eq(wire_u8(&in), 0); /* the byte left is not handed out now */
	ck_assert_ptr_null(wire_bytes(&in, 1));
	wire_in_init(&in, three, sizeof(three));
	ck_assert_uint_eq(wire_u8(&in), 1);
	ck_assert_int_eq(wire_ok(&in, 0), 1);
	ck_assert_int_eq(wire_ok(&in, 1), 0); /* bytes left over */
}
END_TEST

/* A string longer than its bound, or than what is left, or holding a NUL. */
START_TEST(test_bad_strings)
{
	struct wire_out o = { 0 };
	struct wire_in in;
	char buf[8];
	size_t len;

	wire_put_str(&o, "toolongname", 11);
	wire_in_init(&in, o.buf, o.len);
	ck_assert_ptr_null(wire_str(&in, 7, &len));
	ck_assert_int_eq(wire_ok(&in, 0), 0);
	o.len = 0;
	wire_put_u32(&o, 100); /* claims 100 bytes, has 2 */
	wire_put_bytes(&o, "ab", 2);
	wire_in_init(&in, o.buf, o.len);
	len = 1;
	ck_assert_ptr_null(wire_str(&in, 1000, &len));
	ck_assert_uint_eq(len, 0); /* no length to use with the NULL */
	ck_assert_int_eq(wire_ok(&in, 0), 0);
	o.len = 0;
	wire_put_u32(&o, 0xffffffffu); /* a length that would wrap */
	wire_in_init(&in, o.buf, o.len);
	ck_assert_ptr_null(wire_str(&in, SIZE_MAX, &len));
	o.len = 0;
	wire_put_str(&o, "a\0b", 3);
	wire_in_init(&in, o.buf, o.len);
	ck_assert_ptr_null(wire_cstr(&in, buf, 7));
	ck_assert_int_eq(wire_ok(&in, 0), 0);
	wire_out_free(&o);
}
END_TEST

START_TEST(test_names)
{
	char longest[NAME_MAX + 2];

	ck_assert_int_eq(wire_name_ok("a", 1), 1);
	ck_assert_int_eq(wire_name_ok("...", 3), 1);
	ck_assert_int_eq(wire_name_ok(".hidden", 7), 1);
	ck_assert_int_eq(wire_name_ok("", 0), 0);
	ck_assert_int_eq(wire_name_ok(".", 1), 0);
	ck_assert_int_eq(wire_name_ok("..", 2), 0);
	ck_assert_int_eq(wire_name_ok("a/b", 3), 0);
	ck_assert_int_eq(wire_name_ok("/", 1), 0);
	ck_assert_int_eq(wire_name_ok("a\0b", 3), 0);
	memset(longest, 'x', sizeof(longest));
	ck_assert_int_eq(wire_name_ok(longest, NAME_MAX), 1);
	ck_assert_int_eq(wire_name_ok(longest, NAME_MAX + 1), 0);
}
END_TEST

START_TEST(test_paths)
{
	static char long_path[PATH_MAX + 1];

	ck_assert_int_eq(wire_path_ok("", 0), 1);
	ck_assert_int_eq(wire_path_ok("a", 1), 1);
	ck_assert_int_eq(wire_path_ok("a/b/c", 5), 1);
	ck_assert_int_eq(wire_path_ok("/a", 2), 0);
	ck_assert_int_eq(wire_path_ok("a/", 2), 0);
	ck_assert_int_eq(wire_path_ok("a//b", 4), 0);
	ck_assert_int_eq(wire_path_ok("a/../b", 6), 0);
	ck_assert_int_eq(wire_path_ok("..", 2), 0);
	ck_assert_int_eq(wire_path_ok("a/./b", 5), 0);
	ck_assert_int_eq(wire_path_ok("a\0/b", 4), 0);
	for (size_t i = 0; i < PATH_MAX; i++)
		long_path[i] = i % 2 ? '/' : 'a';
	ck_assert_int_eq(wire_path_ok(long_path, PATH_MAX - 1), 1);
	ck_assert_int_eq(wire_path_ok(long_path, PATH_MAX + 1), 0);
}
END_TEST

Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_little_endian);
	tcase_add_test(tc, test_head_too_long);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_bad_strings);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_paths);
	suite_add_tcase(s, tc);
	return s;
}
