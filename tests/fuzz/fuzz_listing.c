/*
 * fuzz_listing.c - libFuzzer target for the decoders that take a remote
 * sender's directory listings (src/transport/remote_listing.c) and the
 * packed src_meta inside them (src/core/job.c): whatever bytes arrive,
 * neither reads past them, and what either accepts is what it claims.
 *
 * The first byte of the input says how the rest is read.  Even: as it
 * is, a LISTING payload and a packed src_meta.  Odd: as a recipe, its
 * bytes taken one field after another to build a frame with
 * listing_frame_begin/entry/end -- a relpath, entries with their types,
 * names, errs, stats and metas packed by hand, each field what a sender
 * would write or a near miss (a name ".." or too long, an err of 4096, a
 * stat of no type, a meta with an unknown part or a target without its
 * NUL) -- then spoilt or not (a byte changed, the frame cut short or one
 * byte added), so that the fuzzer reaches frames of many entries without
 * having to find their layout first.  Every payload is decoded from a
 * copy of exactly its bytes (so that AddressSanitizer sees a read past
 * them).  When listing_frame_decode accepts one:
 *	- the directory is a path beneath the root (wire_path_ok), every
 *	  entry's name one name (wire_name_ok), its err 0 (with a stat of a
 *	  type we copy), LISTING_NOT_STATED, LISTING_CYCLE or an errno in
 *	  1..4095, its meta empty or one src_meta_unpack accepts;
 *	- built again with listing_frame_begin/entry/end from what was
 *	  decoded, it is the very bytes that were read: the decoder hands
 *	  on every field as it came, and nothing else.
 * When src_meta_unpack accepts one (the input, or a meta of the recipe),
 * every part points inside it (a target
 * NUL-terminated, shorter than PATH_MAX), and src_meta_pack writes the
 * very bytes back; when it refuses, it hands out nothing.
 *
 * A broken invariant calls abort() after saying which, so libFuzzer keeps
 * the input as a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/job.h"
#include "transport/remote_listing.h"
#include "transport/wire.h"
#include "walk/listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz_listing: %s:%d: broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                          \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* Is p (n bytes) inside [start, start + len)? */
static int inside(const void *p, size_t n, const unsigned char *start, size_t len)
{
	const unsigned char *q = p;

	return q >= start && n <= len && (size_t)(q - start) <= len - n;
}

/* Is `mode` the type of a file we copy (remote_conn.c's wire_get_stat)? */
static int known_type(mode_t mode)
{
	return S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode) || S_ISFIFO(mode) ||
	       S_ISSOCK(mode) || S_ISCHR(mode) || S_ISBLK(mode);
}

/* The input as a packed src_meta. */
static void check_meta(const unsigned char *buf, size_t len)
{
	struct src_meta m;
	unsigned char *again;

	memset(&m, 0x5a, sizeof(m));
	if (src_meta_unpack(buf, len, &m) < 0) {
		CHECK(m.link_target == NULL && m.xattrs == NULL && m.hash == NULL &&
		      m.has_xattrs == 0 && m.xattrs_len == 0);
		return;
	}
	CHECK(len >= 1);
	if (m.link_target != NULL) {
		size_t n = strnlen(m.link_target, len);

		CHECK(inside(m.link_target, n + 1, buf, len));
		CHECK(n >= 1 && n < PATH_MAX);
	}
	if (m.has_xattrs && m.xattrs_len > 0)
		CHECK(inside(m.xattrs, m.xattrs_len, buf, len));
	if (!m.has_xattrs)
		CHECK(m.xattrs == NULL && m.xattrs_len == 0);
	if (m.hash != NULL)
		CHECK(inside(m.hash, SRC_META_HASH_SIZE, buf, len));
	CHECK(src_meta_size(&m) == len);
	again = malloc(len);
	CHECK(again != NULL);
	src_meta_pack(&m, again);
	CHECK(memcmp(again, buf, len) == 0);
	free(again);
}

/* An entry's err as a decoded listing may hold it. */
static int entry_err_ok(int32_t err)
{
	return err == 0 || err == LISTING_NOT_STATED || err == LISTING_CYCLE ||
	       (err > 0 && err < 4096);
}

