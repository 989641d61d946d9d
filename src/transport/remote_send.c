/*
 * remote_send.c - the sending side of a remote copy (remote_side.h): it
 * walks each SRC the receiver starts with pcopy's own walker, in the
 * order the receiver's walker will ask for them, and sends every
 * directory's listing ahead as credit allows; and it serves the files the
 * receiver asks for, hashing what it sends.
 *
 * Everything the receiver names is a path it built from our listings, but
 * it is checked all the same (wire_path_ok) and opened beneath the SRC
 * named on our command line, never through a symbolic link (-L aside).
 */
#include "transport/remote_side.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/path.h"
#include "base/util.h"
#include "copy/hash.h"
#include "copy/xattr.h"
#include "core/job.h"
#include "core/options.h"
#include "transport/remote.h"
#include "transport/remote_conn.h"
#include "transport/remote_listing.h"
#include "walk/filter.h"
#include "walk/listing.h"
#include "walk/lookahead.h"
#include "walk/walk.h"

/* Bytes of file data in one DATA frame. */
#define DATA_CHUNK ((size_t)256 << 10)

struct sender;

/* One connection files are served on, by one thread. */
struct server_conn {
	struct sender *sd;
	struct rconn *c;
	unsigned char *data; /* a file's bytes being sent */
	int summing;         /* serving a SUM: hashing, not sending, the bytes */
	pthread_t thread;    /* streams after the first: serving them */
};

struct sender {
	struct rconn *c;
	const struct options *o;
	const struct filter *filter;
	char *const *roots;
	int nroots;
	unsigned xattr_kinds; /* what the receiver keeps of attributes */

	/* The operand being served: its root (a directory), or the directory
	   holding it and its name (a single entry). */
	int operand;
	int root_fd;
	char *single_name;

	/* The walk of a directory operand, on its own thread. */
	pthread_t walker;
	int walking;
	_Atomic int stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t credit; /* bytes of listings the receiver will take */

	/* The directory being listed (walker's thread). */
	struct listing_frame frame;
	const struct lookahead_list *names; /* every name read, excluded too: `held` */
	struct lookahead_list held;         /* our copy (the walker's lasts only while
					       it visits the directory) */
	size_t pos;                         /* the next name in `names` */
	char relpath[4096];
	int open;                          /* a frame of relpath's listing is being built */
	int dir_err;                       /* why the next directory could not be read, or 0 */
	int *status;                       /* a client's: the run's exit status there (EXIT) */
	uint64_t paced;                    /* --bwlimit: bytes sent so far, since ... */
	double pace_start;                 /* ... this (under lock) */
	const struct remote_streams *grow; /* how the client opens more streams */
	pthread_mutex_t root_lock;         /* root_fd and single_name, for the streams */
	struct server_conn first;          /* stream 0, served with the run's frames */
	struct server_conn *others[MAX_STREAMS]; /* [1, nstreams): a thread each */
	int nstreams;
};

/* --- listing --- */

/* Wait for credit for `len` bytes, then spend it.  0, or -1 on a stop. */
static int spend_credit(struct sender *sd, size_t len)
{
	pthread_mutex_lock(&sd->lock);
	while (sd->credit < (int64_t)len && !atomic_load(&sd->stop))
		pthread_cond_wait(&sd->cond, &sd->lock);
	sd->credit -= (int64_t)len;
	pthread_mutex_unlock(&sd->lock);
	return atomic_load(&sd->stop) ? -1 : 0;
}

/* Send the frame built so far (more: the directory goes on).  0 or -1. */
static int send_listing(struct sender *sd, int more)
{
	listing_frame_end(&sd->frame, more);
	if (spend_credit(sd, sd->frame.o.len) < 0 ||
	    rconn_send_out(sd->c, FRAME_LISTING, 0, &sd->frame.o) < 0) {
		atomic_store(&sd->stop, 1);
		return -1;
	}
	return 0;
}

