/*
 * broker.c - the walker's listing broker and the listers' reading of a
 * directory (broker.h has the picture).
 *
 * A directory the broker knows of goes through these states:
 *
 *	KNOWN    a listing named it: waiting, by walk-order key, in `waiting`
 *	SENT     handed to a rank; the walker that wants it waits
 *	ARRIVED  its listing is held (charged to the budget) for the walker,
 *	         in `held`, by key too
 *	SELF     the walker reads it itself (not handed out in time, or the
 *	         rank could not read it); read_itself tells its names
 *
 * and leaves the table when the walker takes it, or reads it itself, or
 * has passed it: the walker asks for directories in key order, so once it
 * takes key K, a directory with a smaller key that it has not taken never
 * will be (excluded, skipped, across a mount).  Those are dropped: from
 * the top of `held` as the walker goes, from `waiting` and in flight when
 * met.  A directory is freed once neither the table nor a heap has it.
 *
 * Lock order: one mutex, `lock`, guards everything; the walker waits on
 * `changed`, signalled when a listing arrives or the broker closes.
 */
#include "walk/broker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/dirstream.h"
#include "base/path.h"
#include "base/util.h"
#include "core/session.h"
#include "walk/filter.h"
#include "walk/listing.h"
#include "walk/walk.h"

/*
 * What the broker holds on rank 0 is bounded whatever the tree and the
 * number of ranks: the listings that arrived, up to LISTING_BUDGET bytes;
 * the directories known from them, up to KNOWN_MAX (a few hundred bytes
 * each); and the replies in flight, for at most LIST_IN_FLIGHT
 * directories.  Beyond that it hands out nothing more, or learns nothing
 * more from a listing until the walker takes it; the walker reads what
 * was not handed out itself.  Only the walker's own path through the tree
 * (the subdirectories still to enter at each level, held by walk.c in
 * every mode) is beyond the broker's bounds.
 */
#define LIST_BATCH 8                     /* directories in one LIST message, at most */
#define LIST_WINDOW 64                   /* directories a rank has and has not answered */
#define LIST_IN_FLIGHT 128               /* and all ranks together */
#define LISTING_BUDGET ((size_t)2 << 20) /* bytes of listings held for the walker */
#define KNOWN_MAX 8192                   /* directories known ahead of the walker */
/*
 * Bytes of one reply a lister builds, and of one directory's listing in it
 * (about 6,900 entries): past it, the rest is answered "cannot" and the
 * walker reads it itself.  So a lister holds a few MiB at most, and a
 * reply in flight to rank 0 no more than two of these, however big a
 * directory is.
 */
#define LISTING_MAX ((size_t)1 << 20)

/* A directory's identity, not to hand out a loop (-L, bind mounts). */
struct dir_id {
	uint64_t dev, ino; /* ino 0: not known (a name the walker read) */
};

enum dir_state { KNOWN, SENT, ARRIVED, SELF };

/* A directory the broker knows of. */
struct known_dir {
	struct known_dir *next; /* in its hash bucket */
	enum dir_state state;
	int in_table;        /* in the hash table */
	int in_waiting;      /* in `waiting` (maybe stale: no longer KNOWN) */
	int in_held;         /* in `held` (maybe stale: taken or dropped) */
	int unlearned;       /* ARRIVED with known_max known: its subdirectories
				are learnt when the walker takes it */
	struct walk_key key; /* where the walker comes to it */
	struct dir_id *ids;  /* the root's, ..., its own: key.depth + 1 */
	struct listing list; /* ARRIVED: what the rank read */
	size_t bytes;        /* ARRIVED: charged to the budget */
	char relpath[];      /* from the root, "" for the root */
};

/* Directories by walk-order key, the smallest on top (a binary heap). */
struct dir_heap {
	struct known_dir **v;
	size_t len, cap;
};

