/*
 * check_remote.c - the pure decoders of the remote protocol, the parts
 * that stand between bytes from another machine and DST: a LISTING frame
 * (transport/remote_listing.h) reads back what was built, field by field
 * as the layout documents it, and is refused whole when any field is not
 * what it must be (a name that is not one name, a path not beneath the
 * root, a count past what follows, an errno out of range, a stat of no
 * known type, a meta that is not one, a byte too many or too few); a
 * packed src_meta (core/job.h) the same; and which command-line operands
 * are remote (transport/remote_main.h's remote_operand).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/job.h"
#include "suites.h"
#include "transport/remote.h"
#include "transport/remote_conn.h"
#include "transport/remote_listing.h"
#include "transport/remote_main.h"
#include "transport/wire.h"
#include "walk/listing.h"

/* --- building frames by hand, as remote_listing.h lays them out --- */

/* What one stat on the wire holds: the fields a test varies, the rest fixed. */
struct wstat {
	uint32_t mode;
	uint64_t size;
	uint32_t mtime_ns;
};

/* A stat as remote_conn.h's wire_put_stat writes it, field by field. */
static void put_stat(struct wire_out *o, const struct wstat *w)
{
	wire_put_u64(o, 7);          /* dev */
	wire_put_u64(o, 1234);       /* ino */
	wire_put_u32(o, w->mode);    /* mode */
	wire_put_u32(o, 1);          /* nlink */
	wire_put_u32(o, 1000);       /* uid */
	wire_put_u32(o, 1001);       /* gid */
	wire_put_u64(o, 0);          /* rdev */
	wire_put_u64(o, w->size);    /* size */
	wire_put_u64(o, 8);          /* blocks */
	wire_put_i64(o, 1600000000); /* atime */
	wire_put_u32(o, 5);
	wire_put_i64(o, 1600000001); /* mtime */
	wire_put_u32(o, w->mtime_ns);
	wire_put_i64(o, 1600000002); /* ctime */
	wire_put_u32(o, 7);
}

static void put_head(struct wire_out *o, const char *relpath, size_t rlen, int32_t err,
		     uint8_t more, uint32_t count)
{
	wire_put_u32(o, 9); /* operand */
	wire_put_str(o, relpath, rlen);
	wire_put_u32(o, (uint32_t)err);
	wire_put_u8(o, more);
	wire_put_u32(o, count);
}

/* One entry: d_type, name, err, the stat when err is 0, meta. */
static void put_entry(struct wire_out *o, uint8_t d_type, const char *name, size_t nlen,
		      int32_t err, const struct wstat *w, const void *meta, size_t mlen)
{
	wire_put_u8(o, d_type);
	wire_put_str(o, name, nlen);
	wire_put_u32(o, (uint32_t)err);
	if (err == 0)
		put_stat(o, w);
	wire_put_str(o, meta, mlen);
}

static const struct wstat REG = { S_IFREG | 0644, 42, 999 };

/* Decode o's payload into a fresh listing, dropped after; the decoder's answer. */
static int decode(const struct wire_out *o)
{
	struct listing_frame_head h;
	struct listing l;
	int rc;

	listing_init(&l);
	rc = listing_frame_decode(o->buf, o->len, &h, &l);
	listing_free(&l);
	return rc;
}

/* A frame of one regular entry named `name` (nlen bytes) in "": the decoder's answer. */
static int decode_name(const char *name, size_t nlen)
{
	struct wire_out o = { 0 };
	int rc;

	put_head(&o, "", 0, 0, 0, 1);
	put_entry(&o, DT_REG, name, nlen, 0, &REG, NULL, 0);
	rc = decode(&o);
	wire_out_free(&o);
	return rc;
}

/* A frame of one regular entry in directory `relpath`: the decoder's answer. */
static int decode_relpath(const char *relpath, size_t rlen)
{
	struct wire_out o = { 0 };
	int rc;

	put_head(&o, relpath, rlen, 0, 0, 1);
	put_entry(&o, DT_REG, "f", 1, 0, &REG, NULL, 0);
	rc = decode(&o);
	wire_out_free(&o);
	return rc;
}

/* A frame of one entry with this err (a stat follows when 0): the decoder's answer. */
static int decode_entry_err(int32_t err)
{
	struct wire_out o = { 0 };
	int rc;

	put_head(&o, "", 0, 0, 0, 1);
	put_entry(&o, DT_REG, "f", 1, err, &REG, NULL, 0);
	rc = decode(&o);
	wire_out_free(&o);
	return rc;
}