/* What the receiver is told of an entry: src_meta, packed into *out (malloc'd). */
static size_t read_meta(struct sender *sd, int dirfd, const char *name, const struct stat *st,
			unsigned char **out)
{
	struct src_meta m = { 0 };
	unsigned char hash[SRC_META_HASH_SIZE];
	unsigned char *xattrs = NULL;
	char target[4096];
	size_t xlen = 0, len;

	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

		if (n > 0) {
			target[n] = '\0';
			m.link_target = target;
		}
	}
	if (sd->xattr_kinds != 0 &&
	    xattr_list_read(-1, dirfd, name, sd->xattr_kinds, &xattrs, &xlen) == 0) {
		m.xattrs = xattrs;
		m.xattrs_len = xlen;
		m.has_xattrs = 1;
	}
	if (sd->o->checksum && S_ISREG(st->st_mode)) {
		int flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
		int fd = openat(dirfd, name, flags | (sd->o->dereference ? 0 : O_NOFOLLOW));

		if (fd >= 0 && hash_fd(fd, (uint64_t)st->st_size, hash) == 0)
			m.hash = hash;
		if (fd >= 0)
			close(fd);
	}
	len = src_meta_size(&m);
	*out = xmalloc(len);
	src_meta_pack(&m, *out);
	free(xattrs);
	return len;
}

/* The next name of the listing is `name`: names before it were excluded (not stat'ed). */
static void skip_to(struct sender *sd, const char *name)
{
	unsigned char d_type;
	const char *n;
	size_t at = sd->pos;

	while (sd->names != NULL && lookahead_list_next(sd->names, &at, &d_type, &n)) {
		if (strcmp(n, name) == 0)
			return;
		listing_frame_entry(&sd->frame, d_type, n, LISTING_NOT_STATED, NULL, NULL, 0);
		sd->pos = at;
	}
}

/* Add `name`'s entry (skipping the excluded names before it), sending a full frame. */
static int add_entry(struct sender *sd, const char *name, int32_t err, const struct stat *st,
		     int dirfd)
{
	unsigned char d_type = DT_UNKNOWN;
	unsigned char *meta = NULL;
	size_t meta_len = 0, at;
	const char *n;

	skip_to(sd, name);
	at = sd->pos;
	if (sd->names != NULL && lookahead_list_next(sd->names, &at, &d_type, &n))
		sd->pos = at;
	if (st != NULL)
		meta_len = read_meta(sd, dirfd, name, st, &meta);
	listing_frame_entry(&sd->frame, d_type, name, err, st, meta, meta_len);
	free(meta);
	if (sd->frame.count < LISTING_FRAME_ENTRIES && sd->frame.o.len < REMOTE_LISTING_FRAME)
		return 0;
	if (send_listing(sd, 1) < 0)
		return -1;
	listing_frame_begin(&sd->frame, (uint32_t)sd->operand, sd->relpath, 0);
	return 0;
}

/*
 * Is relpath too long to cross?  Every path on the wire is shorter than
 * PATH_MAX (wire_path_ok), and a directory's with room for a name inside.
 */
static int too_long(const char *relpath, int is_dir)
{
	return strlen(relpath) >= (size_t)(is_dir ? REMOTE_DIR_PATH_MAX : REMOTE_PATH_MAX);
}

static int sent_entry(void *ctx, const struct walk_entry *e)
{
	if (too_long(e->relpath, 0))
		return add_entry(ctx, e->name, ENAMETOOLONG, NULL, -1);
	return add_entry(ctx, e->name, 0, e->st, e->dirfd);
}

static int sent_directory(void *ctx, const struct walk_entry *e, int descend)
{
	(void)descend; /* the receiver's walker decides the same from the same stats */
	if (too_long(e->relpath, 1)) /* told as an error there, not entered */
		return add_entry(ctx, e->name, ENAMETOOLONG, NULL, -1) < 0 ? -1 : 0;
	return add_entry(ctx, e->name, 0, e->st, e->dirfd) < 0 ? -1 : 1;
}

/* relpath's last name, if relpath is inside the directory being listed. */
static const char *in_listing(const struct sender *sd, const char *relpath)
{
	size_t n = strlen(sd->relpath);

	if (n == 0)
		return strchr(relpath, '/') == NULL ? relpath : NULL;
	if (strncmp(relpath, sd->relpath, n) != 0 || relpath[n] != '/' ||
	    strchr(relpath + n + 1, '/') != NULL)
		return NULL;
	return relpath + n + 1;
}

/*
 * An entry of the listing being built that could not be stat'ed; or,
 * between listings, the directory about to be listed that could not be
 * read (told with its listing: sent_listed).
 */
