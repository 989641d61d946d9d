/*
 * fuzz_wire.c - libFuzzer target for the remote protocol's decoder
 * (src/transport/wire.c): whatever bytes arrive, a header is taken or
 * refused by its length alone, every read of a payload stays inside it,
 * once one read fails every later one fails without moving, and a name or
 * path the checks accept is safe to use beneath a root.
 *
 * The input is a frame, 8 bytes of header and a payload, and the payload
 * is read as a program: before each field, a u8 (read with wire_u8 like
 * any field) says which reader runs next (its low 3 bits) and with which
 * bound (its high 5 bits), so the fuzzer picks the sequence of reads as it
 * picks the bytes.  Every field read is written again with wire_put_*;
 * the result must be the very bytes that were read, which holds the
 * readers to the writers.  Every string read also goes through
 * wire_name_ok and wire_path_ok.
 *
 * A broken invariant calls abort() after saying which, so libFuzzer keeps
 * the input as a crash.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz_wire: %s:%d: broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                       \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* The readers an op byte's low 3 bits choose. */
enum op { OP_U8, OP_U16, OP_U32, OP_U64, OP_I64, OP_BYTES, OP_STR, OP_CSTR };

/*
 * A string's bound from an op byte's high 5 bits (which): 0 to 13, or one
 * of the edges below, less one, itself or plus one.
 */
static size_t string_bound(unsigned which)
{
	static const size_t edges[] = { NAME_MAX,       PATH_MAX,   65536,
					WIRE_FRAME_MAX, UINT32_MAX, SIZE_MAX };

	if (which < 14)
		return which;
	which -= 14;
	return edges[which / 3] + which % 3 - 1; /* SIZE_MAX + 1 wraps to 0 */
}

/*
 * A count for wire_bytes from an op byte's high 5 bits: 0 to 15, or near
 * what is left, from 8 fewer to 7 more (wrapping to a huge count when
 * fewer than 8 are left).
 */
static size_t bytes_count(unsigned which, size_t left)
{
	return which < 16 ? which : left + which - 24;
}

/* A payload being read, and what the reads so far should have seen. */
struct reader {
	struct wire_in in;          /* the decoder under test */
	const unsigned char *start; /* the payload: its first byte */
	const unsigned char *end;   /* one past its last byte */
	const unsigned char *good;  /* one past the last field read whole */
	struct wire_out echo;       /* each field read whole, written again */
};