/* A frame of one entry with this stat: the decoder's answer. */
static int decode_stat(const struct wstat *w)
{
	struct wire_out o = { 0 };
	int rc;

	put_head(&o, "", 0, 0, 0, 1);
	put_entry(&o, DT_REG, "f", 1, 0, w, NULL, 0);
	rc = decode(&o);
	wire_out_free(&o);
	return rc;
}

/* A frame of one entry with this meta: the decoder's answer. */
static int decode_meta(const void *meta, size_t mlen)
{
	struct wire_out o = { 0 };
	int rc;

	put_head(&o, "", 0, 0, 0, 1);
	put_entry(&o, DT_LNK, "l", 1, 0, &REG, meta, mlen);
	rc = decode(&o);
	wire_out_free(&o);
	return rc;
}

/* A well-formed xattr_list (copy/xattr.h): "user.a" = "xyz". */
static const unsigned char XATTRS[] = {
	'u', 's', 'e', 'r', '.', 'a', 0, 3, 0, 0, 0, 'x', 'y', 'z'
};

/* Pack a src_meta into a malloc'd buffer; its length in *len. */
static unsigned char *pack(const struct src_meta *m, size_t *len)
{
	unsigned char *buf;

	*len = src_meta_size(m);
	buf = malloc(*len);
	ck_assert_ptr_nonnull(buf);
	src_meta_pack(m, buf);
	return buf;
}

/* --- LISTING frames --- */

/*
 * A frame built with listing_frame_begin/entry/end reads back: its head,
 * every entry's type, name, stat or errno and meta, in order.
 */
START_TEST(test_listing_round_trip)
{
	static const unsigned char hash[SRC_META_HASH_SIZE] = { 1, 2,  3,  4,  5,  6,  7,  8,
								9, 10, 11, 12, 13, 14, 15, 16 };
	struct src_meta mf = { .hash = hash }, ml = { .link_target = "../t" },
			mx = { .xattrs = XATTRS, .xattrs_len = sizeof(XATTRS), .has_xattrs = 1 };
	struct listing_frame f = { 0 };
	struct listing_frame_head h;
	struct listing l;
	struct stat st, lst, dst;
	unsigned char *pf, *pl, *px, type;
	size_t nf, nl, nx, pos = 0, len;
	const unsigned char *meta;
	const char *name;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0640;
	st.st_size = 12345;
	st.st_ino = 77;
	st.st_dev = 3;
	st.st_nlink = 2;
	st.st_uid = 10;
	st.st_gid = 20;
	st.st_blocks = 24;
	st.st_mtim.tv_sec = -5; /* before 1970 */
	st.st_mtim.tv_nsec = 999999999;
	st.st_ctim.tv_sec = 1700000000;
	lst = st;
	lst.st_mode = S_IFLNK | 0777;
	dst = st;
	dst.st_mode = S_IFDIR | 0755;
	pf = pack(&mf, &nf);
	pl = pack(&ml, &nl);
	px = pack(&mx, &nx);
	listing_frame_begin(&f, 3, "a/b", 0);
	listing_frame_entry(&f, DT_REG, "file", 0, &st, pf, nf);
	listing_frame_entry(&f, DT_LNK, "link", 0, &lst, pl, nl);
	listing_frame_entry(&f, DT_DIR, "dir", 0, &dst, px, nx);
	listing_frame_entry(&f, DT_UNKNOWN, "gone", ENOENT, NULL, NULL, 0);
	listing_frame_entry(&f, DT_UNKNOWN, "skipped", LISTING_NOT_STATED, NULL, NULL, 0);
	listing_frame_entry(&f, DT_DIR, "loop", LISTING_CYCLE, NULL, NULL, 0);
	listing_frame_end(&f, 1);

	listing_init(&l);
	ck_assert_int_eq(listing_frame_decode(f.o.buf, f.o.len, &h, &l), 0);
	ck_assert_uint_eq(h.operand, 3);
	ck_assert_str_eq(h.relpath, "a/b");
	ck_assert_int_eq(h.err, 0);
	ck_assert_int_eq(h.more, 1);
	ck_assert_uint_eq(l.count, 6);

	ck_assert(lookahead_list_next(&l.names, &pos, &type, &name));
	ck_assert_str_eq(name, "file");
	ck_assert_uint_eq(type, DT_REG);
	ck_assert_int_eq(l.stats[0].err, 0);
	ck_assert_mem_eq(&l.stats[0].st, &st, sizeof(st));
	meta = listing_meta_of(&l, 0, &len);
	ck_assert_ptr_nonnull(meta);
	ck_assert_uint_eq(len, nf);
	ck_assert_mem_eq(meta, pf, nf);

	ck_assert(lookahead_list_next(&l.names, &pos, &type, &name));
	ck_assert_str_eq(name, "link");
	ck_assert_uint_eq(type, DT_LNK);
	ck_assert_mem_eq(&l.stats[1].st, &lst, sizeof(lst));
	meta = listing_meta_of(&l, 1, &len);
	ck_assert_uint_eq(len, nl);
	ck_assert_mem_eq(meta, pl, nl);

	ck_assert(lookahead_list_next(&l.names, &pos, &type, &name));
	ck_assert_str_eq(name, "dir");
	ck_assert_mem_eq(&l.stats[2].st, &dst, sizeof(dst));
	meta = listing_meta_of(&l, 2, &len);
	ck_assert_uint_eq(len, nx);
	ck_assert_mem_eq(meta, px, nx);

	ck_assert(lookahead_list_next(&l.names, &pos, &type, &name));
	ck_assert_str_eq(name, "gone");
	ck_assert_int_eq(l.stats[3].err, ENOENT);
	ck_assert_ptr_null(listing_meta_of(&l, 3, &len));
	ck_assert(lookahead_list_next(&l.names, &pos, &type, &name));
	ck_assert_str_eq(name, "skipped");
	ck_assert_int_eq(l.stats[4].err, LISTING_NOT_STATED);
	ck_assert(lookahead_list_next(&l.names, &pos, &type, &name));
	ck_assert_str_eq(name, "loop");
	ck_assert_uint_eq(type, DT_DIR);
	ck_assert_int_eq(l.stats[5].err, LISTING_CYCLE);
	ck_assert(!lookahead_list_next(&l.names, &pos, &type, &name));
	listing_free(&l);

	/* A frame appends: a second one's entries come after the first's. */
	listing_frame_begin(&f, 3, "a/b", 0);
	listing_frame_entry(&f, DT_REG, "more", 0, &st, NULL, 0);
	listing_frame_end(&f, 0);
	listing_init(&l);
	listing_add(&l, DT_REG, "before", &st, 0);
	ck_assert_int_eq(listing_frame_decode(f.o.buf, f.o.len, &h, &l), 0);
	ck_assert_int_eq(h.more, 0);
	ck_assert_uint_eq(l.count, 2);
	listing_free(&l);

	wire_out_free(&f.o);
	free(pf);
	free(pl);
	free(px);
}
END_TEST