static void sent_error(void *ctx, const char *relpath, int err)
{
	struct sender *sd = ctx;
	const char *name = sd->open ? in_listing(sd, relpath) : NULL;

	if (err == WALK_CYCLE)
		err = LISTING_CYCLE;
	if (name != NULL)
		(void)add_entry(sd, name, err, NULL, -1);
	else if (!sd->open)
		sd->dir_err = err > 0 ? err : EIO;
}

static void sent_vanished(void *ctx, const char *relpath, int is_dir)
{
	sent_error(ctx, relpath, ENOENT);
	(void)is_dir;
}

/* A directory's listing is read: start its frame. */
static int sent_listed(void *ctx, const struct walk_listing *l)
{
	struct sender *sd = ctx;
	int32_t err = 0;

	snprintf(sd->relpath, sizeof(sd->relpath), "%s", l->relpath);
	sd->names = NULL;
	sd->held.len = 0;
	if (l->names != NULL) {
		if (sd->held.cap < l->names->len) {
			sd->held.cap = l->names->len;
			sd->held.data = xrealloc(sd->held.data, sd->held.cap);
		}
		if (l->names->len > 0)
			memcpy(sd->held.data, l->names->data, l->names->len);
		sd->held.len = l->names->len;
		sd->names = &sd->held;
	}
	sd->pos = 0;
	if (!l->complete)
		err = sd->dir_err != 0 ? sd->dir_err : EIO;
	sd->dir_err = 0;
	listing_frame_begin(&sd->frame, (uint32_t)sd->operand, sd->relpath, err);
	sd->open = l->names != NULL;
	return sd->open ? 0 : send_listing(sd, 0);
}

/* Every entry of the directory is in: the rest of its names were excluded. */
static void sent_dir_done(void *ctx)
{
	struct sender *sd = ctx;

	if (sd->names == NULL)
		return;   /* unreadable: sent already */
	skip_to(sd, "/"); /* no name is "/": every name left */
	(void)send_listing(sd, 0);
	sd->names = NULL;
	sd->open = 0;
}

static void *walk_main(void *arg)
{
	struct sender *sd = arg;
	struct walk_options wo = {
		.follow = sd->o->dereference,
		.one_file_system = sd->o->one_file_system,
		.stop = &sd->stop,
		.filter = sd->filter,
	};
	struct walk_visitor v = { .entry = sent_entry,
				  .directory = sent_directory,
				  .error = sent_error,
				  .ctx = sd,
				  .vanished = sent_vanished,
				  .listed = sent_listed,
				  .dir_done = sent_dir_done };
	struct wire_out o = { 0 };

	/* Said also after a walk that stopped, so that no walker waits on. */
	(void)walk_tree(sd->root_fd, &wo, &v);
	wire_put_u32(&o, (uint32_t)sd->operand);
	(void)rconn_send_out(sd->c, FRAME_WALKED, 0, &o);
	wire_out_free(&o);
	return NULL;
}

/* --- the operands --- */

static void end_walk(struct sender *sd)
{
	if (sd->walking) {
		atomic_store(&sd->stop, 1);
		pthread_mutex_lock(&sd->lock);
		pthread_cond_broadcast(&sd->cond);
		pthread_mutex_unlock(&sd->lock);
		pthread_join(sd->walker, NULL);
		sd->walking = 0;
		atomic_store(&sd->stop, 0);
	}
	pthread_mutex_lock(&sd->root_lock);
	if (sd->root_fd >= 0)
		close(sd->root_fd);
	sd->root_fd = -1;
	free(sd->single_name);
	sd->single_name = NULL;
	pthread_mutex_unlock(&sd->root_lock);
}

/*
 * START: stat operand k, answer ROOT, and walk it if it is a directory.
 * 0, or -1 when k is not an operand.
 */
