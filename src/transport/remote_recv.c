/*
 * remote_recv.c - the receiving side of a remote copy (remote_side.h):
 * pcopy's own run (run.h) where DST is, its walker taking each directory
 * from the sender's listings (walk.h's walk_source) and its workers being
 * the streams, each asking the sender for the files it must write.
 *
 * A reader thread per stream takes every frame off the connection at
 * once and files it: listings and roots for the walker, file data in the
 * stream's inbox.  A stream's worker pops jobs ahead of the one it copies
 * and asks for the data of those that will need it (deciding as the copy
 * will: update.h), up to REMOTE_WINDOW bytes, so that no file waits a
 * round trip; what arrives was asked for, so the inbox stays that small.
 *
 * Nothing from the sender is trusted: every frame is decoded with bounds
 * (wire.h), every name checked (remote_listing.c), every byte of a file
 * hashed and compared with the sender's hash before it is installed, and
 * everything is written beneath DST by the same code as a local copy.
 */
#include "transport/remote_side.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/path.h"
#include "base/util.h"
#include "copy/copy.h"
#include "copy/data.h"
#include "copy/hash.h"
#include "copy/xattr.h"
#include "core/job.h"
#include "core/kind.h"
#include "core/options.h"
#include "core/queue.h"
#include "core/session.h"
#include "dst/dst.h"
#include "report/message.h"
#include "run/run.h"
#include "run/worker.h"
#include "sync/update.h"
#include "transport/remote.h"
#include "transport/remote_conn.h"
#include "transport/remote_listing.h"
#include "walk/listing.h"
#include "walk/walk.h"

/* Jobs a stream holds ahead of the one it copies, at most. */
#define AHEAD 1024

/* A frame received and not yet taken. */
struct frame {
	struct frame *next;
	uint16_t type;
	uint32_t len;
	uint32_t id; /* file frames: the request's id */
	unsigned char data[];
};

struct frame_list {
	struct frame *head, *tail;
	uint64_t bytes;
};

struct receiver;

/* One stream: a connection, its reader and the worker that uses it. */
struct stream {
	struct receiver *r;
	struct rconn *c;
	int index;
	pthread_t reader;
	int reading;
	struct frame_list inbox; /* file frames, under r->lock */

	/* The worker's (one thread). */
	pthread_t thread;
	_Atomic int done;
	struct worker w;
	struct dst *look; /* a second DST handle, to decide ahead */
	/* Requests on this stream: its own worker's, and ranges of big files
	   other workers split across the streams (range_stream). */
	_Atomic uint32_t next_id;  /* the last request's id */
	_Atomic uint64_t inflight; /* bytes asked for and not yet taken */
	uint64_t wrote_to;         /* the end of the data written to the file being fetched */
	struct copy_source source;
	struct job pop;           /* a job as it leaves the queue */
	struct job *ahead[AHEAD]; /* jobs popped, in order, each as long as it needs
				     (job_copy); `reserved` is the id of
				    their first range asked for ahead, or 0 */
	size_t first, count;
	struct hash_state *hash;
};

struct receiver {
	const struct session *s; /* the run's, once it started */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct frame_list control; /* ROOT, LISTING, WALKED */
	int broken;                /* the connection failed, or the sender erred */
	_Atomic int finished;      /* the run is over: the connection may end */
	char why[512];             /* then: why, for the one line */

	int operand;    /* the SRC operand being copied */
	int walked;     /* and the sender has listed all of it */
	uint64_t taken; /* listing bytes taken since the last CREDIT */
	struct stat root_st;
	unsigned char *root_meta;
	struct src_meta root_m;

	struct src_remote remote;
	struct walk_source source;
	struct stream *streams[MAX_STREAMS]; /* [0, nstreams) connected */
	_Atomic int nstreams;
	int wanted;                        /* streams the sender was asked for */
	const struct remote_streams *grow; /* how more are asked for */
	int max_streams;                   /* --streams */
};

/* The receiver of this process's run (the kind's open finds it there). */
static struct receiver *current;
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- frames in, from the reader threads --- */

static void list_push(struct frame_list *l, struct frame *f)
{
	f->next = NULL;
	if (l->tail != NULL)
		l->tail->next = f;
	else
		l->head = f;
	l->tail = f;
	l->bytes += f->len;
}

static void list_unlink(struct frame_list *l, struct frame *prev, struct frame *f)
{
	if (prev != NULL)
		prev->next = f->next;
	else
		l->head = f->next;
	if (l->tail == f)
		l->tail = prev;
	l->bytes -= f->len;
}

static void list_free(struct frame_list *l)
{
	while (l->head != NULL) {
		struct frame *f = l->head;

		l->head = f->next;
		free(f);
	}
	l->tail = NULL;
	l->bytes = 0;
}