struct broker {
	struct broker_config c;
	struct walk_source source; /* what the walker calls */
	pthread_mutex_t lock;
	pthread_cond_t changed;     /* a SENT directory came back, or closed */
	struct known_dir **buckets; /* hash table by relpath */
	size_t nbuckets, count;     /* a power of two; directories in it */
	struct dir_heap waiting;    /* KNOWN directories, to hand out */
	struct dir_heap held;       /* ARRIVED directories, for the walker */
	size_t used;                /* bytes of held listings */
	struct walk_key passed;     /* the key of the last directory the walker took */
	int *in_flight;             /* by rank: directories sent and not answered */
	int in_flight_all;          /* the same, all ranks together */
	int closed;                 /* hand out nothing more, nobody waits */
	int walk_started;           /* the walker has called us once */
	uint64_t cpu_start_ns;      /* its thread's CPU time then */
};

/*
 * One directory in a lister's reply (a reply holds those of a LIST
 * message, one after the other): this, the path with its NUL, and the
 * packed listing.
 */
struct reply_head {
	uint32_t ok;          /* 0: it could not be read */
	uint32_t path_len;    /* strlen of the path */
	uint64_t listing_len; /* bytes of the packed listing after it */
};

/* --- the table and the heap --- */

static size_t hash_path(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct known_dir *find(const struct broker *b, const char *relpath)
{
	struct known_dir *d = b->buckets[hash_path(relpath) & (b->nbuckets - 1)];

	while (d != NULL && strcmp(d->relpath, relpath) != 0)
		d = d->next;
	return d;
}

static void table_insert(struct broker *b, struct known_dir *d)
{
	size_t i;

	if (b->count >= b->nbuckets) { /* grow: rehash into twice the buckets */
		struct known_dir **old = b->buckets;
		size_t n = b->nbuckets;

		b->nbuckets *= 2;
		b->buckets = xcalloc(b->nbuckets, sizeof(*b->buckets));
		for (size_t k = 0; k < n; k++)
			while (old[k] != NULL) {
				struct known_dir *next = old[k]->next;

				i = hash_path(old[k]->relpath) & (b->nbuckets - 1);
				old[k]->next = b->buckets[i];
				b->buckets[i] = old[k];
				old[k] = next;
			}
		free(old);
	}
	i = hash_path(d->relpath) & (b->nbuckets - 1);
	d->next = b->buckets[i];
	b->buckets[i] = d;
	d->in_table = 1;
	b->count++;
}

static void free_dir(struct known_dir *d)
{
	walk_key_free(&d->key);
	free(d->ids);
	listing_free(&d->list);
	free(d);
}

/* Free d unless the table or a heap still has it. */
static void release(struct known_dir *d)
{
	if (!d->in_table && !d->in_waiting && !d->in_held)
		free_dir(d);
}

/* Take d out of the table, and its listing out of the budget. */
static void forget(struct broker *b, struct known_dir *d)
{
	struct known_dir **p = &b->buckets[hash_path(d->relpath) & (b->nbuckets - 1)];

	while (*p != d)
		p = &(*p)->next;
	*p = d->next;
	b->count--;
	d->in_table = 0;
	if (d->state == ARRIVED) {
		b->used -= d->bytes;
		listing_free(&d->list);
	}
	release(d);
}

static int heap_less(const struct dir_heap *h, size_t i, size_t j)
{
	return walk_key_compare(&h->v[i]->key, &h->v[j]->key) < 0;
}

static void heap_swap(struct dir_heap *h, size_t i, size_t j)
{
	struct known_dir *t = h->v[i];

	h->v[i] = h->v[j];
	h->v[j] = t;
}

static void heap_push(struct dir_heap *h, struct known_dir *d)
{
	size_t i = h->len++;

	if (h->len > h->cap) {
		h->cap = h->cap ? 2 * h->cap : 256;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[i] = d;
	for (; i > 0 && heap_less(h, i, (i - 1) / 2); i = (i - 1) / 2)
		heap_swap(h, i, (i - 1) / 2);
}

/* The directory with the smallest key, out of h (which must not be empty). */
static struct known_dir *heap_pop(struct dir_heap *h)
{
	struct known_dir *top = h->v[0];
	size_t i = 0;

	h->v[0] = h->v[--h->len];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->len && heap_less(h, l, m))
			m = l;
		if (r < h->len && heap_less(h, r, m))
			m = r;
		if (m == i)
			break;
		heap_swap(h, i, m);
		i = m;
	}
	return top;
}

