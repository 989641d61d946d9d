/* remote_listing.c - LISTING frames, built and checked (remote_listing.h). */
#include "transport/remote_listing.h"

#include <errno.h>
#include <string.h>

#include "copy/xattr.h"
#include "core/job.h"
#include "transport/remote_conn.h"
#include "walk/listing.h"

static void patch_le(unsigned char *at, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		at[i] = (unsigned char)(v >> (8 * i));
}

void listing_frame_begin(struct listing_frame *f, uint32_t operand, const char *relpath,
			 int32_t err)
{
	f->o.len = 0;
	f->count = 0;
	wire_put_u32(&f->o, operand);
	wire_put_str(&f->o, relpath, strlen(relpath));
	wire_put_u32(&f->o, (uint32_t)err);
	f->more_at = f->o.len;
	wire_put_u8(&f->o, 0);
	f->count_at = f->o.len;
	wire_put_u32(&f->o, 0);
}

void listing_frame_entry(struct listing_frame *f, unsigned char d_type, const char *name,
			 int32_t err, const struct stat *st, const void *meta, size_t meta_len)
{
	wire_put_u8(&f->o, d_type);
	wire_put_str(&f->o, name, strlen(name));
	wire_put_u32(&f->o, (uint32_t)(st != NULL ? 0 : err));
	if (st != NULL)
		wire_put_stat(&f->o, st);
	wire_put_str(&f->o, meta, meta_len);
	f->count++;
}

void listing_frame_end(struct listing_frame *f, int more)
{
	f->o.buf[f->more_at] = more ? 1 : 0;
	patch_le(f->o.buf + f->count_at, f->count, 4);
}

/* Is err one a listing entry may carry without a stat? */
static int entry_err_ok(int32_t err)
{
	return err == LISTING_NOT_STATED || err == LISTING_CYCLE || (err > 0 && err < 4096);
}

/* Is `meta` (len bytes) a well-formed packed src_meta, its xattrs too? */
static int meta_ok(const void *meta, size_t len)
{
	struct src_meta m;

	if (src_meta_unpack(meta, len, &m) < 0)
		return 0;
	return !m.has_xattrs || m.xattrs_len == 0 || xattr_list_check(m.xattrs, m.xattrs_len) == 0;
}

/* Decode one entry into l.  0 or -1. */
static int decode_entry(struct wire_in *in, struct listing *l)
{
	unsigned char d_type = wire_u8(in);
	size_t name_len, meta_len;
	const char *name = wire_str(in, 255, &name_len);
	int32_t err = (int32_t)wire_u32(in);
	struct stat st;
	const void *meta;
	char buf[256];

	if (err == 0)
		wire_get_stat(in, &st);
	meta = wire_str(in, WIRE_FRAME_MAX, &meta_len);
	if (!wire_ok(in, 0) || d_type > 15 || !wire_name_ok(name, name_len) ||
	    (err != 0 && !entry_err_ok(err)) || (meta_len > 0 && !meta_ok(meta, meta_len)))
		return -1;
	memcpy(buf, name, name_len);
	buf[name_len] = '\0';
	listing_add(l, d_type, buf, err == 0 ? &st : NULL, err);
	if (meta_len > 0)
		listing_set_meta(l, meta, meta_len);
	return 0;
}

int listing_frame_decode(const void *payload, size_t len, struct listing_frame_head *h,
			 struct listing *l)
{
	struct wire_in in;
	size_t path_len;
	const char *path;
	uint32_t count;
	uint8_t more;

	wire_in_init(&in, payload, len);
	h->operand = wire_u32(&in);
	path = wire_str(&in, sizeof(h->relpath) - 1, &path_len);
	h->err = (int32_t)wire_u32(&in);
	more = wire_u8(&in);
	count = wire_u32(&in);
	if (!wire_ok(&in, 0) || !wire_path_ok(path, path_len) || more > 1 ||
	    count > LISTING_FRAME_ENTRIES || (h->err != 0 && (h->err < 0 || h->err >= 4096)))
		return -1;
	memcpy(h->relpath, path, path_len);
	h->relpath[path_len] = '\0';
	h->more = more;
	for (uint32_t i = 0; i < count; i++)
		if (decode_entry(&in, l) < 0)
			return -1;
	return wire_ok(&in, 1) ? 0 : -1;
}
