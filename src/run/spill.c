/* spill.c - multiply-linked files handed back by the workers (spill.h). */
#include "run/spill.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/util.h"

/* Each slot's region starts this far after the previous one's (a sparse file). */
#define SPILL_REGION ((off_t)1 << 40)
/* Read-back buffer per region: more than the longest record. */
#define SPILL_BUF (64 * 1024)

/* A record: this header, then path_len bytes of path, padded to 8. */
struct spill_header {
	uint64_t seq;
	struct entry_stat st;
	uint32_t path_len;
	uint32_t pad;
};

_Static_assert(SPILL_BUF > sizeof(struct spill_header) + JOB_PATH_MAX + 8, "spill buffer");

/* Where the region of the slot at `index` starts in the file. */
static off_t region_start(int index)
{
	return (off_t)index * SPILL_REGION;
}

static size_t record_size(size_t path_len)
{
	return (sizeof(struct spill_header) + path_len + 7) & ~(size_t)7;
}

int spill_create(void)
{
	return memfd_create("pcopy-spill", MFD_CLOEXEC);
}

int spill_add(int fd, int index, struct worker_slot *slot, uint64_t seq,
	      const struct entry_stat *st, const char *relpath)
{
	size_t len = strlen(relpath), size = record_size(len);
	char rec[sizeof(struct spill_header) + JOB_PATH_MAX + 8];
	struct spill_header h = { .seq = seq, .st = *st, .path_len = (uint32_t)len };

	if (size > sizeof(rec)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(rec, 0, size);
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), relpath, len);
	return spill_append(fd, index, slot, rec, size);
}

/* One region being read: its unread bytes, and a buffer of them. */
struct cursor {
	off_t next;      /* file offset of the first byte not yet buffered */
	uint64_t left;   /* bytes of the region not yet buffered */
	size_t pos, len; /* unread bytes are buf[pos, len) */
	int has;         /* head holds the next record */
	struct spill_header head;
	char buf[SPILL_BUF];
};

struct spill_reader {
	int fd;
	int failed; /* errno of a region that could not be read at the start, or 0 */
	int count;
	char path[JOB_PATH_MAX];
	struct cursor cur[];
};

/* Have at least `need` unread bytes in c's buffer, if the region has them.  0 or -1. */
static int fill(int fd, struct cursor *c, size_t need)
{
	size_t want;
	ssize_t n;

	if (c->len - c->pos >= need)
		return 0;
	memmove(c->buf, c->buf + c->pos, c->len - c->pos);
	c->len -= c->pos;
	c->pos = 0;
	want = sizeof(c->buf) - c->len;
	if (want > c->left)
		want = (size_t)c->left;
	n = pread(fd, c->buf + c->len, want, c->next);
	if (n < 0)
		return -1;
	if ((size_t)n < want) { /* the region is shorter than it was published to be */
		errno = EIO;
		return -1;
	}
	c->len += (size_t)n;
	c->next += n;
	c->left -= (uint64_t)n;
	return c->len >= need ? 0 : -1;
}

/* Load c's next header into c->head (c->has tells).  0 or -1. */
static int advance(int fd, struct cursor *c)
{
	c->has = 0;
	if (c->len == c->pos && c->left == 0)
		return 0;
	if (fill(fd, c, sizeof(c->head)) < 0)
		return -1;
	memcpy(&c->head, c->buf + c->pos, sizeof(c->head));
	if (c->head.path_len >= JOB_PATH_MAX || fill(fd, c, record_size(c->head.path_len)) < 0) {
		errno = EIO;
		return -1;
	}
	c->has = 1;
	return 0;
}

struct spill_reader *spill_reader_open(int fd, const struct shared_state *sh)
{
	struct spill_reader *r = xmalloc(sizeof(*r) + (size_t)sh->nslots * sizeof(struct cursor));

	r->fd = fd;
	r->failed = 0;
	r->count = sh->nslots;
	for (int i = 0; i < r->count; i++) {
		struct cursor *c = &r->cur[i];

		c->next = region_start(i);
		c->left = atomic_load_explicit(&sh->slots[i].spilled, memory_order_acquire);
		c->pos = c->len = 0;
		c->has = 0;
		if (advance(fd, c) < 0)
			r->failed = errno;
	}
	return r;
}

int spill_next(struct spill_reader *r, struct spill_entry *out)
{
	struct cursor *min = NULL;

	if (r->failed) {
		errno = r->failed;
		return -1;
	}
	for (int i = 0; i < r->count; i++)
		if (r->cur[i].has && (min == NULL || r->cur[i].head.seq < min->head.seq))
			min = &r->cur[i];
	if (min == NULL)
		return 0;
	out->seq = min->head.seq;
	out->st = min->head.st;
	memcpy(r->path, min->buf + min->pos + sizeof(min->head), min->head.path_len);
	r->path[min->head.path_len] = '\0';
	out->relpath = r->path;
	min->pos += record_size(min->head.path_len);
	return advance(r->fd, min) < 0 ? -1 : 1;
}

void spill_reader_close(struct spill_reader *r)
{
	free(r);
}

char *spill_take(int fd, int index, const struct worker_slot *slot, uint64_t from, size_t *len)
{
	uint64_t end = atomic_load_explicit(&slot->spilled, memory_order_acquire);
	char *buf;
	ssize_t n;

	*len = 0;
	if (end <= from)
		return NULL;
	buf = xmalloc((size_t)(end - from));
	n = pread(fd, buf, (size_t)(end - from), region_start(index) + (off_t)from);
	if (n != (ssize_t)(end - from)) {
		if (n >= 0)
			errno = EIO;
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

int spill_append(int fd, int index, struct worker_slot *slot, const char *records, size_t len)
{
	uint64_t at = atomic_load_explicit(&slot->spilled, memory_order_relaxed);
	ssize_t n = pwrite(fd, records, len, region_start(index) + (off_t)at);

	if (n != (ssize_t)len) {
		if (n >= 0)
			errno = ENOSPC;
		return -1;
	}
	/* Published only once written: the reader never sees half a record. */
	atomic_store_explicit(&slot->spilled, at + len, memory_order_release);
	return 0;
}

void spill_map_dev(char *records, size_t len, uint64_t from, uint64_t to)
{
	struct spill_header h;
	size_t size;

	for (size_t at = 0; len - at >= sizeof(h); at += size) {
		memcpy(&h, records + at, sizeof(h));
		size = record_size(h.path_len);
		if (size > len - at)
			return; /* spill_take gives whole records only */
		if (h.st.dev == from) {
			h.st.dev = to;
			memcpy(records + at, &h, sizeof(h));
		}
	}
}