/* The input as a LISTING payload. */
static void check_listing(const unsigned char *buf, size_t len)
{
	struct listing_frame_head h;
	struct listing l;
	struct listing_frame f = { 0 };
	const char *name;
	unsigned char type;
	size_t pos = 0, i = 0;

	listing_init(&l);
	if (listing_frame_decode(buf, len, &h, &l) < 0) {
		listing_free(&l); /* maybe some entries: dropped */
		return;
	}
	CHECK(wire_path_ok(h.relpath, strlen(h.relpath)));
	CHECK(h.err >= 0 && h.err < 4096);
	CHECK(h.more == 0 || h.more == 1);
	CHECK(l.count <= LISTING_FRAME_ENTRIES);
	listing_frame_begin(&f, h.operand, h.relpath, h.err);
	while (lookahead_list_next(&l.names, &pos, &type, &name)) {
		const struct listing_stat *ls = &l.stats[i];
		size_t mlen = 0;
		const unsigned char *meta = listing_meta_of(&l, i, &mlen);

		CHECK(i < l.count);
		CHECK(wire_name_ok(name, strlen(name)));
		CHECK(type <= 15);
		CHECK(entry_err_ok(ls->err));
		if (ls->err == 0)
			CHECK(known_type(ls->st.st_mode) && ls->st.st_size >= 0 &&
			      ls->st.st_mtim.tv_nsec < 1000000000);
		if (meta != NULL) {
			struct src_meta m;

			CHECK(mlen > 0 && src_meta_unpack(meta, mlen, &m) == 0);
		}
		listing_frame_entry(&f, type, name, ls->err, ls->err == 0 ? &ls->st : NULL, meta,
				    meta != NULL ? mlen : 0);
		i++;
	}
	CHECK(i == l.count);
	listing_frame_end(&f, h.more);
	CHECK(f.o.len == len && memcmp(f.o.buf, buf, len) == 0);
	wire_out_free(&f.o);
	listing_free(&l);
}

/* A copy of exactly n bytes at p, so that AddressSanitizer sees a read past them. */
static unsigned char *exact_copy(const void *p, size_t n)
{
	unsigned char *buf = malloc(n ? n : 1);

	CHECK(buf != NULL);
	if (n > 0)
		memcpy(buf, p, n);
	return buf;
}

/* --- the recipe --- */

/* The recipe's bytes, taken in order; zeros once they are spent. */
struct recipe {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct recipe *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

static uint64_t take(struct recipe *r, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)take8(r) << (8 * i);
	return v;
}

/* Up to `max` bytes of the recipe as a string of its own (NUL-terminated) in buf. */
static size_t take_str(struct recipe *r, char *buf, size_t max)
{
	size_t n = take8(r) % (max + 1);

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)take8(r);
	buf[n] = '\0';
	return n;
}

/* A name: one of the recipe's bytes, or one that is not a name at all. */
static void take_name(struct recipe *r, char *buf)
{
	static const char *const odd[] = { "", ".", "..", "a/b", "/", "...", ".hidden" };
	uint8_t how = take8(r);

	if (how < 16)
		snprintf(buf, NAME_MAX + 2, "%s", odd[how % (sizeof(odd) / sizeof(odd[0]))]);
	else if (how < 24) {
		memset(buf, 'n', NAME_MAX + 1); /* the longest name, or one byte more */
		buf[NAME_MAX + (how & 1)] = '\0';
	} else
		(void)take_str(r, buf, 16);
}

/* A stat: a type we copy or not, fields in range or just past it. */
static void take_stat(struct recipe *r, struct stat *st)
{
	static const mode_t types[] = { S_IFREG, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK,
					S_IFCHR, S_IFBLK, 0,       S_IFMT,  0070000 };
	uint8_t t = take8(r);

	memset(st, 0, sizeof(*st));
	st->st_mode = types[t % (sizeof(types) / sizeof(types[0]))] | (take(r, 2) & 07777);
	st->st_dev = take(r, 8);
	st->st_ino = take(r, 8);
	st->st_nlink = (nlink_t)take(r, 4);
	st->st_uid = (uid_t)take(r, 4);
	st->st_gid = (gid_t)take(r, 4);
	st->st_rdev = take(r, 8);
	st->st_size = (off_t)take(r, 8); /* negative: past INT64_MAX on the wire */
	st->st_blocks = (blkcnt_t)take(r, 8);
	st->st_atim.tv_sec = (time_t)take(r, 8);
	st->st_atim.tv_nsec = (long)(take(r, 4) % 1000000002); /* 1e9 and 1e9+1: past */
	st->st_mtim.tv_sec = (time_t)take(r, 8);
	st->st_mtim.tv_nsec = (long)(take(r, 4) % 1000000002);
	st->st_ctim.tv_sec = (time_t)take(r, 8);
	st->st_ctim.tv_nsec = (long)(take(r, 4) % 1000000002);
}

/*
 * A packed src_meta by hand (core/job.h's layout): parts, then a target
 * with its NUL or not, xattrs as an xattr_list (copy/xattr.h) or not
 * quite one, a hash, each length true or not.
 */