/*
 * Free h with the directories in it: only once the table is empty, when
 * nothing else has them (the two heaps never share one: a directory is
 * held only after it left `waiting`).
 */
static void heap_free(struct dir_heap *h)
{
	for (size_t i = 0; i < h->len; i++)
		free_dir(h->v[i]);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* --- learning of directories --- */

/* Add the directory `relpath`, the child at `index` of `parent` (NULL: the root). */
static void add_known(struct broker *b, const struct known_dir *parent, uint32_t index,
		      const char *relpath, struct dir_id id)
{
	size_t len = strlen(relpath) + 1, depth;
	struct known_dir *d;

	if (find(b, relpath) != NULL)
		return;
	d = xcalloc(1, sizeof(*d) + len);
	memcpy(d->relpath, relpath, len);
	if (parent != NULL)
		walk_key_child(&parent->key, index, &d->key);
	depth = d->key.depth;
	d->ids = xmalloc((depth + 1) * sizeof(*d->ids));
	if (parent != NULL)
		memcpy(d->ids, parent->ids, depth * sizeof(*d->ids));
	d->ids[depth] = id;
	d->state = KNOWN;
	table_insert(b, d);
	heap_push(&b->waiting, d);
	d->in_waiting = 1;
}

/* Is `id` the directory d or one above it? */
static int is_ancestor(const struct known_dir *d, struct dir_id id)
{
	for (size_t i = 0; id.ino != 0 && i <= d->key.depth; i++)
		if (d->ids[i].dev == id.dev && d->ids[i].ino == id.ino)
			return 1;
	return 0;
}

/*
 * Learn the subdirectories of d from its names (and their stats, when a
 * rank read them): those the walker may enter, as far as we can tell.
 * With `capped`, stop at known_max known directories: 0 if it did, else 1.
 */
static int learn_children(struct broker *b, const struct known_dir *d,
			  const struct lookahead_list *names, const struct listing_stat *stats,
			  int capped)
{
	struct pathbuf path;
	const char *name;
	unsigned char type;
	size_t pos = 0;

	pathbuf_init(&path);
	pathbuf_set(&path, d->relpath, strlen(d->relpath));
	for (uint32_t i = 0; lookahead_list_next(names, &pos, &type, &name); i++) {
		const struct stat *st = stats != NULL && stats[i].err == 0 ? &stats[i].st : NULL;
		struct dir_id id = { 0, 0 };
		size_t old;

		/* Stat'ed by a rank: what the stat says; read by the walker: d_type. */
		if (stats != NULL && (st == NULL || !S_ISDIR(st->st_mode)))
			continue;
		if (stats == NULL && type != DT_DIR)
			continue;
		if (capped && b->count >= b->c.known_max) {
			pathbuf_free(&path);
			return 0;
		}
		if (st != NULL) {
			id.dev = st->st_dev, id.ino = st->st_ino;
			if (is_ancestor(d, id) || (b->c.one_file_system && id.dev != d->ids[0].dev))
				continue;
		}
		old = pathbuf_push(&path, name);
		if (b->c.filter == NULL || !filter_excluded(b->c.filter, path.data, 1))
			add_known(b, d, i, path.data, id);
		pathbuf_trim(&path, old);
	}
	pathbuf_free(&path);
	return 1;
}

/* Has the walker passed d without taking it? */
static int passed(const struct broker *b, const struct known_dir *d)
{
	return b->walk_started && walk_key_compare(&d->key, &b->passed) < 0;
}

/* --- the forwarder's side --- */

char *broker_next_batch(struct broker *b, int rank, size_t *len)
{
	char *batch = NULL;
	size_t n = 0;

	*len = 0;
	pthread_mutex_lock(&b->lock);
	while (!b->closed && b->in_flight[rank] < LIST_WINDOW &&
	       b->in_flight_all < LIST_IN_FLIGHT && n < LIST_BATCH && b->used < LISTING_BUDGET &&
	       b->waiting.len > 0) {
		struct known_dir *d = heap_pop(&b->waiting);
		size_t plen = strlen(d->relpath) + 1;

		d->in_waiting = 0;
		if (!d->in_table || d->state != KNOWN) { /* the walker read it itself */
			release(d);
			continue;
		}
		if (passed(b, d)) {
			forget(b, d);
			continue;
		}
		d->state = SENT;
		batch = xrealloc(batch, *len + plen);
		memcpy(batch + *len, d->relpath, plen);
		*len += plen;
		b->in_flight[rank]++;
		b->in_flight_all++;
		n++;
	}
	pthread_mutex_unlock(&b->lock);
	return batch;
}

/* One directory of a reply: its listing (`ok`) or a "cannot", for `path`. */
static void arrived_one(struct broker *b, int rank, const char *path, int ok, struct listing *l)
{
	struct known_dir *d;

	pthread_mutex_lock(&b->lock);
	b->in_flight[rank]--;
	b->in_flight_all--;
	d = find(b, path);
	if (d != NULL && d->state == SENT && passed(b, d)) {
		forget(b, d);
	} else if (d != NULL && d->state == SENT) {
		d->state = SELF; /* unless it came, the walker reads it */
		if (ok) {
			d->unlearned = !learn_children(b, d, &l->names, l->stats, 1);
			d->state = ARRIVED;
			d->list = *l;
			listing_init(l);
			/* the directory's own memory too: a tree of empty ones
			 * would otherwise hold any number */
			d->bytes = listing_bytes(&d->list) + sizeof(*d) + strlen(d->relpath) +
				   d->key.depth * (sizeof(*d->key.index) + sizeof(*d->ids));
			b->used += d->bytes;
			heap_push(&b->held, d);
			d->in_held = 1;
		}
		pthread_cond_broadcast(&b->changed);
	}
	pthread_mutex_unlock(&b->lock);
}

int broker_arrived(struct broker *b, int rank, const char *msg, size_t len)
{
	struct reply_head head;
	size_t at;

	for (at = 0; len - at >= sizeof(head); at += head.listing_len) {
		const char *path = msg + at + sizeof(head);
		struct listing l;
		int ok;

		memcpy(&head, msg + at, sizeof(head));
		at += sizeof(head);
		if (head.path_len >= len - at || path[head.path_len] != '\0')
			return -1;
		at += head.path_len + 1;
		if (head.listing_len > len - at)
			return -1;
		ok = head.ok && listing_unpack(msg + at, (size_t)head.listing_len, &l) == 0;
		arrived_one(b, rank, path, ok, &l);
		if (ok)
			listing_free(&l);
	}
	return at == len ? 0 : -1;
}

void broker_close(struct broker *b)
{
	pthread_mutex_lock(&b->lock);
	b->closed = 1;
	pthread_cond_broadcast(&b->changed);
	pthread_mutex_unlock(&b->lock);
}

/* --- the walker's side --- */

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The walker calls: note its CPU time at the first call (under b->lock). */
static void walker_called(struct broker *b)
{
	if (!b->walk_started)
		b->cpu_start_ns = thread_cpu_ns();
	b->walk_started = 1;
}

/*
 * Drop the held listings of the directories the walker has passed, and
 * free those it took: they come out of `held` in key order, so each
 * directory costs one pop.
 */
static void drop_passed(struct broker *b)
{
	while (b->held.len > 0 && passed(b, b->held.v[0])) {
		struct known_dir *d = heap_pop(&b->held);

		d->in_held = 0;
		if (d->in_table)
			forget(b, d);
		else
			release(d);
	}
}

/* The walker is about to read `relpath`: its listing if a rank read it (waiting if one is). */
static int source_take(void *ctx, const char *relpath, struct listing *out)
{
	struct broker *b = ctx;
	struct known_dir *d;
	double waited = 0;
	int taken = 0;

	pthread_mutex_lock(&b->lock);
	walker_called(b);
	d = find(b, relpath);
	if (d != NULL) {
		walk_key_free(&b->passed);
		walk_key_copy(&d->key, &b->passed); /* what comes before d is passed */
		drop_passed(b);
		if (d->state == SENT && !b->closed) {
			double start = monotonic_seconds();

			while (d->state == SENT && !b->closed)
				pthread_cond_wait(&b->changed, &b->lock);
			waited = monotonic_seconds() - start;
		}
		if (d->state == ARRIVED) {
			/* Now that the walker is here, whatever the cap kept back. */
			if (d->unlearned)
				learn_children(b, d, &d->list.names, d->list.stats, 0);
			*out = d->list;
			listing_init(&d->list);
			forget(b, d);
			taken = 1;
		} else {
			d->state = SELF; /* its names come through read_itself */
		}
	}
	pthread_mutex_unlock(&b->lock);
	atomic_fetch_add(&b->c.slot->listing_wait_ns, (uint64_t)(waited * 1e9));
	return taken;
}

/* The walker read `relpath` itself: count it, and learn what is inside. */
static void source_read_itself(void *ctx, const char *relpath, const struct lookahead_list *names)
{
	struct broker *b = ctx;
	struct known_dir *d;
	uint64_t entries = 0;
	const char *name;
	unsigned char type;
	size_t pos = 0;

	while (names != NULL && lookahead_list_next(names, &pos, &type, &name))
		entries++;
	if (names != NULL) {
		atomic_fetch_add(&b->c.slot->dirs_listed, 1);
		atomic_fetch_add(&b->c.slot->entries_listed, entries);
	}
	pthread_mutex_lock(&b->lock);
	walker_called(b);
	d = find(b, relpath);
	if (d != NULL && d->state == SELF) {
		if (names != NULL && !b->closed)
			learn_children(b, d, names, NULL, 0);
		forget(b, d);
	}
	pthread_mutex_unlock(&b->lock);
}

/* Forget every directory (the walk is over, or the broker is freed). */
static void forget_all(struct broker *b)
{
	for (size_t i = 0; i < b->nbuckets; i++)
		while (b->buckets[i] != NULL)
			forget(b, b->buckets[i]);
	heap_free(&b->waiting);
	heap_free(&b->held);
}

/* The walk is over: nothing more to hand out; note the walker's CPU time. */
static void source_finished(void *ctx)
{
	struct broker *b = ctx;

	pthread_mutex_lock(&b->lock);
	b->closed = 1;
	forget_all(b);
	if (b->walk_started)
		atomic_fetch_add(&b->c.slot->walker_cpu_ns, thread_cpu_ns() - b->cpu_start_ns);
	pthread_mutex_unlock(&b->lock);
}

const struct walk_source *broker_source(struct broker *b)
{
	return &b->source;
}

struct broker *broker_create(const struct broker_config *c)
{
	struct broker *b = xcalloc(1, sizeof(*b));
	struct stat st;

	b->c = *c;
	if (b->c.known_max == 0)
		b->c.known_max = KNOWN_MAX;
	b->source = (struct walk_source){ source_take, source_read_itself, source_finished, b };
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->changed, NULL);
	b->nbuckets = 256;
	b->buckets = xcalloc(b->nbuckets, sizeof(*b->buckets));
	b->in_flight = xcalloc((size_t)c->listers + 1, sizeof(*b->in_flight));
	/* The root is the first to hand out; without it, nothing ever is. */
	if (c->enabled && fstat(c->root, &st) == 0)
		add_known(b, NULL, 0, "", (struct dir_id){ st.st_dev, st.st_ino });
	return b;
}