/* The layout is the one remote_listing.h and wire_put_stat document, byte for byte. */
START_TEST(test_listing_layout)
{
	struct wire_out o = { 0 };
	struct listing_frame f = { 0 };
	struct stat st;

	put_head(&o, "d", 1, 0, 0, 1);
	put_entry(&o, DT_REG, "f", 1, 0, &REG, "\0", 1);
	memset(&st, 0, sizeof(st));
	st.st_dev = 7;
	st.st_ino = 1234;
	st.st_mode = REG.mode;
	st.st_nlink = 1;
	st.st_uid = 1000;
	st.st_gid = 1001;
	st.st_size = (off_t)REG.size;
	st.st_blocks = 8;
	st.st_atim.tv_sec = 1600000000;
	st.st_atim.tv_nsec = 5;
	st.st_mtim.tv_sec = 1600000001;
	st.st_mtim.tv_nsec = REG.mtime_ns;
	st.st_ctim.tv_sec = 1600000002;
	st.st_ctim.tv_nsec = 7;
	listing_frame_begin(&f, 9, "d", 0);
	listing_frame_entry(&f, DT_REG, "f", 0, &st, "\0", 1);
	listing_frame_end(&f, 0);
	ck_assert_uint_eq(f.o.len, o.len);
	ck_assert_mem_eq(f.o.buf, o.buf, o.len);
	ck_assert_int_eq(decode(&o), 0);
	wire_out_free(&o);
	wire_out_free(&f.o);
}
END_TEST

/* A directory that could not be read there: its errno, within 1..4095. */
START_TEST(test_listing_dir_err)
{
	struct wire_out o = { 0 };
	struct listing_frame_head h;
	struct listing l;
	static const int32_t bad[] = { -1, -3, 4096, INT32_MIN, INT32_MAX };

	put_head(&o, "d", 1, EACCES, 0, 0);
	listing_init(&l);
	ck_assert_int_eq(listing_frame_decode(o.buf, o.len, &h, &l), 0);
	ck_assert_int_eq(h.err, EACCES);
	ck_assert_uint_eq(l.count, 0);
	listing_free(&l);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.len = 0;
		put_head(&o, "d", 1, bad[i], 0, 0);
		ck_assert_msg(decode(&o) < 0, "directory err %d accepted", bad[i]);
	}
	o.len = 0;
	put_head(&o, "d", 1, 4095, 0, 0);
	ck_assert_int_eq(decode(&o), 0);
	wire_out_free(&o);
}
END_TEST