/* The run cannot go on: say why once, stop it, wake everyone. */
static void give_up(struct receiver *r, const char *why)
{
	pthread_mutex_lock(&r->lock);
	if (!r->broken && !r->finished) {
		r->broken = 1;
		snprintf(r->why, sizeof(r->why), "%s", why);
		if (r->s != NULL)
			session_stop(r->s);
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Has the run been given up? */
static int given_up(struct receiver *r)
{
	int broken;

	pthread_mutex_lock(&r->lock);
	broken = r->broken;
	pthread_mutex_unlock(&r->lock);
	return broken;
}

/* Is `type` a frame of file data, answering a request? */
static int file_frame(uint16_t type)
{
	return type == FRAME_FILE || type == FRAME_DATA || type == FRAME_HOLE ||
	       type == FRAME_END || type == FRAME_FAILED;
}

/* A FATAL's reason, as one line. */
static void fatal_reason(const unsigned char *buf, size_t len, char *out, size_t outlen)
{
	struct wire_in in;
	size_t n;
	const char *why;

	wire_in_init(&in, buf, len);
	why = wire_str(&in, 400, &n);
	if (!wire_ok(&in, 0))
		why = "", n = 0;
	snprintf(out, outlen, "the other side stopped: %.*s", (int)n, why);
}

static void *reader_main(void *arg)
{
	struct stream *st = arg;
	struct receiver *r = st->r;
	unsigned char *buf = NULL;
	size_t cap = 0;
	struct wire_head h;
	char why[512];

	for (;;) {
		struct frame *f;
		int bad = 0;

		if (rconn_recv(st->c, &h, &buf, &cap) < 0) {
			snprintf(why, sizeof(why), "the connection was lost: %s",
				 errno == ECONNRESET ? "the other side closed it"
						     : strerror(errno));
			give_up(r, why);
			break;
		}
		if (h.type == FRAME_DONE && r->finished)
			break; /* the sender's answer to ours: nothing more comes */
		if (h.type == FRAME_FATAL) {
			fatal_reason(buf, h.length, why, sizeof(why));
			give_up(r, why);
			break;
		}
		f = xmalloc(sizeof(*f) + h.length);
		f->type = h.type;
		f->len = h.length;
		f->id = h.length >= 4 ? (uint32_t)buf[0] | (uint32_t)buf[1] << 8 |
						(uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24
				      : 0;
		memcpy(f->data, buf, h.length);
		pthread_mutex_lock(&r->lock);
		if (file_frame(h.type)) {
			/* What was asked for, and a frame's worth more, at most. */
			bad = st->inbox.bytes + h.length > 2 * REMOTE_WINDOW + WIRE_FRAME_MAX;
			list_push(&st->inbox, f);
		} else if (st->index == 0 && (h.type == FRAME_ROOT || h.type == FRAME_LISTING ||
					      h.type == FRAME_WALKED)) {
			bad = r->control.bytes + h.length > REMOTE_LISTING_CREDIT + WIRE_FRAME_MAX;
			list_push(&r->control, f);
		} else {
			free(f);
			bad = 1;
		}
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		if (bad) {
			give_up(r, "the other side sent what was not asked for");
			break;
		}
	}
	free(buf);
	return NULL;
}

/* Send a frame on stream st; a failure gives the run up. */
static int send_frame(struct stream *st, uint16_t type, struct wire_out *o)
{
	if (rconn_send_out(st->c, type, 0, o) == 0)
		return 0;
	give_up(st->r, "the connection was lost: cannot write to it");
	return -1;
}

/* --- the roots and the listings, for the walker --- */

/* Wait for the control list's first frame; NULL once the run is given up. */
static struct frame *next_control(struct receiver *r)
{
	struct frame *f;

	int broken;

	pthread_mutex_lock(&r->lock);
	while (r->control.head == NULL && !r->broken)
		pthread_cond_wait(&r->cond, &r->lock);
	f = r->control.head;
	if (f != NULL)
		list_unlink(&r->control, NULL, f);
	broken = r->broken;
	pthread_mutex_unlock(&r->lock);
	return broken ? (free(f), NULL) : f;
}

/* Give the sender back credit for `len` bytes of listings taken (in batches). */
static void took_listing(struct receiver *r, size_t len)
{
	struct wire_out o = { 0 };

	r->taken += len;
	if (r->taken < REMOTE_LISTING_CREDIT / 4)
		return;
	wire_put_u64(&o, r->taken);
	r->taken = 0;
	(void)send_frame(r->streams[0], FRAME_CREDIT, &o);
	wire_out_free(&o);
}

/* src_remote.root: START operand i, and wait for its ROOT. */
static int remote_root(void *ctx, int i, struct stat *st, const struct src_meta **meta)
{
	struct receiver *r = ctx;
	struct wire_out o = { 0 };
	struct frame *f;

	r->operand = i;
	r->walked = 0;
	wire_put_u32(&o, (uint32_t)i);
	(void)send_frame(r->streams[0], FRAME_START, &o);
	wire_out_free(&o);
	while ((f = next_control(r)) != NULL) {
		struct wire_in in;
		uint32_t k, err;
		size_t len;
		const void *m;

		if (f->type != FRAME_ROOT) { /* what is left of an earlier operand's walk */
			took_listing(r, f->len);
			free(f);
			continue;
		}
		wire_in_init(&in, f->data, f->len);
		k = wire_u32(&in);
		err = wire_u32(&in);
		if (err == 0) {
			wire_get_stat(&in, &r->root_st);
			m = wire_str(&in, WIRE_FRAME_MAX, &len);
			free(r->root_meta);
			r->root_meta = len > 0 ? memcpy(xmalloc(len), m, len) : NULL;
		}
		if (!wire_ok(&in, 1) || k != (uint32_t)i || err >= 4096 ||
		    (err == 0 &&
		     (len == 0 || src_meta_unpack(r->root_meta, len, &r->root_m) < 0 ||
		      (r->root_m.has_xattrs && r->root_m.xattrs_len > 0 &&
		       xattr_list_check(r->root_m.xattrs, r->root_m.xattrs_len) < 0)))) {
			free(f);
			give_up(r, "the other side sent a malformed ROOT");
			break;
		}
		free(f);
		if (err != 0) {
			errno = (int)err;
			return -1;
		}
		*st = r->root_st;
		*meta = &r->root_m;
		return 0;
	}
	errno = ECANCELED; /* given up: the reason is said once, at the end */
	return -1;
}

/*
 * walk_source.take: the listing of relpath, the next the sender sent for
 * this operand (those of directories the walker did not enter are
 * dropped on the way).  1 with it, or 0 with errno: why it could not be
 * read there, or EPROTO after the run was given up.
 */
static int remote_take(void *ctx, const char *relpath, struct listing *out)
{
	struct receiver *r = ctx;
	struct frame *f;
	int have = 0; /* frames of relpath's listing taken into out */

	listing_init(out);
	while (!r->walked && (f = next_control(r)) != NULL) {
		struct listing_frame_head h;
		struct listing part;
		int rc;

		if (f->type == FRAME_WALKED) {
			free(f);
			r->walked = 1; /* the walk there never listed relpath */
			break;
		}
		listing_init(&part);
		rc = f->type == FRAME_LISTING ? listing_frame_decode(f->data, f->len, &h, &part)
					      : -1;
		took_listing(r, f->len);
		free(f);
		if (rc < 0) {
			listing_free(&part);
			give_up(r, "the other side sent a malformed listing");
			break;
		}
		if (h.operand != (uint32_t)r->operand || strcmp(h.relpath, relpath) != 0) {
			listing_free(&part);
			if (have) /* a directory's frames come together */
				break;
			continue;
		}
		if (h.err != 0) {
			listing_free(&part);
			listing_free(out);
			errno = h.err;
			return 0;
		}
		listing_append(out, &part);
		listing_free(&part);
		have = 1;
		if (!h.more)
			return 1;
	}
	listing_free(out);
	errno = given_up(r) ? ECANCELED : EIO;
	return 0;
}

static void remote_read_itself(void *ctx, const char *relpath, const struct lookahead_list *names)
{
	(void)ctx;
	(void)relpath;
	(void)names;
}

static void remote_finished(void *ctx)
{
	(void)ctx;
}

/* --- file data, for the workers --- */

/* Has the run been stopped (a signal: monitor.h)?  r->lock is held. */
static int stopped(const struct receiver *r)
{
	return r->s != NULL && atomic_load(&r->s->shared->stop);
}

/*
 * Wait for the first frame of request `id` in st's inbox; NULL once given
 * up or stopped (looked at every tenth of a second).
 */
static struct frame *next_of(struct stream *st, uint32_t id)
{
	struct receiver *r = st->r;
	struct frame *f = NULL, *prev;
	int over;

	pthread_mutex_lock(&r->lock);
	while (!(over = r->broken || stopped(r))) {
		struct timespec until;

		for (prev = NULL, f = st->inbox.head; f != NULL && f->id != id; f = f->next)
			prev = f;
		if (f != NULL) {
			list_unlink(&st->inbox, prev, f);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += 100000000L;
		if (until.tv_nsec >= 1000000000L)
			until.tv_sec++, until.tv_nsec -= 1000000000L;
		pthread_cond_timedwait(&r->cond, &r->lock, &until);
	}
	pthread_mutex_unlock(&r->lock);
	return over ? (free(f), NULL) : f;
}

/*
 * Ask for bytes [from, from + len) of relpath (len UINT64_MAX: to its
 * end), their room in the window reserved (reserve), or with `sum` only
 * for their hash (SUM); queued to go with the next (rconn_flush).  Its id.
 */
static uint32_t want(struct stream *st, const char *relpath, uint64_t from, uint64_t len, int sum)
{
	struct wire_out o = { 0 };
	uint32_t id;

	while ((id = atomic_fetch_add(&st->next_id, 1) + 1) == 0) /* never 0 */
		;

	wire_put_u32(&o, id);
	wire_put_str(&o, relpath, strlen(relpath));
	wire_put_u64(&o, from);
	wire_put_u64(&o, len);
	if (rconn_send_more(st->c, sum ? FRAME_SUM : FRAME_WANT, 0, o.buf, o.len) < 0)
		give_up(st->r, "the connection was lost: cannot write to it");
	wire_out_free(&o);
	return id;
}

/*
 * Reserve room for `expect` bytes in st's window, if the window is not
 * full (or `anyway`: the first range of a file, so that every file
 * moves).  1 if reserved.  Any thread may ask on any stream; so a
 * stream holds at most a window and a range or two asked for.
 */
static int reserve(struct stream *st, uint64_t expect, int anyway)
{
	uint64_t used = atomic_load(&st->inflight);

	do {
		if (!anyway && used >= REMOTE_WINDOW)
			return 0;
	} while (!atomic_compare_exchange_weak(&st->inflight, &used, used + expect));
	return 1;
}

/* The bytes a range is expected to bring, for the window. */
static uint64_t range_bytes(uint64_t size, uint64_t from, uint64_t len)
{
	uint64_t left = size > from ? size - from : 0;

	return len < left ? len : left;
}

/* The length to ask for from `from` of a file of `size`: a range, the last to its end. */
static uint64_t range_len(uint64_t size, uint64_t from)
{
	return size > from && size - from > REMOTE_RANGE ? REMOTE_RANGE : UINT64_MAX;
}

/* How one range arrived. */
struct range {
	struct stat st; /* the file as the sender opened it */
	uint64_t bytes; /* bytes it covered */
	int changed;    /* the sender saw it change */
	int err;        /* FAILED: why */
	int damaged;    /* its hash did not match */
};

/*
 * A range asked for: on which stream, its id, where, its bytes for the
 * window, and whether only its hash (SUM).
 */
struct asked {
	struct stream *via;
	uint32_t id;
	uint64_t from, len, expect;
	int sum;
};

/* Take and drop what is left of the answer to request `id` on st. */
static void drain(struct stream *st, uint32_t id)
{
	struct frame *f;

	while ((f = next_of(st, id)) != NULL) {
		int last = f->type == FRAME_END || f->type == FRAME_FAILED;

		free(f);
		if (last)
			break;
	}
}

/*
 * Hash bytes [0, len) of fd (holes read as zeros) into h.  0, or -1
 * (short, unreadable, or the run stopped meanwhile).
 */
static int hash_prefix(struct copier *c, struct hash_state *h, int fd, uint64_t len)
{
	size_t cap = 256 << 10;
	char *buf = xmalloc(cap);
	uint64_t at = 0;

	while (at < len && !copy_stop_requested(c)) {
		size_t want_now = len - at < cap ? (size_t)(len - at) : cap;
		ssize_t got = pread(fd, buf, want_now, (off_t)at);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		hash_update(h, buf, (size_t)got);
		at += (uint64_t)got;
	}
	free(buf);
	return at == len ? 0 : -1;
}

/* Write a DATA frame's bytes at *at; 0, or -1 (c->failed_dst, or a bad frame). */
static int take_data(struct stream *st, struct copier *c, const struct frame *f, int out,
		     uint64_t *at, int hole)
{
	struct wire_in in;
	uint64_t offset, len;
	const void *bytes = NULL;

	wire_in_init(&in, f->data, f->len);
	(void)wire_u32(&in);
	offset = wire_u64(&in);
	if (hole) {
		len = wire_u64(&in);
	} else {
		len = in.left;
		bytes = wire_bytes(&in, (size_t)len);
	}
	if (!wire_ok(&in, 1) || offset != *at || len > (uint64_t)INT64_MAX - offset) {
		give_up(st->r, "the other side sent file data out of order");
		return -1;
	}
	if (hole) {
		hash_zeros(st->hash, len);
	} else {
		hash_update(st->hash, bytes, (size_t)len);
		for (size_t done = 0; done < len;) {
			ssize_t n = pwrite(out, (const char *)bytes + done, (size_t)len - done,
					   (off_t)(offset + done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				c->failed_dst = 1;
				return -1;
			}
			done += (size_t)n;
		}
		if (offset + len > st->wrote_to)
			st->wrote_to = offset + len;
	}
	*at += len;
	return 0;
}

/*
 * Take the answer to range *a (on its stream) into out, for the worker of
 * stream `home` (its hash).  0 with *rg filled (rg->err: it failed
 * there), or -1 (the run is given up, or writing failed: c->failed_dst).
 * The answer to a SUM is compared with out's own bytes of the range:
 * rg->damaged when they differ, or the file there is shorter.
 */
static int take_range(struct stream *home, const struct asked *a, struct copier *c, int out,
		      struct range *rg)
{
	struct frame *f = next_of(a->via, a->id);
	uint64_t at = a->from, start;
	int rc = 0, unread = 0;

	memset(rg, 0, sizeof(*rg));
	hash_reset(home->hash);
	if (a->sum) /* what we hold is hashed when the answer ends, to compare */
		at += a->len;
	start = at;
	for (; f != NULL; f = rc == 0 ? next_of(a->via, a->id) : NULL) {
		struct wire_in in;

		wire_in_init(&in, f->data, f->len);
		(void)wire_u32(&in);
		if (f->type == FRAME_FAILED) {
			rg->err = (int)wire_u32(&in);
			rc = wire_ok(&in, 1) && rg->err > 0 && rg->err < 4096 ? 1 : -2;
		} else if (f->type == FRAME_FILE) {
			wire_get_stat(&in, &rg->st);
			rc = wire_ok(&in, 1) && S_ISREG(rg->st.st_mode) && at == start ? 0 : -2;
		} else if (f->type == FRAME_DATA || f->type == FRAME_HOLE) {
			rc = a->sum ? -2 : take_data(home, c, f, out, &at, f->type == FRAME_HOLE);
		} else { /* END */
			unsigned char mine[HASH_SIZE];
			const void *theirs;

			rg->bytes = wire_u64(&in);
			rg->changed = wire_u8(&in) != 0;
			theirs = wire_bytes(&in, HASH_SIZE);
			if (a->sum)
				unread = a->from != 0 || hash_prefix(c, home->hash, out, a->len) < 0;
			hash_final(home->hash, mine);
			rg->damaged = theirs == NULL || memcmp(mine, theirs, HASH_SIZE) != 0;
			if (a->sum) { /* a shorter file there is not ours */
				rg->damaged |= unread || rg->bytes != a->len;
				rc = wire_ok(&in, 1) ? 1 : -2;
			} else {
				rc = wire_ok(&in, 1) && rg->bytes == at - a->from ? 1 : -2;
			}
		}
		free(f);
	}
	atomic_fetch_sub(&a->via->inflight, a->expect);
	if (rc == -2)
		give_up(home->r, "the other side sent a malformed file frame");
	else if (rc == -1 && c->failed_dst)
		drain(a->via, a->id); /* the rest of what was asked: not left behind */
	return rc == 1 ? 0 : -1;
}

/* Two stats of one file that say it did not change. */
static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec && a->st_ino == b->st_ino;
}

/* Ranges of one file asked for at once, at most (within the windows of the streams). */
#define RANGES_AHEAD 32

/*
 * A file with at least this much left to fetch is split across the
 * streams; with at least SPLIT_GROW left while every window is full, it
 * is data that waits, and one more stream is asked for.
 */
#define SPLIT_MIN REMOTE_WINDOW
#define SPLIT_GROW ((uint64_t)32 << 20)

/* Drop the answers to the ranges asked for and not taken. */
static void drop_asked(struct asked *q, int n)
{
	for (int i = 0; i < n; i++) {
		drain(q[i].via, q[i].id);
		atomic_fetch_sub(&q[i].via->inflight, q[i].expect);
	}
}

/* The range a job's file was asked for from when the job was popped (its `reserved` id). */
static struct asked asked_ahead(struct stream *st, const struct job *job)
{
	uint64_t len = range_len(job->st.size, 0);

	return (struct asked){ st, job->reserved, 0, len, range_bytes(job->st.size, 0, len), 0 };
}

static void ask_for_stream(struct receiver *r, int lasting);

/*
 * The stream to ask for the next range of a file on, `expect` bytes of
 * it in the window reserved, `left` bytes of the file still to ask for
 * and `n` of its ranges asked for: the worker's own, or for a big file
 * the one with the fewest bytes in flight; NULL while every window is
 * full (the first range of a file is always asked for, on its own
 * stream when every window is full: so each stream holds at most a
 * window and a range or two).
 */
static struct stream *range_stream(struct stream *home, uint64_t left, uint64_t expect, int n)
{
	struct receiver *r = home->r;

	for (int tries = 0; tries < 4; tries++) {
		struct stream *best = home;
		uint64_t least = atomic_load(&home->inflight);

		if (left >= SPLIT_MIN) {
			int streams = atomic_load(&r->nstreams);

			for (int i = 0; i < streams; i++) {
				uint64_t used = atomic_load(&r->streams[i]->inflight);

				if (used < least)
					best = r->streams[i], least = used;
			}
		}
		if (least >= REMOTE_WINDOW) {
			if (n > 0)
				break;
			best = home; /* a file's first range: on the worker's own stream */
		}
		if (reserve(best, expect, n == 0))
			return best;
	}
	if (left >= SPLIT_GROW)
		ask_for_stream(r, 1);
	return NULL;
}

/*
 * Is the partial being resumed the start of the file as it is now?  The
 * answer to the SUM of its bytes (rg) matched them, and the file still
 * has the modification time the partial was given.
 */
static int resumable(const struct copier *c, const struct range *rg)
{
	return rg->err == 0 && !rg->damaged && !rg->changed &&
	       rg->st.st_mtim.tv_sec == c->resume_mtime.tv_sec &&
	       rg->st.st_mtim.tv_nsec == c->resume_mtime.tv_nsec;
}

/*
 * copy_source.fetch: the file c->src_path, in ranges asked for ahead of
 * the one being written (the first maybe before, with the job:
 * `reserved`) as the windows allow, each checked as it ends; a big
 * file's ranges spread over the streams.  A range whose hash does not
 * match is asked for once more.  A partial taken up (c->resume_from)
 * is trusted once the sender's hash of as many bytes of the file matches
 * it (SUM, asked first), else the file comes from byte 0.
 */
static int remote_fetch(struct copier *c, int out, struct entry_stat *es, uint64_t *copied)
{
	struct stream *st = (struct stream *)c->source->ctx;
	struct job *job = st->ahead[st->first];
	uint64_t size = job->st.size, from = c->resume_from, next = from, done = from;
	struct asked q[RANGES_AHEAD];
	struct stat first = { .st_mtim = c->resume_mtime }; /* the partial's, until SUM's answer */
	int n = 0, retried = 0, end = 0, rc = 0, have_first = 0, checking = from > 0;

	if (job->reserved != 0) {
		q[n++] = asked_ahead(st, job);
		if (from > 0) /* asked for before the partial was found */
			drop_asked(q, n--);
		else
			end = q[0].len == UINT64_MAX, next = q[0].len;
	}
	if (checking) /* the partial's start, to check before the rest is asked for */
		q[n++] = (struct asked){ st, want(st, c->src_path, 0, from, 1), 0, from, 0, 1 };
	job->reserved = 0;
	st->wrote_to = 0;
	c->file_split = 0;
	for (;;) {
		struct range rg;
		struct asked a;
		struct stream *via;

		while (!end && !checking && n < RANGES_AHEAD) {
			uint64_t len = range_len(size, next), expect = range_bytes(size, next, len);

			via = range_stream(st, size > next ? size - next : 0, expect, n);
			if (via == NULL)
				break;
			q[n++] = (struct asked){ via, want(via, c->src_path, next, len, 0), next,
						 len, expect, 0 };
			c->file_split |= via != st; /* --stats' split_files */
			end = len == UINT64_MAX;
			next += end ? 0 : len;
		}
		for (int i = 0; i < n; i++) /* what is asked goes now, on every stream used */
			if (i == 0 || q[i].via != q[i - 1].via)
				(void)rconn_flush(q[i].via->c);
		a = q[0];
		memmove(q, q + 1, (size_t)--n * sizeof(*q));
		if (take_range(st, &a, c, out, &rg) < 0) {
			rc = -1;
			/* Why, unless writing failed: stopped, or the run was given up. */
			if (!c->failed_dst && !copy_stop_requested(c)) {
				c->reason = "the connection was lost";
				errno = ECONNABORTED;
			}
		} else if (a.sum && rg.err != 0) {
			errno = rg.err; /* the file, not the partial, is in question: kept */
			rc = -1;
		} else if (a.sum && resumable(c, &rg)) {
			first = rg.st;
			have_first = 1;
			checking = 0;
			continue;
		} else if (a.sum) {
			/* Not the start of the file as it is now: all of it, from byte 0. */
			drop_asked(q, n);
			if (ftruncate(out, 0) < 0) {
				c->failed_dst = 1;
				return -1;
			}
			n = end = checking = 0;
			from = next = done = c->resume_from = 0;
			st->wrote_to = 0;
			continue;
		}
		if (rc == 0 && rg.err != 0) {
			errno = rg.err;
			rc = -1;
		} else if (rc == 0 && rg.damaged && !retried++) {
			/* Once more, from this range on. */
			drop_asked(q, n);
			n = 0;
			end = 0;
			next = a.from;
			continue;
		} else if (rc == 0 && rg.damaged) {
			c->reason = "its data arrived damaged twice (hash mismatch)";
			errno = EIO;
			rc = -1;
		}
		if (rc < 0)
			break;
		if (!have_first)
			first = rg.st, have_first = 1;
		else if (!same_file(&first, &rg.st))
			rg.changed = 1;
		/* Short of a range that was not the last: it shrank meanwhile. */
		if (rg.changed || (a.len != UINT64_MAX && rg.bytes != a.len)) {
			entry_stat_from(es, &rg.st);
			*copied = a.from + rg.bytes;
			rc = 1;
			break;
		}
		done = a.from + rg.bytes;
		if (a.len == UINT64_MAX)
			break;
	}
	drop_asked(q, n);
	if (rc > 0)
		return rc;
	entry_stat_from(es, &first);
	*copied = done; /* failed: what was checked, for --partial */
	if (rc < 0)
		return rc;
	if (st->wrote_to != done && ftruncate(out, (off_t)done) < 0) {
		c->failed_dst = 1; /* a file that ends in a hole: its size */
		return -1;
	}
	return 0;
}
/* --- the streams as workers (core/kind.h) --- */

/*
 * Will the job copy data?  Decided as the copy will (update_entry), with
 * DST as it is now; only a guess: what the copy then decides is done.
 */
static int will_copy(struct stream *st, const struct job *job, const struct src_meta *meta)
{
	const struct session *s = st->r->s;
	struct src_entry src = { .dir = -1, .fd = -1, .st = &job->st, .meta = meta };
	const char *name = path_basename(job->path);
	struct stat there;
	int tree;
	enum plan_action a;

	if (job->kind != JOB_REGULAR)
		return 0;
	if (!update_looks_first(s))
		return 1;
	if (dst_enter(st->look, job->path, path_dirlen(job->path)) < 0)
		return 0;
	a = update_decide(s, st->look, &src, name,
			  dst_lstat(st->look, 0, name, &there) == 0 ? &there : NULL, &tree);
	return a == PLAN_COPY || a == PLAN_REWRITE;
}

/* The packed src_meta a job carries, unpacked into *m; NULL for none. */
static const struct src_meta *job_meta(const struct job *job, struct src_meta *m)
{
	if (job->meta_len == 0 ||
	    src_meta_unpack((const unsigned char *)job->path + job->path_len + 1, job->meta_len,
			    m) < 0)
		return NULL;
	return m;
}

/*
 * Data waits (`lasting`): a stream's window is full and more jobs are
 * queued, or a big file's ranges fill every window.  Ask for one more
 * stream, one at a time, up to --streams: a run with nothing to move
 * never opens more than the first.
 */
static void ask_for_stream(struct receiver *r, int lasting)
{
	int n = atomic_load(&r->nstreams), ask;

	if (r->grow == NULL || !lasting)
		return;
	pthread_mutex_lock(&r->lock);
	ask = r->wanted <= n && r->wanted < r->max_streams;
	if (ask)
		r->wanted = n + 1;
	pthread_mutex_unlock(&r->lock);
	if (ask)
		r->grow->more(r->grow->ctx);
}

/* A malloc'd copy of job, as long as its path and meta need. */
static struct job *job_copy(const struct job *job)
{
	size_t used = JOB_HEADER_SIZE + job->path_len + 1 + job->meta_len;
	struct job *copy = xmalloc(used);

	memcpy(copy, job, used);
	return copy;
}

/* Pop jobs ahead while there is room, asking for the data they will need.  0, or -1 at the end. */
static int fill_ahead(struct stream *st)
{
	const struct session *s = st->r->s;
	struct worker_slot *slot = st->w.slot;

	/* One job at least: other workers may fill the window too (range_stream). */
	while (st->count < AHEAD && (st->count == 0 || st->inflight < REMOTE_WINDOW)) {
		struct job *job;
		struct src_meta m;
		uint64_t len;
		int rc;

		if (st->count == 0) {
			double asked = monotonic_seconds();

			(void)rconn_flush(st->c); /* nothing ahead: what is asked goes now */
			rc = queue_pop(s->queue, &st->pop, &slot->busy);
			worker_count_idle(slot, asked); /* --stats' idle_s */
		} else {
			rc = queue_try_pop(s->queue, &st->pop);
		}
		if (rc < 0) {
			(void)rconn_flush(st->c);
			return st->count > 0 ? 0 : -1;
		}
		job = st->ahead[(st->first + st->count) % AHEAD] = job_copy(&st->pop);
		job->reserved = 0;
		len = range_len(job->st.size, 0);
		if (will_copy(st, job, job_meta(job, &m)) &&
		    reserve(st, range_bytes(job->st.size, 0, len), 1))
			job->reserved = want(st, job->path, 0, len, 0);
		st->count++;
	}
	(void)rconn_flush(st->c);
	/* Full with more queued, for work that lasts (a queue at least half
	   full, the walker ahead): the data waits for this stream. */
	ask_for_stream(st->r, queue_length(s->queue) >= queue_capacity(s->queue) / 2);
	return 0;
}

static void *stream_main(void *arg)
{
	struct stream *st = arg;
	struct worker *w = &st->w;
	const struct session *s = st->r->s;
	double start = monotonic_seconds();

	atomic_store_explicit(&w->slot->idle_ns, 0, memory_order_relaxed);
	atomic_store(&w->slot->tid, (int)gettid());
	while (!atomic_load(&s->shared->stop) && fill_ahead(st) == 0) {
		struct job *job = st->ahead[st->first];
		struct src_meta m;

		atomic_store(&w->slot->busy, 1);
		w->copier.meta = job_meta(job, &m);
		w->copier.src_path = job->path;
		(void)worker_run(w, (enum job_kind)job->kind, job->path, &job->st);
		if (job->reserved != 0) { /* asked for, and the copy decided otherwise */
			struct asked a = asked_ahead(st, job);

			drop_asked(&a, 1);
		}
		free(job);
		st->first = (st->first + 1) % AHEAD;
		st->count--;
		if (st->count == 0)
			atomic_store(&w->slot->busy, 0);
	}
	for (; st->count > 0; st->count--) { /* stopped: what was popped goes */
		free(st->ahead[st->first]);
		st->first = (st->first + 1) % AHEAD;
	}
	atomic_store(&w->slot->busy, 0);
	atomic_store(&w->slot->tid, 0);
	worker_account_time(w->slot, start);
	atomic_store(&st->done, 1);
	return NULL;
}

static void *streams_open(const struct session *s, int capacity)
{
	struct receiver *r = current;

	(void)capacity;
	r->s = s;
	return r;
}

static int streams_start(void *state, int index)
{
	struct receiver *r = state;
	struct stream *st;
	int rc;

	if (index >= atomic_load(&r->nstreams)) {
		errno = EAGAIN;
		return -1;
	}
	st = r->streams[index];
	worker_init(&st->w, r->s, &r->s->shared->slots[index]);
	st->w.copier.source = &st->source;
	st->look = dst_open(r->s, st->w.slot);
	if (st->hash == NULL)
		st->hash = hash_new();
	st->first = st->count = 0;
	atomic_store(&st->done, 0);
	rc = pthread_create(&st->thread, NULL, stream_main, st);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

static int streams_ended(void *state, int index, int block, int *status)
{
	struct stream *st = ((struct receiver *)state)->streams[index];

	if (!block && !atomic_load(&st->done))
		return 0;
	pthread_join(st->thread, NULL);
	worker_free(&st->w);
	dst_close(st->look);
	hash_free(st->hash);
	st->hash = NULL;
	*status = 0;
	return 1;
}

static int streams_ready(void *state)
{
	return atomic_load(&((struct receiver *)state)->nstreams);
}

static const struct walk_source *streams_listing(void *state)
{
	return &((struct receiver *)state)->source;
}

static void streams_close(void *state)
{
	(void)state;
}

/* The streams of a remote copy, as its workers. */
static const struct worker_kind ssh_kind = {
	.name = "ssh",
	.unit = "stream",
	.flags = KIND_SHARED_FDS | KIND_LISTS,
	.open = streams_open,
	.start = streams_start,
	.ended = streams_ended,
	.listing = streams_listing,
	.close = streams_close,
	.ready = streams_ready,
};

/* --- the run --- */

/*
 * Tell the sender why the run ends and end our side of the connection:
 * the sender then ends its own, and our reader sees the end of it.
 */
static void hang_up(struct rconn *c, const char *why)
{
	struct wire_out o = { 0 };

	wire_put_str(&o, why, strlen(why));
	(void)rconn_send_out(c, FRAME_FATAL, 0, &o);
	wire_out_free(&o);
	rconn_hangup(c);
}

/* The parent's own copies (a single-entry SRC): through stream 0, none running. */
static int parent_fetch(struct copier *c, int out, struct entry_stat *es, uint64_t *copied)
{
	struct receiver *r = (struct receiver *)c->source->ctx;
	struct stream *st = r->streams[0];
	struct copy_source via = { remote_fetch, st };
	const struct copy_source *mine = c->source;
	int rc;

	st->first = st->count = 0;
	memset(&st->pop, 0, JOB_HEADER_SIZE);
	st->pop.st.size = (uint64_t)r->root_st.st_size;
	st->ahead[0] = &st->pop;
	if (st->hash == NULL)
		st->hash = hash_new();
	c->source = &via;
	rc = remote_fetch(c, out, es, copied);
	c->source = mine;
	return rc;
}

/* A stream for connection c, its reader started.  0, or -1 with errno. */
static int add_stream(struct receiver *r, struct rconn *c, int index)
{
	struct stream *st = xcalloc(1, sizeof(*st));
	int rc;

	st->r = r;
	st->c = c;
	st->index = index;
	st->source = (struct copy_source){ remote_fetch, st };
	rc = pthread_create(&st->reader, NULL, reader_main, st);
	if (rc != 0) {
		free(st);
		errno = rc;
		return -1;
	}
	st->reading = 1;
	r->streams[index] = st;
	return 0;
}

int remote_receive_add(struct rconn *c, int index)
{
	struct receiver *r;
	int rc = -1;

	pthread_mutex_lock(&current_lock);
	r = current;
	if (r != NULL && index == atomic_load(&r->nstreams) && index < r->max_streams &&
	    add_stream(r, c, index) == 0) {
		atomic_store(&r->nstreams, index + 1); /* the pool grows to it (kind's ready) */
		rc = 0;
	}
	pthread_mutex_unlock(&current_lock);
	return rc;
}

/*
 * The run is over: end the other streams' connections (the sender ends
 * its side of each in turn) and wait for their readers.
 */
static void end_streams(struct receiver *r)
{
	int n = atomic_load(&r->nstreams);

	for (int i = 1; i < n; i++)
		rconn_hangup(r->streams[i]->c);
	for (int i = 0; i < n; i++) {
		struct stream *st = r->streams[i];

		if (st->reading)
			pthread_join(st->reader, NULL);
		list_free(&st->inbox);
		hash_free(st->hash);
		if (i > 0) { /* the first is the caller's */
			(void)rconn_close(st->c, 0);
			free(st->c);
		}
		free(st);
	}
}

int remote_receive(struct rconn *c, const struct options *o, const struct filter *filter,
		   const struct files_from *list, mode_t user_umask, unsigned force,
		   const struct remote_streams *grow, struct run_outcome *out)
{
	struct receiver r = { .grow = grow, .max_streams = o->streams };
	struct options mine = *o;
	struct copy_source parent = { parent_fetch, &r };
	struct wire_out done = { 0 };
	pthread_condattr_t monotonic;
	int rc, failed;

	pthread_mutex_init(&r.lock, NULL);
	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC); /* next_of's waits */
	pthread_cond_init(&r.cond, &monotonic);
	pthread_condattr_destroy(&monotonic);
	r.remote = (struct src_remote){ remote_root, &parent, &r };
	r.source = (struct walk_source){ remote_take, remote_read_itself, remote_finished, &r };
	/* Workers are the streams: one, and one more for each that opens. */
	mine.jobs = 1;
	mine.jobs_max = o->streams;
	mine.jobs_adaptive = false;
	r.wanted = 1;
	pthread_mutex_lock(&current_lock);
	current = &r;
	pthread_mutex_unlock(&current_lock);
	if (add_stream(&r, c, 0) < 0) {
		report_message("cannot start: %s", strerror(errno));
		return -1;
	}
	atomic_store(&r.nstreams, 1);
	rc = run_all(&mine, &ssh_kind, filter, list, user_umask, force, &r.remote, out);
	pthread_mutex_lock(&r.lock);
	r.s = NULL; /* the run's session is gone */
	failed = r.broken;
	r.finished = 1;
	pthread_mutex_unlock(&r.lock);
	if (!failed)
		(void)rconn_send_out(c, FRAME_DONE, 0, &done);
	else if (rc == 0) {
		report_message("%s", r.why);
		out->errors++;
	}
	/* The sender ends the connection after DONE; on a failure, we do. */
	if (failed)
		hang_up(c, r.why);
	pthread_mutex_lock(&current_lock);
	current = NULL; /* no more streams join */
	pthread_mutex_unlock(&current_lock);
	end_streams(&r);
	list_free(&r.control);
	free(r.root_meta);
	wire_out_free(&done);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.cond);
	return rc;
}