void broker_free(struct broker *b)
{
	if (b == NULL)
		return;
	forget_all(b);
	free(b->buckets);
	free(b->in_flight);
	walk_key_free(&b->passed);
	pthread_cond_destroy(&b->changed);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* --- the lister (ranks > 0) --- */

/*
 * A regular file, for a judge: its stat, and whether DST's copy is up to
 * date, when it has one link; else as without a judge (lazy_regular: not
 * stat'ed, for whoever copies it to stat and report).
 */
static void add_judged(struct listing *l, int fd, const char *name, const struct walk_options *o,
		       const struct lister_judge *judge, struct lister_reply *r)
{
	struct stat st;
	int verdict = 0;

	if (fstatat(fd, name, &st, o->follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
		listing_add(l, DT_REG, name, NULL, o->lazy_regular ? LISTING_NOT_STATED : errno);
		return;
	}
	if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
		verdict = judge->unchanged(judge->ctx, fd, name, &st) == 1 ? LISTING_UNCHANGED : 0;
		r->judged++;
	} else if (o->lazy_regular) {
		listing_add(l, DT_REG, name, NULL, LISTING_NOT_STATED);
		return;
	}
	if ((uint64_t)st.st_dev == r->dev_here)
		st.st_dev = (dev_t)r->dev_rank0;
	listing_add(l, DT_REG, name, &st, verdict);
}

/*
 * Read the open directory fd as the walker would: names, and stats where
 * it would stat (and of the regular files, with a judge).
 */
static int read_listing(int fd, const struct walk_options *o, char *dirbuf,
			const struct lister_judge *judge, struct lister_reply *r, struct listing *l)
{
	int flags = o->follow ? 0 : AT_SYMLINK_NOFOLLOW;
	struct dirstream d;
	const char *name;
	unsigned char type;
	struct stat st;
	int rc;

	dirstream_start(&d, fd, dirbuf);
	while ((rc = dirstream_next(&d, &type, &name)) > 0) {
		if (judge != NULL && type == DT_REG)
			add_judged(l, fd, name, o, judge, r);
		else if (walk_type_is_enough(o, type))
			listing_add(l, type, name, NULL, LISTING_NOT_STATED);
		else if (fstatat(fd, name, &st, flags) == 0) {
			if ((uint64_t)st.st_dev == r->dev_here)
				st.st_dev = (dev_t)r->dev_rank0;
			listing_add(l, type, name, &st, 0);
		} else
			listing_add(l, type, name, NULL, errno);
		if (listing_bytes(l) > LISTING_MAX)
			return -1; /* too big to send: the walker reads it */
	}
	return rc;
}

void lister_read(int root, const struct walk_options *o, const char *relpath, char *dirbuf,
		 const struct lister_judge *judge, struct lister_reply *r)
{
	struct reply_head head = { 0, (uint32_t)strlen(relpath), 0 };
	/* A full reply answers the rest of its batch "cannot", unread. */
	int fd = r->len >= LISTING_MAX
			 ? -1
			 : open_beneath(root, relpath, O_RDONLY | O_DIRECTORY | O_NOCTTY, 0,
					o->follow);
	size_t packed_len = 0, need;
	char *packed = NULL;
	struct listing l;

	listing_init(&l);
	/* Whatever fails, the walker reads it itself and reports it as always. */
	if (fd >= 0 && judge != NULL && judge->enter(judge->ctx, relpath) < 0)
		judge = NULL;
	if (fd >= 0 && read_listing(fd, o, dirbuf, judge, r, &l) == 0) {
		head.ok = 1;
		packed = listing_pack(&l, &packed_len);
		head.listing_len = packed_len;
		r->dirs++;
		r->entries += l.count;
	}
	if (fd >= 0)
		close(fd);
	need = sizeof(head) + head.path_len + 1 + packed_len;
	if (r->cap - r->len < need) {
		r->cap = 2 * (r->len + need);
		r->buf = xrealloc(r->buf, r->cap);
	}
	memcpy(r->buf + r->len, &head, sizeof(head));
	memcpy(r->buf + r->len + sizeof(head), relpath, head.path_len + 1);
	if (packed_len > 0)
		memcpy(r->buf + r->len + sizeof(head) + head.path_len + 1, packed, packed_len);
	r->len += need;
	free(packed);
	listing_free(&l);
}
