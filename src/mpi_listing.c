/*
 * mpi_listing.c - rank 0's listing broker and the other ranks' lister
 * (mpi_listing.h has the picture).
 *
 * A directory the broker knows of goes through these states:
 *
 *	KNOWN    a listing named it: waiting, by walk-order key, in the heap
 *	SENT     handed to a rank; the walker that wants it waits
 *	ARRIVED  its listing is held (charged to the budget) for the walker
 *	SELF     the walker reads it itself (not handed out in time, or the
 *	         rank could not read it); read_itself tells its names
 *
 * and leaves the table when the walker takes it, or reads it itself, or
 * has passed it: the walker asks for directories in key order, so once it
 * takes key K, a directory with a smaller key that it has not taken never
 * will be (excluded, skipped, across a mount).  Those are dropped: from
 * the held listings at once, from the heap and in flight when met.
 *
 * Lock order: one mutex, `lock`, guards everything; the walker waits on
 * `changed`, signalled when a listing arrives or the broker closes.
 */
#include "mpi_listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dirstream.h"
#include "filter.h"
#include "listing.h"
#include "path.h"
#include "session.h"
#include "util.h"
#include "walk.h"

#define LIST_BATCH 4                     /* directories in one LIST message, at most */
#define LIST_WINDOW 16                   /* directories a rank has and has not answered */
#define LISTING_BUDGET ((size_t)8 << 20) /* bytes of listings held for the walker */

/* A directory's identity, not to hand out a loop (-L, bind mounts). */
struct dir_id {
	uint64_t dev, ino; /* ino 0: not known (a name the walker read) */
};

enum dir_state { KNOWN, SENT, ARRIVED, SELF };

/* A directory the broker knows of. */
struct known_dir {
	struct known_dir *next; /* in its hash bucket */
	struct known_dir *held; /* ARRIVED: the next held listing */
	enum dir_state state;
	int in_table;        /* in the hash table (else only in the heap) */
	int in_heap;         /* in the heap (maybe stale: no longer KNOWN) */
	struct walk_key key; /* where the walker comes to it */
	struct dir_id *ids;  /* the root's, ..., its own: key.depth + 1 */
	struct listing list; /* ARRIVED: what the rank read */
	size_t bytes;        /* ARRIVED: charged to the budget */
	char relpath[];      /* from the root, "" for the root */
};

struct broker {
	struct broker_config c;
	struct walk_source source; /* what the walker calls */
	pthread_mutex_t lock;
	pthread_cond_t changed;     /* a SENT directory came back, or closed */
	struct known_dir **buckets; /* hash table by relpath */
	size_t nbuckets, count;     /* a power of two; directories in it */
	struct known_dir **heap;    /* KNOWN directories, smallest key on top */
	size_t heap_len, heap_cap;
	struct known_dir *held; /* ARRIVED directories, a list */
	size_t used;            /* bytes of held listings */
	struct walk_key passed; /* the key of the last directory the walker took */
	int *in_flight;         /* by rank: directories sent and not answered */
	int closed;             /* hand out nothing more, nobody waits */
	int walk_started;       /* the walker has called us once */
	uint64_t cpu_start_ns;  /* its thread's CPU time then */
};

/* The reply of a lister, followed by the path (with its NUL) and the packed listing. */
struct reply_head {
	uint32_t ok;       /* 0: it could not be read */
	uint32_t path_len; /* strlen of the path */
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

/* Take d out of the table (and the held list); freed unless the heap still has it. */
static void forget(struct broker *b, struct known_dir *d)
{
	struct known_dir **p = &b->buckets[hash_path(d->relpath) & (b->nbuckets - 1)];

	while (*p != d)
		p = &(*p)->next;
	*p = d->next;
	b->count--;
	d->in_table = 0;
	if (d->state == ARRIVED) {
		for (p = &b->held; *p != d; p = &(*p)->held)
			;
		*p = d->held;
		b->used -= d->bytes;
	}
	if (!d->in_heap)
		free_dir(d);
}

static int heap_less(const struct broker *b, size_t i, size_t j)
{
	return walk_key_compare(&b->heap[i]->key, &b->heap[j]->key) < 0;
}

static void heap_swap(struct broker *b, size_t i, size_t j)
{
	struct known_dir *t = b->heap[i];

	b->heap[i] = b->heap[j];
	b->heap[j] = t;
}

static void heap_push(struct broker *b, struct known_dir *d)
{
	size_t i = b->heap_len++;

	if (b->heap_len > b->heap_cap) {
		b->heap_cap = b->heap_cap ? 2 * b->heap_cap : 256;
		b->heap = xrealloc(b->heap, b->heap_cap * sizeof(*b->heap));
	}
	b->heap[i] = d;
	d->in_heap = 1;
	for (; i > 0 && heap_less(b, i, (i - 1) / 2); i = (i - 1) / 2)
		heap_swap(b, i, (i - 1) / 2);
}

/* The directory with the smallest key, out of the heap (which must not be empty). */
static struct known_dir *heap_pop(struct broker *b)
{
	struct known_dir *top = b->heap[0];
	size_t i = 0;

	b->heap[0] = b->heap[--b->heap_len];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < b->heap_len && heap_less(b, l, m))
			m = l;
		if (r < b->heap_len && heap_less(b, r, m))
			m = r;
		if (m == i)
			break;
		heap_swap(b, i, m);
		i = m;
	}
	top->in_heap = 0;
	return top;
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
	heap_push(b, d);
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
 */