static int start_operand(struct sender *sd, uint32_t k)
{
	const char *path;
	struct stat st;
	struct wire_out o = { 0 };
	int err = 0, rc;

	if (k >= (uint32_t)sd->nroots)
		return -1;
	end_walk(sd);
	sd->operand = (int)k;
	path = sd->roots[k];
	rc = sd->o->dereference ? stat(path, &st) : lstat(path, &st);
	pthread_mutex_lock(&sd->root_lock);
	if (rc < 0)
		err = errno;
	else if (S_ISDIR(st.st_mode))
		sd->root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		sd->root_fd = open_parent_dir(path, &sd->single_name);
	if (rc == 0 && sd->root_fd < 0)
		err = errno;
	pthread_mutex_unlock(&sd->root_lock);
	wire_put_u32(&o, k);
	wire_put_u32(&o, (uint32_t)err);
	if (err == 0) {
		unsigned char *meta;
		size_t len;

		wire_put_stat(&o, &st);
		len = S_ISDIR(st.st_mode) ? read_meta(sd, sd->root_fd, ".", &st, &meta)
					  : read_meta(sd, sd->root_fd, sd->single_name, &st, &meta);
		wire_put_str(&o, (const char *)meta, len);
		free(meta);
	}
	rc = rconn_send_out(sd->c, FRAME_ROOT, 0, &o);
	wire_out_free(&o);
	if (rc == 0 && err == 0 && S_ISDIR(st.st_mode) &&
	    pthread_create(&sd->walker, NULL, walk_main, sd) == 0)
		sd->walking = 1;
	return 0;
}

/* --- files --- */

/* Tell the receiver file `id` could not be read. */
static int send_failed(struct server_conn *sc, uint32_t id, int err)
{
	struct wire_out o = { 0 };
	int rc;

	wire_put_u32(&o, id);
	wire_put_u32(&o, (uint32_t)err);
	rc = rconn_send_out(sc->c, FRAME_FAILED, 0, &o);
	wire_out_free(&o);
	return rc;
}

/* Open the operand's file at relpath for reading; its fd or -1. */
static int open_wanted(struct sender *sd, const char *relpath)
{
	int flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	int fd;

	pthread_mutex_lock(&sd->root_lock); /* START may change the operand */
	if (sd->root_fd < 0) {
		errno = EBADF;
		fd = -1;
	} else if (sd->single_name != NULL) {
		fd = *relpath != '\0' ? (errno = ENOENT, -1) /* nothing beneath a single entry */
				      : openat(sd->root_fd, sd->single_name,
					       flags | (sd->o->dereference ? 0 : O_NOFOLLOW));
	} else {
		fd = open_beneath(sd->root_fd, relpath, flags, 0, sd->o->dereference);
	}
	pthread_mutex_unlock(&sd->root_lock);
	return fd;
}

/*
 * --bwlimit: all the streams' file data together at most o->bwlimit bytes
 * a second.  Each sender of `n` bytes waits until the run's pace allows
 * them, so the rate holds over the run, not per stream.
 */