/* Every name an entry may not carry is refused, and with it the frame. */
START_TEST(test_listing_bad_names)
{
	char longest[NAME_MAX + 1];

	ck_assert_int_eq(decode_name("ok", 2), 0);
	ck_assert_int_eq(decode_name("...", 3), 0);
	ck_assert_int_lt(decode_name("", 0), 0);
	ck_assert_int_lt(decode_name(".", 1), 0);
	ck_assert_int_lt(decode_name("..", 2), 0);
	ck_assert_int_lt(decode_name("../escape", 9), 0);
	ck_assert_int_lt(decode_name("a/b", 3), 0);
	ck_assert_int_lt(decode_name("/", 1), 0);
	ck_assert_int_lt(decode_name("/etc", 4), 0);
	ck_assert_int_lt(decode_name("x\0y", 3), 0);
	ck_assert_int_lt(decode_name("x\0", 2), 0);
	memset(longest, 'n', sizeof(longest));
	ck_assert_int_eq(decode_name(longest, NAME_MAX), 0);
	ck_assert_int_lt(decode_name(longest, NAME_MAX + 1), 0);
}
END_TEST

/* A listing's directory is "" or beneath the root, never above it or absolute. */
START_TEST(test_listing_bad_relpaths)
{
	static const char *const bad[] = { "../x", "..", ".",         "/abs",  "/",
					   "a//b", "a/", "d/../../x", "d/./x", "./d" };

	ck_assert_int_eq(decode_relpath("", 0), 0);
	ck_assert_int_eq(decode_relpath("a/b/c", 5), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(decode_relpath(bad[i], strlen(bad[i])) < 0, "relpath '%s' accepted",
			      bad[i]);
	ck_assert_int_lt(decode_relpath("a\0b", 3), 0);
}
END_TEST

/* Counts that do not match what follows, either way, and counts past the bound. */
START_TEST(test_listing_counts)
{
	struct wire_out o = { 0 };

	put_head(&o, "", 0, 0, 0, 2); /* two said, one there */
	put_entry(&o, DT_REG, "f", 1, 0, &REG, NULL, 0);
	ck_assert_int_lt(decode(&o), 0);
	o.len = 0;
	put_head(&o, "", 0, 0, 0, 0); /* none said, one there: trailing bytes */
	put_entry(&o, DT_REG, "f", 1, 0, &REG, NULL, 0);
	ck_assert_int_lt(decode(&o), 0);
	o.len = 0;
	put_head(&o, "", 0, 0, 0, UINT32_MAX); /* 2^32-1, nothing behind */
	ck_assert_int_lt(decode(&o), 0);
	o.len = 0;
	put_head(&o, "", 0, 0, 0, LISTING_FRAME_ENTRIES + 1);
	for (int i = 0; i < 4; i++)
		put_entry(&o, DT_REG, "f", 1, LISTING_NOT_STATED, NULL, NULL, 0);
	ck_assert_int_lt(decode(&o), 0);
	o.len = 0;
	put_head(&o, "", 0, 0, 2, 0); /* more is 0 or 1 */
	ck_assert_int_lt(decode(&o), 0);
	o.len = 0;
	put_head(&o, "", 0, 0, 1, 0);
	ck_assert_int_eq(decode(&o), 0);
	wire_out_free(&o);
}
END_TEST

/* An entry's err: 0, NOT_STATED, CYCLE or an errno 1..4095; nothing else. */
START_TEST(test_listing_entry_err)
{
	static const int32_t good[] = { 0, LISTING_NOT_STATED, LISTING_CYCLE, 1, ENOENT, 4095 };
	static const int32_t bad[] = { LISTING_UNCHANGED, -4, 4096, INT32_MIN, INT32_MAX };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(decode_entry_err(good[i]) == 0, "entry err %d refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(decode_entry_err(bad[i]) < 0, "entry err %d accepted", bad[i]);
}
END_TEST

/* A stat of a type we copy, with fields its struct holds; and a d_type that is one. */
START_TEST(test_listing_bad_stats)
{
	static const uint32_t types[] = { S_IFREG,  S_IFDIR, S_IFLNK, S_IFIFO,
					  S_IFSOCK, S_IFCHR, S_IFBLK };
	struct wstat w = REG;
	struct wire_out o = { 0 };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		w.mode = types[i] | 0600;
		ck_assert_msg(decode_stat(&w) == 0, "type %o refused", types[i]);
	}
	w = REG;
	w.mode = 0644; /* no type */
	ck_assert_int_lt(decode_stat(&w), 0);
	w.mode = S_IFMT | 0644;
	ck_assert_int_lt(decode_stat(&w), 0);
	w.mode = 0070000 | 0644; /* bits of no type */
	ck_assert_int_lt(decode_stat(&w), 0);
	w = REG;
	w.size = (uint64_t)INT64_MAX + 1; /* past an off_t */
	ck_assert_int_lt(decode_stat(&w), 0);
	w.size = INT64_MAX;
	ck_assert_int_eq(decode_stat(&w), 0);
	w = REG;
	w.mtime_ns = 1000000000; /* a nanosecond field of a second or more */
	ck_assert_int_lt(decode_stat(&w), 0);

	put_head(&o, "", 0, 0, 0, 1); /* d_type past 15 */
	put_entry(&o, 16, "f", 1, 0, &REG, NULL, 0);
	ck_assert_int_lt(decode(&o), 0);
	o.len = 0;
	put_head(&o, "", 0, 0, 0, 1);
	put_entry(&o, 15, "f", 1, 0, &REG, NULL, 0);
	ck_assert_int_eq(decode(&o), 0);
	wire_out_free(&o);
}
END_TEST

/* An entry's meta is a well-formed packed src_meta, its xattrs a well-formed list. */
START_TEST(test_listing_bad_meta)
{
	static const unsigned char none[] = { 0 };
	static const unsigned char unknown[] = { 8 };
	static const unsigned char trailing[] = { 0, 0 };
	static const unsigned char no_nul[] = { 1, 3, 0, 0, 0, 'a', 'b', 'c' };
	static const unsigned char bad_xattrs[] = { 2, 2, 0, 0, 0, 'z', 'z' };
	unsigned char good_xattrs[1 + 4 + sizeof(XATTRS)] = { 2, sizeof(XATTRS), 0, 0, 0 };

	memcpy(good_xattrs + 5, XATTRS, sizeof(XATTRS));
	ck_assert_int_eq(decode_meta(NULL, 0), 0); /* none at all */
	ck_assert_int_eq(decode_meta(none, sizeof(none)), 0);
	ck_assert_int_eq(decode_meta(good_xattrs, sizeof(good_xattrs)), 0);
	ck_assert_int_lt(decode_meta(unknown, sizeof(unknown)), 0);
	ck_assert_int_lt(decode_meta(trailing, sizeof(trailing)), 0);
	ck_assert_int_lt(decode_meta(no_nul, sizeof(no_nul)), 0);
	ck_assert_int_lt(decode_meta(bad_xattrs, sizeof(bad_xattrs)), 0);
	good_xattrs[1]--; /* the list one byte short of its last value */
	ck_assert_int_lt(decode_meta(good_xattrs, sizeof(good_xattrs) - 1), 0);
}
END_TEST

/* A well-formed frame cut short anywhere, or with a byte more, is refused. */
START_TEST(test_listing_truncated)
{
	struct wire_out o = { 0 };
	struct listing_frame_head h;
	struct listing l;
	unsigned char *copy;

	put_head(&o, "d", 1, 0, 0, 2);
	put_entry(&o, DT_REG, "f", 1, 0, &REG, "\0", 1);
	put_entry(&o, DT_UNKNOWN, "g", 1, ENOENT, NULL, NULL, 0);
	ck_assert_int_eq(decode(&o), 0);
	for (size_t n = 0; n < o.len; n++) {
		/* A copy of exactly n bytes, so that a read past them is seen. */
		copy = malloc(n ? n : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, o.buf, n);
		listing_init(&l);
		ck_assert_msg(listing_frame_decode(copy, n, &h, &l) < 0,
			      "a frame cut to %zu of %zu bytes accepted", n, o.len);
		listing_free(&l);
		free(copy);
	}
	wire_put_u8(&o, 0);
	ck_assert_int_lt(decode(&o), 0);
	wire_out_free(&o);
}
END_TEST

/* --- src_meta --- */

/* Every combination of parts packs and reads back as it was. */
START_TEST(test_meta_round_trip)
{
	static const unsigned char hash[SRC_META_HASH_SIZE] = { 0xaa, 1, 2,  3,  4,  5,  6,  7,
								8,    9, 10, 11, 12, 13, 14, 0xbb };
	char target[4096];

	memset(target, 't', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0'; /* the longest: 4095 bytes and its NUL */
	for (unsigned parts = 0; parts < 8; parts++) {
		struct src_meta m = { 0 }, back;
		unsigned char *buf;
		size_t len;

		if (parts & 1)
			m.link_target = parts & 2 ? target : "some/where";
		if (parts & 2) {
			m.xattrs = parts & 4 ? XATTRS : NULL;
			m.xattrs_len = parts & 4 ? sizeof(XATTRS) : 0;
			m.has_xattrs = 1;
		}
		if (parts & 4)
			m.hash = hash;
		buf = pack(&m, &len);
		ck_assert_uint_eq(buf[0], parts);
		ck_assert_int_eq(src_meta_unpack(buf, len, &back), 0);
		if (parts & 1)
			ck_assert_str_eq(back.link_target, m.link_target);
		else
			ck_assert_ptr_null(back.link_target);
		ck_assert_int_eq(back.has_xattrs, m.has_xattrs);
		ck_assert_uint_eq(back.xattrs_len, m.xattrs_len);
		if (m.xattrs_len > 0)
			ck_assert_mem_eq(back.xattrs, XATTRS, sizeof(XATTRS));
		if (parts & 4)
			ck_assert_mem_eq(back.hash, hash, sizeof(hash));
		else
			ck_assert_ptr_null(back.hash);
		/* Pointers into the buffer, never past it. */
		if (back.link_target != NULL)
			ck_assert((const unsigned char *)back.link_target > buf &&
				  (const unsigned char *)back.link_target < buf + len);
		if (back.hash != NULL)
			ck_assert(back.hash + SRC_META_HASH_SIZE == buf + len);
		free(buf);
	}
}
END_TEST

/* Bytes that are not a packed src_meta: -1, and nothing handed out. */
static void meta_refused(const void *buf, size_t len, const char *what)
{
	unsigned char *copy = malloc(len ? len : 1);
	struct src_meta m;

	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, buf, len); /* exactly len bytes: a read past them is seen */
	memset(&m, 0x5a, sizeof(m));
	ck_assert_msg(src_meta_unpack(copy, len, &m) < 0, "%s: accepted", what);
	ck_assert_msg(m.link_target == NULL && m.xattrs == NULL && m.hash == NULL &&
			      m.has_xattrs == 0 && m.xattrs_len == 0,
		      "%s: parts handed out", what);
	free(copy);
}

START_TEST(test_meta_malformed)
{
	static const unsigned char unknown8[] = { 8 };
	static const unsigned char unknown80[] = { 0x80 };
	static const unsigned char unknown_with_target[] = { 1 | 16, 2, 0, 0, 0, 'a', 0 };
	static const unsigned char no_nul[] = { 1, 3, 0, 0, 0, 'a', 'b', 'c' };
	static const unsigned char inner_nul[] = { 1, 4, 0, 0, 0, 'a', 0, 'b', 0 };
	static const unsigned char empty_target[] = { 1, 1, 0, 0, 0, 0 };
	static const unsigned char zero_target[] = { 1, 0, 0, 0, 0 };
	static const unsigned char target_short[] = { 1, 9, 0, 0, 0, 'a', 0 };
	static const unsigned char target_huge[] = { 1, 0xff, 0xff, 0xff, 0xff, 'a', 0 };
	static const unsigned char target_len_cut[] = { 1, 2, 0 };
	static const unsigned char xattrs_short[] = { 2, 10, 0, 0, 0, 'a', 'b', 'c' };
	static const unsigned char xattrs_len_cut[] = { 2, 1, 0 };
	static const unsigned char xattrs_huge[] = { 2, 0xff, 0xff, 0xff, 0xff, 0 };
	static const unsigned char hash_short[1 + 15] = { 4 };
	static const unsigned char trailing[] = { 0, 0 };
	static const unsigned char hash_trailing[1 + 16 + 1] = { 4 };
	static const unsigned char target_then_cut_hash[] = { 1 | 4, 2, 0, 0, 0, 'a', 0, 1, 2 };
	unsigned char *too_long = calloc(1 + 4 + 4097, 1);

	meta_refused(NULL, 0, "no bytes");
	meta_refused(unknown8, sizeof(unknown8), "part bit 8");
	meta_refused(unknown80, sizeof(unknown80), "part bit 0x80");
	meta_refused(unknown_with_target, sizeof(unknown_with_target), "part bit 16 with a target");
	meta_refused(no_nul, sizeof(no_nul), "a target without its NUL");
	meta_refused(inner_nul, sizeof(inner_nul), "a target with a NUL inside");
	meta_refused(empty_target, sizeof(empty_target), "an empty target");
	meta_refused(zero_target, sizeof(zero_target), "a target of 0 bytes");
	meta_refused(target_short, sizeof(target_short), "a target longer than what follows");
	meta_refused(target_huge, sizeof(target_huge), "a target of 2^32-1 bytes");
	meta_refused(target_len_cut, sizeof(target_len_cut), "a target's length cut short");
	meta_refused(xattrs_short, sizeof(xattrs_short), "xattrs longer than what follows");
	meta_refused(xattrs_len_cut, sizeof(xattrs_len_cut), "the xattrs' length cut short");
	meta_refused(xattrs_huge, sizeof(xattrs_huge), "xattrs of 2^32-1 bytes");
	meta_refused(hash_short, sizeof(hash_short), "a hash of 15 bytes");
	meta_refused(trailing, sizeof(trailing), "a byte after nothing");
	meta_refused(hash_trailing, sizeof(hash_trailing), "a byte after the hash");
	meta_refused(target_then_cut_hash, sizeof(target_then_cut_hash),
		     "a target, then a hash cut short");
	/* A target of PATH_MAX bytes and its NUL: longer than a path can be. */
	ck_assert_ptr_nonnull(too_long);
	too_long[0] = 1;
	too_long[1] = (4097 & 0xff);
	too_long[2] = 4097 >> 8;
	memset(too_long + 5, 't', 4096);
	meta_refused(too_long, 1 + 4 + 4097, "a target of 4096 bytes");
	free(too_long);
}
END_TEST

/* --- remote operands --- */

/* remote_operand(arg): 1 with host and path as expected, or 0 (local). */
static void operand_is(const char *arg, int remote, const char *host, const char *path)
{
	char *h = NULL, *p = NULL;
	int rc = remote_operand(arg, &h, &p);

	ck_assert_msg(rc == remote, "'%s': remote_operand %d, expected %d", arg, rc, remote);
	if (remote) {
		ck_assert_msg(h != NULL && strcmp(h, host) == 0, "'%s': host '%s', expected '%s'",
			      arg, h ? h : "(null)", host);
		ck_assert_msg(p != NULL && strcmp(p, path) == 0, "'%s': path '%s', expected '%s'",
			      arg, p ? p : "(null)", path);
	}
	free(h);
	free(p);
}

START_TEST(test_operands)
{
	operand_is("host:path", 1, "host", "path");
	operand_is("host:/abs/path", 1, "host", "/abs/path");
	operand_is("user@host:path", 1, "user@host", "path");
	operand_is("[::1]:p", 1, "::1", "p");
	operand_is("user@[::1]:p", 1, "user@::1", "p");
	operand_is("[fe80::1%eth0]:/x", 1, "fe80::1%eth0", "/x");
	operand_is("host:", 1, "host", "");
	operand_is("host:a:b", 1, "host", "a:b");
	operand_is("./a:b", 0, NULL, NULL);
	operand_is("/x/a:b", 0, NULL, NULL);
	operand_is("a/b:c", 0, NULL, NULL);
	operand_is(":x", 0, NULL, NULL);
	operand_is("plain", 0, NULL, NULL);
	operand_is("", 0, NULL, NULL);
	operand_is("[::1]", 0, NULL, NULL);     /* no path */
	operand_is("[::1]p", 0, NULL, NULL);    /* no colon after the bracket */
	operand_is("[::1:p", 0, NULL, NULL);    /* no closing bracket */
	operand_is("./[::1]:p", 0, NULL, NULL); /* a slash first */
}
END_TEST

/* A HELLO sent over a pipe, as the peer reads it: role, arguments, machine. */
START_TEST(test_hello_round_trip)
{
	char *args[] = { "--update", "--", "src" }, err[256], **got;
	struct remote_host self, peer;
	struct rconn tx, rx;
	int p[2], role, n;

	ck_assert_int_eq(pipe(p), 0);
	rconn_init(&tx, -1, p[1]);
	rconn_init(&rx, p[0], -1);
	ck_assert_int_eq(remote_hello_send(&tx, ROLE_SENDER, 3, args), 0);
	ck_assert_int_eq(remote_hello_recv(&rx, &role, &n, &got, &peer, err, sizeof(err)), 0);
	ck_assert_int_eq(role, ROLE_SENDER);
	ck_assert_int_eq(n, 4); /* "pcopy" first */
	ck_assert_str_eq(got[0], "pcopy");
	ck_assert_str_eq(got[1], "--update");
	ck_assert_str_eq(got[3], "src");
	ck_assert_ptr_null(got[4]);
	remote_args_free(n, got);
	remote_host_self(&self);
	ck_assert_uint_ge(self.cpus, 1);
	ck_assert_uint_eq(peer.cpus, self.cpus);
	ck_assert_str_eq(peer.boot, self.boot);
	(void)rconn_close(&tx, 0); /* and the pipe's fds with them */
	(void)rconn_close(&rx, 0);
}
END_TEST

/* A HELLO whose machine part is missing, or says 0 CPUs, is refused. */
START_TEST(test_hello_malformed)
{
	static const unsigned char cut[] = { 'P', 'C', 'P', 'Y', REMOTE_VERSION, 0, 0, 0,
					     1, 0, 0, 0, 'x', 2, 0, 0, 0, 0 };
	static const unsigned char zero[] = { 'P', 'C', 'P', 'Y', REMOTE_VERSION, 0, 0, 0,
					      1, 0, 0, 0, 'x', 2, 0, 0, 0, 0,
					      0, 0, 0, 0, 0, 0, 0, 0 };
	const struct {
		const unsigned char *p;
		size_t len;
	} cases[] = { { cut, sizeof(cut) }, { zero, sizeof(zero) } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct remote_host peer;
		struct rconn tx, rx;
		char err[256] = "", **got;
		int p[2], role, n;

		ck_assert_int_eq(pipe(p), 0);
		rconn_init(&tx, -1, p[1]);
		rconn_init(&rx, p[0], -1);
		ck_assert_int_eq(rconn_send(&tx, FRAME_HELLO, 0, cases[i].p, cases[i].len), 0);
		ck_assert_int_eq(remote_hello_recv(&rx, &role, &n, &got, &peer, err, sizeof(err)),
				 -1);
		ck_assert_str_eq(err, "a malformed handshake");
		(void)rconn_close(&tx, 0);
		(void)rconn_close(&rx, 0);
	}
}
END_TEST

/* Without --streams: the CPUs of the smaller machine, half of one shared. */
START_TEST(test_default_streams)
{
	struct remote_host self, other;
	unsigned half;

	remote_host_self(&self);
	other = self;
	strcpy(other.boot, "another-machine");
	other.cpus = 64;
	ck_assert_int_eq(remote_default_streams(&other, 4), self.cpus < 4 ? (int)self.cpus : 4);
	ck_assert_int_eq(remote_default_streams(&other, 1), 1);
	other.cpus = 1;
	ck_assert_int_eq(remote_default_streams(&other, 4), 1);
	other.cpus = 3;
	ck_assert_int_eq(remote_default_streams(&other, 64), self.cpus < 3 ? (int)self.cpus : 3);
	if (self.boot[0] != '\0') { /* one machine at both ends: its CPUs shared */
		half = self.cpus / 2 < 1 ? 1 : self.cpus / 2;
		ck_assert_int_eq(remote_default_streams(&self, 64), (int)half);
	}
}
END_TEST

Suite *remote_suite(void)
{
	Suite *s = suite_create("remote");
	TCase *tc = tcase_create("listing");

	tcase_add_test(tc, test_listing_round_trip);
	tcase_add_test(tc, test_listing_layout);
	tcase_add_test(tc, test_listing_dir_err);
	tcase_add_test(tc, test_listing_bad_names);
	tcase_add_test(tc, test_listing_bad_relpaths);
	tcase_add_test(tc, test_listing_counts);
	tcase_add_test(tc, test_listing_entry_err);
	tcase_add_test(tc, test_listing_bad_stats);
	tcase_add_test(tc, test_listing_bad_meta);
	tcase_add_test(tc, test_listing_truncated);
	suite_add_tcase(s, tc);
	tc = tcase_create("src_meta");
	tcase_add_test(tc, test_meta_round_trip);
	tcase_add_test(tc, test_meta_malformed);
	suite_add_tcase(s, tc);
	tc = tcase_create("operand");
	tcase_add_test(tc, test_operands);
	suite_add_tcase(s, tc);
	tc = tcase_create("hello");
	tcase_add_test(tc, test_hello_round_trip);
	tcase_add_test(tc, test_hello_malformed);
	tcase_add_test(tc, test_default_streams);
	suite_add_tcase(s, tc);
	return s;
}