static void learn_children(struct broker *b, const struct known_dir *d,
			   const struct lookahead_list *names, const struct listing_stat *stats)
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
	while (!b->closed && b->in_flight[rank] < LIST_WINDOW && n < LIST_BATCH &&
	       b->used < LISTING_BUDGET && b->heap_len > 0) {
		struct known_dir *d = heap_pop(b);
		size_t plen = strlen(d->relpath) + 1;

		if (!d->in_table) { /* forgotten while it waited here */
			free_dir(d);
			continue;
		}
		if (d->state != KNOWN) /* the walker read it itself */
			continue;
		if (passed(b, d)) {
			forget(b, d);
			continue;
		}
		d->state = SENT;
		batch = xrealloc(batch, *len + plen);
		memcpy(batch + *len, d->relpath, plen);
		*len += plen;
		b->in_flight[rank]++;
		n++;
	}
	pthread_mutex_unlock(&b->lock);
	return batch;
}

void broker_arrived(struct broker *b, int rank, const char *msg, size_t len)
{
	struct reply_head head;
	struct listing l;
	struct known_dir *d;
	const char *path;
	int ok;

	if (len < sizeof(head) + 1)
		return;
	memcpy(&head, msg, sizeof(head));
	if (head.path_len > len - sizeof(head) - 1 || msg[sizeof(head) + head.path_len] != '\0')
		return;
	path = msg + sizeof(head);
	ok = head.ok && listing_unpack(path + head.path_len + 1,
				       len - sizeof(head) - head.path_len - 1, &l) == 0;
	pthread_mutex_lock(&b->lock);
	b->in_flight[rank]--;
	d = find(b, path);
	if (d != NULL && d->state == SENT && passed(b, d)) {
		forget(b, d);
	} else if (d != NULL && d->state == SENT) {
		d->state = SELF; /* unless it came, the walker reads it */
		if (ok) {
			learn_children(b, d, &l.names, l.stats);
			d->state = ARRIVED;
			d->list = l;
			listing_init(&l);
			d->bytes = listing_bytes(&d->list);
			b->used += d->bytes;
			d->held = b->held;
			b->held = d;
		}
		pthread_cond_broadcast(&b->changed);
	}
	pthread_mutex_unlock(&b->lock);
	if (ok)
		listing_free(&l);
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

/* Drop the held listings of the directories the walker has passed. */
static void drop_passed(struct broker *b)
{
	struct known_dir *d = b->held;

	while (d != NULL) {
		struct known_dir *next = d->held;

		if (passed(b, d))
			forget(b, d);
		d = next;
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
			learn_children(b, d, names, NULL);
		forget(b, d);
	}
	pthread_mutex_unlock(&b->lock);
}

/* Forget every directory (the walk is over, or the broker is freed). */
static void forget_all(struct broker *b)
{
	for (size_t i = 0; i < b->nbuckets; i++)
		while (b->buckets[i] != NULL)
			forget(b, b->buckets[i]); /* frees those not in the heap */
	for (size_t i = 0; i < b->heap_len; i++)
		free_dir(b->heap[i]); /* none of these is in the table now */
	b->heap_len = 0;
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
	free(b->heap);
	free(b->in_flight);
	walk_key_free(&b->passed);
	pthread_cond_destroy(&b->changed);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* --- the lister (ranks > 0) --- */

/* Read the open directory fd as the walker would: names, and stats where it would stat. */
static int read_listing(int fd, const struct walk_options *o, char *dirbuf, struct listing *l)
{
	int flags = o->follow ? 0 : AT_SYMLINK_NOFOLLOW;
	struct dirstream d;
	const char *name;
	unsigned char type;
	struct stat st;
	int rc;

	dirstream_start(&d, fd, dirbuf);
	while ((rc = dirstream_next(&d, &type, &name)) > 0) {
		if (walk_type_is_enough(o, type))
			listing_add(l, type, name, NULL, LISTING_NOT_STATED);
		else if (fstatat(fd, name, &st, flags) == 0)
			listing_add(l, type, name, &st, 0);
		else
			listing_add(l, type, name, NULL, errno);
	}
	return rc;
}

char *lister_read(int root, const struct walk_options *o, const char *relpath, char *dirbuf,
		  size_t *len, int64_t *entries)
{
	struct reply_head head = { 0, (uint32_t)strlen(relpath) };
	int fd = open_beneath(root, relpath, O_RDONLY | O_DIRECTORY | O_NOCTTY, 0, o->follow);
	size_t packed_len = 0;
	char *packed = NULL, *msg;
	struct listing l;

	listing_init(&l);
	*entries = -1;
	/* Whatever fails, the walker reads it itself and reports it as always. */
	if (fd >= 0 && read_listing(fd, o, dirbuf, &l) == 0) {
		head.ok = 1;
		packed = listing_pack(&l, &packed_len);
		*entries = (int64_t)l.count;
	}
	if (fd >= 0)
		close(fd);
	*len = sizeof(head) + head.path_len + 1 + packed_len;
	msg = xmalloc(*len);
	memcpy(msg, &head, sizeof(head));
	memcpy(msg + sizeof(head), relpath, head.path_len + 1);
	if (packed_len > 0)
		memcpy(msg + sizeof(head) + head.path_len + 1, packed, packed_len);
	free(packed);
	listing_free(&l);
	return msg;
}
