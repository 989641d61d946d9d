/* job.c - the job record's helpers (job.h). */
#include "core/job.h"

#include <string.h>

enum job_kind kind_of_mode(mode_t mode)
{
	if (S_ISREG(mode))
		return JOB_REGULAR;
	return S_ISLNK(mode) ? JOB_SYMLINK : JOB_SPECIAL;
}

void entry_stat_from(struct entry_stat *out, const struct stat *st)
{
	out->dev = st->st_dev;
	out->ino = st->st_ino;
	out->size = (uint64_t)st->st_size;
	out->blocks = (uint64_t)st->st_blocks;
	out->rdev = st->st_rdev;
	out->atime_sec = st->st_atim.tv_sec;
	out->atime_nsec = st->st_atim.tv_nsec;
	out->mtime_sec = st->st_mtim.tv_sec;
	out->mtime_nsec = st->st_mtim.tv_nsec;
	out->ctime_sec = st->st_ctim.tv_sec;
	out->ctime_nsec = st->st_ctim.tv_nsec;
	out->mode = st->st_mode;
	out->uid = st->st_uid;
	out->gid = st->st_gid;
	out->nlink = (uint32_t)st->st_nlink;
}

/* The parts of a packed src_meta (src_meta_pack). */
enum {
	META_TARGET = 1 << 0,
	META_XATTRS = 1 << 1,
	META_HASH = 1 << 2,
};

size_t src_meta_size(const struct src_meta *m)
{
	size_t n = 1;

	if (m->link_target != NULL)
		n += 4 + strlen(m->link_target) + 1;
	if (m->has_xattrs)
		n += 4 + m->xattrs_len;
	if (m->hash != NULL)
		n += SRC_META_HASH_SIZE;
	return n;
}

static unsigned char *put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void src_meta_pack(const struct src_meta *m, unsigned char *out)
{
	unsigned char *p = out + 1;

	*out = (unsigned char)((m->link_target ? META_TARGET : 0) |
			       (m->has_xattrs ? META_XATTRS : 0) | (m->hash ? META_HASH : 0));
	if (m->link_target != NULL) {
		size_t n = strlen(m->link_target) + 1; /* its NUL too: read in place */

		p = put_le32(p, (uint32_t)n);
		memcpy(p, m->link_target, n);
		p += n;
	}
	if (m->has_xattrs) {
		p = put_le32(p, (uint32_t)m->xattrs_len);
		if (m->xattrs_len > 0)
			memcpy(p, m->xattrs, m->xattrs_len);
		p += m->xattrs_len;
	}
	if (m->hash != NULL)
		memcpy(p, m->hash, SRC_META_HASH_SIZE);
}

/* Take n bytes at *p of the `left` there; NULL when there are fewer. */
static const unsigned char *take(const unsigned char **p, size_t *left, size_t n)
{
	const unsigned char *at = *p;

	if (n > *left)
		return NULL;
	*p += n;
	*left -= n;
	return at;
}

/* A u32-counted part; NULL when it runs past the end. */
static const unsigned char *take_counted(const unsigned char **p, size_t *left, size_t *n)
{
	const unsigned char *len = take(p, left, 4);

	if (len == NULL)
		return NULL;
	*n = get_le32(len);
	return take(p, left, *n);
}

int src_meta_unpack(const unsigned char *buf, size_t len, struct src_meta *m)
{
	const unsigned char *p = buf, *parts = take(&p, &len, 1);
	size_t n;

	memset(m, 0, sizeof(*m));
	if (parts == NULL || (*parts & ~(META_TARGET | META_XATTRS | META_HASH)))
		return -1;
	if (*parts & META_TARGET) {
		const unsigned char *t = take_counted(&p, &len, &n);

		/* A target is a path: not empty, one NUL at its end, shorter than PATH_MAX. */
		if (t == NULL || n < 2 || n > 4096 || t[n - 1] != '\0' ||
		    memchr(t, '\0', n - 1) != NULL)
			return -1;
		m->link_target = (const char *)t;
	}
	if (*parts & META_XATTRS) {
		m->xattrs = take_counted(&p, &len, &m->xattrs_len);
		m->has_xattrs = 1;
		if (m->xattrs == NULL)
			goto bad;
	}
	if ((*parts & META_HASH) && (m->hash = take(&p, &len, SRC_META_HASH_SIZE)) == NULL)
		goto bad;
	if (len == 0)
		return 0;
bad:
	memset(m, 0, sizeof(*m));
	return -1;
}