static void take_meta(struct recipe *r, struct wire_out *m)
{
	uint8_t parts = take8(r), how = take8(r);
	char s[32];
	size_t n;

	m->len = 0;
	wire_put_u8(m, parts & 0x7 ? parts & 0x7 : parts); /* an unknown bit, sometimes */
	if (parts & 1) {
		n = take_str(r, s, 16);
		wire_put_u32(m, (uint32_t)(n + !(how & 1) + (how & 2 ? 1 : 0)));
		wire_put_bytes(m, s, n);
		if (!(how & 1))
			wire_put_u8(m, 0);
	}
	if (parts & 2) {
		struct wire_out x = { 0 };
		unsigned count = take8(r) % 4;

		for (unsigned i = 0; i < count; i++) {
			n = take_str(r, s, 12); /* a name: empty or with a NUL inside, sometimes */
			wire_put_bytes(&x, s, n);
			wire_put_u8(&x, 0);
			n = take_str(r, s, 8);
			wire_put_u32(&x, (uint32_t)(n + (how & 4 ? 1 : 0)));
			wire_put_bytes(&x, s, n);
		}
		wire_put_u32(m, (uint32_t)(x.len + (how & 8 ? 1 : 0)));
		wire_put_bytes(m, x.buf, x.len);
		wire_out_free(&x);
	}
	if (parts & 4)
		for (int i = 0; i < SRC_META_HASH_SIZE - (how & 16 ? 1 : 0); i++)
			wire_put_u8(m, take8(r));
	if (how & 32)
		wire_put_u8(m, take8(r)); /* a byte after the last part */
}

/* A relpath: beneath the root, or not. */
static const char *take_relpath(struct recipe *r)
{
	static const char *const paths[] = { "",   "",      "a",        "a/b",  "d/e/f",
					     "..", "../x",  "/abs",     "a//b", "a/",
					     ".",  "a/./b", "d/../../x" };

	return paths[take8(r) % (sizeof(paths) / sizeof(paths[0]))];
}

/* An entry's err: mostly 0, else one a listing may hold, or just past. */
static int32_t take_err(struct recipe *r)
{
	static const int32_t errs[] = { LISTING_NOT_STATED, LISTING_CYCLE, ENOENT, 4095,
					LISTING_UNCHANGED,  4096,          -4,     INT32_MIN };
	uint8_t e = take8(r);

	return e < 128 ? 0 : errs[e % (sizeof(errs) / sizeof(errs[0]))];
}

/* Build a frame from the recipe, then spoil it or not; check it and its metas. */
static void run_recipe(struct recipe *r)
{
	struct listing_frame f = { 0 };
	struct wire_out meta = { 0 };
	unsigned count = take8(r) % 17;
	const char *relpath = take_relpath(r);
	int32_t dir_err = take8(r) < 224 ? 0 : (int32_t)(take(r, 2) % 4100) - 2;
	char name[NAME_MAX + 2];
	unsigned char *buf;
	uint8_t spoil;
	size_t at;

	listing_frame_begin(&f, (uint32_t)take(r, 4), relpath, dir_err);
	for (unsigned i = 0; i < count; i++) {
		unsigned char d_type = take8(r) % 18; /* 16 and 17: past DT_WHT */
		int32_t err = take_err(r);
		struct stat st;

		take_name(r, name);
		if (err == 0)
			take_stat(r, &st);
		meta.len = 0;
		if (take8(r) & 1) {
			take_meta(r, &meta);
			buf = exact_copy(meta.buf, meta.len);
			check_meta(buf, meta.len);
			free(buf);
		}
		listing_frame_entry(&f, d_type, name, err, err == 0 ? &st : NULL, meta.buf,
				    meta.len);
	}
	listing_frame_end(&f, take8(r) & 1);
	spoil = take8(r);
	at = f.o.len > 0 ? (size_t)take(r, 2) % f.o.len : 0;
	if (spoil % 8 == 1 && f.o.len > 0)
		f.o.buf[at] ^= (unsigned char)(take8(r) | 1); /* a byte changed */
	else if (spoil % 8 == 2)
		f.o.len = at; /* cut short */
	else if (spoil % 8 == 3)
		wire_put_u8(&f.o, take8(r)); /* a byte more */
	buf = exact_copy(f.o.buf, f.o.len);
	check_listing(buf, f.o.len);
	free(buf);
	wire_out_free(&f.o);
	wire_out_free(&meta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf;

	if (size > 0 && (data[0] & 1)) {
		struct recipe r = { data + 1, size - 1 };

		run_recipe(&r);
		return 0;
	}
	buf = exact_copy(data, size);
	check_listing(buf, size);
	check_meta(buf, size);
	free(buf);
	return 0;
}