static void pace(struct sender *sd, size_t n)
{
	double due, now;

	if (sd->o->bwlimit == 0)
		return;
	pthread_mutex_lock(&sd->lock);
	if (sd->paced == 0)
		sd->pace_start = monotonic_seconds();
	sd->paced += n;
	due = sd->pace_start + (double)sd->paced / (double)sd->o->bwlimit;
	pthread_mutex_unlock(&sd->lock);
	while ((now = monotonic_seconds()) < due && !atomic_load(&sd->c->broken)) {
		double left = due - now < 0.1 ? due - now : 0.1;
		struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

/*
 * Has the receiver hung up?  Asked while a SUM is read, which writes
 * nothing that would notice: a stop there must not wait for a long read.
 */
static int hung_up(const struct rconn *c)
{
	struct pollfd p = { .fd = c->in, .events = 0 };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

/* Send bytes [from, to) of fd as DATA frames, hashing them.  0, or -1 with errno. */
static int send_range(struct server_conn *sc, uint32_t id, int fd, off_t from, off_t to,
		      struct hash_state *h, uint64_t *sent, int *eof)
{
	struct wire_out o = { 0 };
	int rc = 0;

	while (from < to && rc == 0) {
		size_t want = (uint64_t)(to - from) < DATA_CHUNK ? (size_t)(to - from) : DATA_CHUNK;
		ssize_t got = pread(fd, sc->data, want, from);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			*eof = got == 0;
			rc = got == 0 ? 0 : -1;
			break;
		}
		hash_update(h, sc->data, (size_t)got);
		if (sc->summing && hung_up(sc->c)) {
			errno = EPIPE;
			rc = -1;
		} else if (!sc->summing) {
			pace(sc->sd, (size_t)got);
			o.len = 0;
			wire_put_u32(&o, id);
			wire_put_u64(&o, (uint64_t)from);
			wire_put_bytes(&o, sc->data, (size_t)got);
			rc = rconn_send_more(sc->c, FRAME_DATA, 0, o.buf, o.len);
		}
		from += got;
		*sent += (uint64_t)got;
	}
	wire_out_free(&o);
	return rc;
}

/* A hole [from, to): told, and hashed as the zeros it reads as. */
static int send_hole(struct server_conn *sc, uint32_t id, off_t from, off_t to,
		     struct hash_state *h)
{
	struct wire_out o = { 0 };
	int rc = 0;

	wire_put_u32(&o, id);
	wire_put_u64(&o, (uint64_t)from);
	wire_put_u64(&o, (uint64_t)(to - from));
	if (!sc->summing)
		rc = rconn_send_more(sc->c, FRAME_HOLE, 0, o.buf, o.len);
	wire_out_free(&o);
	hash_zeros(h, (uint64_t)(to - from));
	return rc;
}

/*
 * Send bytes [from, to) of fd (st its stat), holes as holes.  A file
 * with no data blocks (procfs, sysfs: a size of 0 that says nothing) is
 * read to its end past what stat said, as a local copy does; any other
 * is read to its size, and one that grew meanwhile is seen by
 * serve_file's second look.  0, or -1 with errno.
 */
static int send_data(struct server_conn *sc, uint32_t id, int fd, const struct stat *st, off_t from,
		     off_t to, struct hash_state *h, uint64_t *sent)
{
	int sparse = (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size;
	off_t at = from, end = to < st->st_size ? to : st->st_size;
	int eof = 0;

	if (st->st_blocks > 0 && to > st->st_size) /* no read only to find the end */
		to = from < st->st_size ? st->st_size : from;

	while (sparse && at < end) {
		off_t data = lseek(fd, at, SEEK_DATA);
		off_t hole;

		if (data < 0 && errno == ENXIO)
			data = end; /* holes to the end */
		if (data < 0)
			break; /* no SEEK_DATA here: send it all */
		if (data > end)
			data = end;
		if (data > at && send_hole(sc, id, at, data, h) < 0)
			return -1;
		*sent += (uint64_t)(data - at);
		at = data;
		if (at >= end)
			break;
		hole = lseek(fd, at, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		if (send_range(sc, id, fd, at, hole, h, sent, &eof) < 0)
			return -1;
		at = hole;
		if (eof)
			return 0;
	}
	/* The rest, to `to`: past what stat said only for a file without blocks. */
	return at < to ? send_range(sc, id, fd, at, to, h, sent, &eof) : 0;
}

/*
 * WANT: send bytes [from, to) of the operand's file relpath as file `id`:
 * FILE (its stat), its data (not with sc->summing: SUM), END; or FAILED.
 */
static int serve_file(struct server_conn *sc, uint32_t id, const char *relpath, off_t from,
		      off_t to)
{
	struct stat st, now;
	struct wire_out o = { 0 };
	unsigned char hash[HASH_SIZE];
	struct hash_state *h;
	uint64_t sent = 0;
	int fd = open_wanted(sc->sd, relpath), rc;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = fd < 0 ? errno : S_ISREG(st.st_mode) ? errno : EINVAL;

		if (fd >= 0)
			close(fd);
		return send_failed(sc, id, err);
	}
	h = hash_new();
	if (h == NULL) {
		close(fd);
		return send_failed(sc, id, ENOMEM);
	}
	wire_put_u32(&o, id);
	wire_put_stat(&o, &st);
	rc = rconn_send_more(sc->c, FRAME_FILE, 0, o.buf, o.len);
	if (rc == 0 && send_data(sc, id, fd, &st, from, to, h, &sent) < 0)
		rc = atomic_load(&sc->c->broken) ? -1 : send_failed(sc, id, errno);
	else if (rc == 0) {
		int changed = fstat(fd, &now) < 0 || now.st_size != st.st_size ||
			      now.st_ctim.tv_sec != st.st_ctim.tv_sec ||
			      now.st_ctim.tv_nsec != st.st_ctim.tv_nsec;

		hash_final(h, hash);
		o.len = 0;
		wire_put_u32(&o, id);
		wire_put_u64(&o, sent);
		wire_put_u8(&o, (uint8_t)changed);
		wire_put_bytes(&o, hash, sizeof(hash));
		/* Written at once unless more is asked already: the next answers join it. */
		rc = rconn_ready(sc->c) ? rconn_send_more(sc->c, FRAME_END, 0, o.buf, o.len)
					: rconn_send(sc->c, FRAME_END, 0, o.buf, o.len);
	}
	hash_free(h);
	wire_out_free(&o);
	close(fd);
	return rc;
}

/* --- the loop --- */

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* WANT or SUM: decode it and serve the range asked for.  0, or -1 (err). */
static int serve_want(struct server_conn *sc, const struct wire_head *h, const unsigned char *buf,
		      char *err, size_t errlen)
{
	struct wire_in in;
	char relpath[REMOTE_PATH_MAX];
	const char *path;
	size_t len;
	uint32_t id;
	uint64_t n, from;
	int rc;

	wire_in_init(&in, buf, h->length);
	id = wire_u32(&in);
	path = wire_str(&in, sizeof(relpath) - 1, &len);
	from = wire_u64(&in);
	n = wire_u64(&in);
	if (!wire_ok(&in, 1) || !wire_path_ok(path, len) || from > INT64_MAX)
		return fail(err, errlen, "a WANT for a path outside SRC");
	memcpy(relpath, path, len);
	relpath[len] = '\0';
	n = n > (uint64_t)INT64_MAX - from ? (uint64_t)INT64_MAX - from : n;
	sc->summing = h->type == FRAME_SUM;
	rc = serve_file(sc, id, relpath, (off_t)from, (off_t)(from + n));
	sc->summing = 0;
	return rc < 0 ? -1 : 0;
}

/* Handle one frame from the receiver.  1 at DONE, 0 to go on, -1 (err). */
static int handle(struct sender *sd, const struct wire_head *h, const unsigned char *buf, char *err,
		  size_t errlen)
{
	struct wire_in in;
	size_t len;
	const char *path;
	uint32_t k;
	uint64_t n;

	wire_in_init(&in, buf, h->length);
	switch (h->type) {
	case FRAME_START:
		k = wire_u32(&in);
		if (!wire_ok(&in, 1) || start_operand(sd, k) < 0)
			return fail(err, errlen, "a START for no operand");
		return 0;
	case FRAME_CREDIT:
		n = wire_u64(&in);
		if (!wire_ok(&in, 1) || n > REMOTE_LISTING_CREDIT)
			return fail(err, errlen, "a malformed CREDIT");
		pthread_mutex_lock(&sd->lock);
		sd->credit += (int64_t)n;
		pthread_cond_broadcast(&sd->cond);
		pthread_mutex_unlock(&sd->lock);
		return 0;
	case FRAME_WANT:
	case FRAME_SUM: return serve_want(&sd->first, h, buf, err, errlen);
	case FRAME_GROW:
		if (sd->grow != NULL)
			sd->grow->more(sd->grow->ctx);
		return 0;
	case FRAME_DONE:
		/* Said back, so the receiver's reader knows nothing more comes. */
		end_walk(sd);
		if (rconn_send(sd->first.c, FRAME_DONE, 0, NULL, 0) < 0)
			return -1;
		return sd->status == NULL ? 1 : 0; /* a client waits for EXIT */
	case FRAME_OUTPUT:
		if (sd->status == NULL || (h->stream != 1 && h->stream != 2))
			return fail(err, errlen, "an unexpected OUTPUT");
		(void)write_all(h->stream, buf, h->length); /* as the run there wrote it */
		return 0;
	case FRAME_EXIT:
		k = wire_u32(&in);
		if (sd->status == NULL || !wire_ok(&in, 1) || k > 255)
			return fail(err, errlen, "an unexpected EXIT");
		*sd->status = (int)k;
		return 1;
	case FRAME_FATAL:
		path = wire_str(&in, 1024, &len);
		snprintf(err, errlen, "%.*s", wire_ok(&in, 1) ? (int)len : 0, path ? path : "");
		return -1;
	default: return fail(err, errlen, "an unexpected frame");
	}
}

/* The sender of this process's run, for the streams that join it. */
static struct sender *current;
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;

/* A stream after the first: serve what is asked on it until it ends. */
static void *serve_main(void *arg)
{
	struct server_conn *sc = arg;
	unsigned char *buf = NULL;
	size_t cap = 0;
	struct wire_head h;
	char err[256];

	while (rconn_recv(sc->c, &h, &buf, &cap) == 0)
		if ((h.type != FRAME_WANT && h.type != FRAME_SUM) ||
		    serve_want(sc, &h, buf, err, sizeof(err)) < 0)
			break;
	rconn_hangup(sc->c); /* our end too: the receiver's reader of it then ends */
	free(buf);
	return NULL;
}

int remote_send_add(struct rconn *c, int index)
{
	struct sender *sd;
	struct server_conn *sc;
	int rc = -1;

	pthread_mutex_lock(&current_lock);
	sd = current;
	if (sd != NULL && index == sd->nstreams && index < MAX_STREAMS) {
		sc = xcalloc(1, sizeof(*sc));
		*sc = (struct server_conn){ .sd = sd, .c = c, .data = xmalloc(DATA_CHUNK) };
		if (pthread_create(&sc->thread, NULL, serve_main, sc) == 0) {
			sd->others[sd->nstreams++] = sc;
			rc = 0;
		} else {
			free(sc->data);
			free(sc);
		}
	}
	pthread_mutex_unlock(&current_lock);
	return rc;
}

/* The run is over: wait for the other streams to end (the receiver ends them). */
static void end_streams(struct sender *sd)
{
	pthread_mutex_lock(&current_lock);
	current = NULL;
	pthread_mutex_unlock(&current_lock);
	for (int i = 1; i < sd->nstreams; i++) {
		struct server_conn *sc = sd->others[i];

		pthread_join(sc->thread, NULL);
		(void)rconn_close(sc->c, 0);
		free(sc->c);
		free(sc->data);
		free(sc);
	}
}

int remote_send(struct rconn *c, const struct options *o, const struct filter *filter,
		char *const *roots, int nroots, const struct remote_streams *grow, int *status,
		char *err, size_t errlen)
{
	struct sender sd = { .c = c,
			     .o = o,
			     .filter = filter,
			     .roots = roots,
			     .nroots = nroots,
			     .status = status,
			     .grow = grow,
			     .nstreams = 1 };
	unsigned char *buf = NULL;
	size_t cap = 0;
	struct wire_head h;
	int rc = 0;

	sd.root_fd = -1;
	sd.operand = -1;
	sd.credit = (int64_t)REMOTE_LISTING_CREDIT;
	sd.xattr_kinds = ((o->preserve & PRESERVE_MODE) ? XATTR_ACLS : 0) |
			 ((o->preserve & PRESERVE_XATTR) ? XATTR_OTHERS : 0);
	sd.first = (struct server_conn){ .sd = &sd, .c = c, .data = xmalloc(DATA_CHUNK) };
	pthread_mutex_init(&sd.lock, NULL);
	pthread_cond_init(&sd.cond, NULL);
	pthread_mutex_init(&sd.root_lock, NULL);
	pthread_mutex_lock(&current_lock);
	current = &sd;
	pthread_mutex_unlock(&current_lock);
	err[0] = '\0';
	while (rc == 0) {
		if (rconn_recv(c, &h, &buf, &cap) < 0) {
			snprintf(err, errlen, "the connection failed: %s", strerror(errno));
			rc = -1;
			break;
		}
		rc = handle(&sd, &h, buf, err, errlen);
		if (rc < 0 && err[0] == '\0')
			snprintf(err, errlen, "the connection failed: %s", strerror(errno));
	}
	end_walk(&sd);
	free(sd.held.data);
	if (rc < 0) /* a failure: the other streams end with this one */
		for (int i = 1; i < sd.nstreams; i++)
			rconn_hangup(sd.others[i]->c);
	end_streams(&sd);
	wire_out_free(&sd.frame.o);
	pthread_mutex_destroy(&sd.lock);
	pthread_cond_destroy(&sd.cond);
	pthread_mutex_destroy(&sd.root_lock);
	free(sd.first.data);
	free(buf);
	return rc > 0 ? 0 : -1;
}