/* n bytes at p as a little-endian integer, decoded here on our own. */
static uint64_t little_endian(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* A name wire_name_ok accepts is one name: never empty, ".", "..", or with '/' or NUL. */
static void check_name(const char *s, size_t len)
{
	if (!wire_name_ok(s, len))
		return;
	CHECK(len >= 1 && len <= NAME_MAX);
	CHECK(memchr(s, '/', len) == NULL && memchr(s, '\0', len) == NULL);
	CHECK(!(len == 1 && s[0] == '.'));
	CHECK(!(len == 2 && s[0] == '.' && s[1] == '.'));
	/* One name is a path of one component. */
	CHECK(wire_path_ok(s, len));
}

/*
 * wire_path_ok accepts a path exactly when it is "" or shorter than
 * PATH_MAX and made of names wire_name_ok accepts joined by single '/':
 * so no leading or trailing '/', no empty component, no "." or "..".
 */
static void check_path(const char *s, size_t len)
{
	int ok = wire_path_ok(s, len);
	int names_ok = 1;
	size_t start = 0;

	if (len == 0) {
		CHECK(ok);
		return;
	}
	for (size_t i = 0; i <= len && names_ok; i++) {
		if (i < len && s[i] != '/')
			continue;
		names_ok = wire_name_ok(s + start, i - start);
		if (ok) {
			CHECK(i > start); /* no empty component, first or last */
			CHECK(!(i - start == 2 && s[start] == '.' && s[start + 1] == '.'));
			CHECK(!(i - start == 1 && s[start] == '.'));
		}
		start = i + 1;
	}
	if (ok)
		CHECK(len < PATH_MAX && s[0] != '/' && s[len - 1] != '/' &&
		      memchr(s, '\0', len) == NULL);
	CHECK(ok == (names_ok && len < PATH_MAX));
}

/* A string wire_str or wire_cstr gave: inside the payload, then checked as name and path. */
static void check_string(const struct reader *r, const char *s, size_t len)
{
	CHECK((const unsigned char *)s >= r->start && (const unsigned char *)s + len <= r->end);
	check_name(s, len);
	check_path(s, len);
}

/* After a read of `took` bytes from `at` that should have worked: did it, and exactly? */
static void expect_read(struct reader *r, const unsigned char *at, size_t took)
{
	CHECK(!r->in.bad && r->in.p == at + took && r->in.p + r->in.left == r->end);
	r->good = r->in.p;
}

/* After a read that should have failed: bad, and moved to `at` (what it consumed first). */
static void expect_fail(const struct reader *r, const unsigned char *at)
{
	CHECK(r->in.bad && r->in.p == at && r->in.p + r->in.left == r->end);
}

/* One integer field (OP_U8 .. OP_I64); its value. */
static uint64_t read_int(struct reader *r, enum op op)
{
	static const size_t widths[] = { 1, 2, 4, 8, 8 };
	const unsigned char *at = r->in.p;
	size_t n = widths[op], left = r->in.left;
	uint64_t v = 0;

	switch (op) {
	case OP_U8: v = wire_u8(&r->in); break;
	case OP_U16: v = wire_u16(&r->in); break;
	case OP_U32: v = wire_u32(&r->in); break;
	case OP_U64: v = wire_u64(&r->in); break;
	default: v = (uint64_t)wire_i64(&r->in); break;
	}
	if (left < n) {
		CHECK(v == 0);
		expect_fail(r, at);
		return 0;
	}
	CHECK(v == little_endian(at, n));
	expect_read(r, at, n);
	switch (op) {
	case OP_U8: wire_put_u8(&r->echo, (uint8_t)v); break;
	case OP_U16: wire_put_u16(&r->echo, (uint16_t)v); break;
	case OP_U32: wire_put_u32(&r->echo, (uint32_t)v); break;
	case OP_U64: wire_put_u64(&r->echo, v); break;
	default: wire_put_i64(&r->echo, (int64_t)v); break;
	}
	return v;
}

/* n bytes in place. */
static void read_bytes(struct reader *r, size_t n)
{
	const unsigned char *at = r->in.p;
	size_t left = r->in.left;
	const void *p = wire_bytes(&r->in, n);

	if (left < n) {
		CHECK(p == NULL);
		expect_fail(r, at);
		return;
	}
	CHECK(p == at);
	expect_read(r, at, n);
	wire_put_bytes(&r->echo, p, n);
}

/*
 * Where a string read from `at` with `left` bytes and bound `max` must end
 * up, and whether it works: the length comes first, is checked against the
 * bound, then against what is left.
 */
static int string_fits(const unsigned char *at, size_t left, size_t max, const unsigned char **to)
{
	size_t n;

	*to = at;
	if (left < 4)
		return 0;
	n = (size_t)little_endian(at, 4);
	*to = at + 4;
	return n <= max && n <= left - 4;
}

/* A string in place; whatever happens, a NULL string has length 0. */
static void read_str(struct reader *r, size_t max)
{
	const unsigned char *at = r->in.p, *to;
	int fits = string_fits(at, r->in.left, max, &to);
	size_t len = 12345;
	const char *s = wire_str(&r->in, max, &len);

	CHECK(s != NULL || len == 0);
	if (!fits) {
		CHECK(s == NULL);
		expect_fail(r, to);
		return;
	}
	CHECK((const unsigned char *)s == at + 4 && len == little_endian(at, 4));
	expect_read(r, at, 4 + len);
	check_string(r, s, len);
	wire_put_str(&r->echo, s, len);
}

/* A string copied into a buffer of exactly max + 1 bytes, refused if it holds a NUL. */
static void read_cstr(struct reader *r, size_t max)
{
	const unsigned char *at = r->in.p, *to;
	int fits = string_fits(at, r->in.left, max, &to);
	size_t n = fits ? (size_t)little_endian(at, 4) : 0;
	char *buf = malloc(max + 1), *s;

	CHECK(buf != NULL);
	s = wire_cstr(&r->in, buf, max);
	if (fits && memchr(at + 4, '\0', n) != NULL) {
		CHECK(s == NULL);
		expect_fail(r, at + 4 + n);
	} else if (!fits) {
		CHECK(s == NULL);
		expect_fail(r, to);
	} else {
		CHECK(s == buf && strlen(s) == n && memcmp(s, at + 4, n) == 0);
		expect_read(r, at, 4 + n);
		check_name(s, n);
		check_path(s, n);
		wire_put_str(&r->echo, s, n);
	}
	free(buf);
}

/* Read one op byte and the field it names; 0 once the payload is spent or bad. */
static int read_one(struct reader *r, size_t payload_len)
{
	unsigned code, which;
	size_t bound;

	CHECK(wire_ok(&r->in, 0) == !r->in.bad);
	CHECK(wire_ok(&r->in, 1) == (!r->in.bad && r->in.left == 0));
	code = (unsigned)read_int(r, OP_U8);
	if (r->in.bad)
		return 0;
	which = code >> 3;
	bound = string_bound(which);
	switch ((enum op)(code & 7)) {
	case OP_BYTES: read_bytes(r, bytes_count(which, r->in.left)); break;
	case OP_STR: read_str(r, bound); break;
	case OP_CSTR:
		/*
		 * No string is longer than the payload, so a bigger bound
		 * would change nothing but the size of the buffer.
		 */
		read_cstr(r, bound < payload_len ? bound : payload_len);
		break;
	default: read_int(r, (enum op)(code & 7)); break;
	}
	return !r->in.bad;
}

/* Once bad, every reader fails and nothing moves. */
static void check_all_fail(struct reader *r)
{
	const unsigned char *at = r->in.p;
	char buf[2];
	size_t len = 1;

	CHECK(wire_u8(&r->in) == 0 && wire_u16(&r->in) == 0 && wire_u32(&r->in) == 0);
	CHECK(wire_u64(&r->in) == 0 && wire_i64(&r->in) == 0);
	CHECK(wire_bytes(&r->in, 0) == NULL);
	CHECK(wire_str(&r->in, SIZE_MAX, &len) == NULL && len == 0);
	CHECK(wire_cstr(&r->in, buf, 1) == NULL);
	CHECK(!wire_ok(&r->in, 0) && !wire_ok(&r->in, 1));
	expect_fail(r, at);
}

/* The header: its fields are its bytes, it is refused for its length alone, and it encodes back. */
static int check_head(const uint8_t *data, struct wire_head *h)
{
	unsigned char again[WIRE_HEAD_SIZE];
	int rc = wire_head_get(data, h);

	CHECK(h->length == little_endian(data, 4));
	CHECK(h->type == little_endian(data + 4, 2) && h->stream == little_endian(data + 6, 2));
	CHECK(rc == (h->length <= WIRE_FRAME_MAX ? 0 : -1));
	wire_head_put(again, h);
	CHECK(memcmp(again, data, WIRE_HEAD_SIZE) == 0);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_head h;
	struct reader r = { 0 };
	unsigned char *payload;
	size_t len;

	check_name((const char *)data, size);
	check_path((const char *)data, size);
	if (size < WIRE_HEAD_SIZE)
		return 0;
	len = size - WIRE_HEAD_SIZE;
	/* A frame cut short is read as far as it goes. */
	if (check_head(data, &h) == 0 && h.length < len)
		len = h.length;
	/* A copy of exactly the payload, so that AddressSanitizer sees a read past it. */
	payload = malloc(len ? len : 1);
	CHECK(payload != NULL);
	memcpy(payload, data + WIRE_HEAD_SIZE, len);
	wire_in_init(&r.in, payload, len);
	r.start = r.good = payload;
	r.end = payload + len;
	while (read_one(&r, len))
		;
	check_all_fail(&r);
	CHECK(r.echo.len == (size_t)(r.good - r.start));
	CHECK(r.echo.len == 0 || memcmp(r.echo.buf, r.start, r.echo.len) == 0);
	wire_out_free(&r.echo);
	free(payload);
	return 0;
}
