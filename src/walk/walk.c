/*
 * walk.c - the tree walker.  Each directory is read in one pass, visiting
 * its non-directory entries at once and remembering its subdirectories; the
 * directory is closed before any subdirectory is entered.  That bounds the
 * fds to one (trees deeper than the fd limit still copy) at the price of a
 * path lookup per directory, and it gives the copier a useful order: every
 * directory is made before anything inside it is queued.
 */
#include "walk/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/dirstream.h"
#include "base/path.h"
#include "base/strlist.h"
#include "base/util.h"
#include "core/job.h"
#include "walk/files_from.h"
#include "walk/filter.h"
#include "walk/listing.h"
#include "walk/lookahead.h"
#include "walk/nameset.h"

/* A directory's identity, to notice cycles when following links. */
struct dir_id {
	dev_t dev;
	ino_t ino;
};

/* Walk-wide state. */
struct walk {
	const struct walk_options *o;
	const struct walk_visitor *v;
	int root;                 /* fd of the root directory */
	dev_t root_dev;           /* for one_file_system */
	struct pathbuf path;      /* relpath of the directory being walked */
	struct dir_id *ancestors; /* with follow: the directories above us */
	size_t depth;             /* entries used in ancestors */
	size_t ancestors_cap;     /* entries allocated */
	uint64_t dir_seq;         /* directories read so far (lookahead.h) */
	char *dirbuf;             /* for the one directory being read (dirstream.h) */
};

/* Subdirectories of one directory, to visit after it is closed. */
struct subdirs {
	struct strlist names;
	struct dir_id *ids;
	size_t cap;
};

static int stopped(const struct walk *w)
{
	return w->o->stop != NULL && atomic_load(w->o->stop);
}

static int is_ancestor(const struct walk *w, const struct stat *st)
{
	for (size_t i = 0; i < w->depth; i++)
		if (w->ancestors[i].dev == st->st_dev && w->ancestors[i].ino == st->st_ino)
			return 1;
	return 0;
}

static void subdirs_add(struct subdirs *sd, const char *name, const struct stat *st)
{
	size_t i = strlist_add(&sd->names, name);

	if (i == sd->cap) {
		sd->cap = sd->cap ? sd->cap * 2 : 16;
		sd->ids = xrealloc(sd->ids, sd->cap * sizeof(*sd->ids));
	}
	sd->ids[i].dev = st->st_dev;
	sd->ids[i].ino = st->st_ino;
}

/* A directory entry: tell the visitor, queue it for descent.  0 or -1. */
static int visit_directory(struct walk *w, struct walk_entry *e, struct subdirs *sd)
{
	int descend = !(w->o->one_file_system && e->st->st_dev != w->root_dev);
	int rc;

	if (w->o->follow && is_ancestor(w, e->st)) {
		w->v->error(w->v->ctx, e->relpath, WALK_CYCLE);
		return 0;
	}
	rc = w->v->directory(w->v->ctx, e, descend);
	if (rc < 0)
		return -1;
	if (rc > 0 && descend)
		subdirs_add(sd, e->name, e->st);
	return 0;
}

int walk_type_is_enough(const struct walk_options *o, unsigned char d_type)
{
	if (o->lazy_regular && d_type == DT_REG)
		return 1;
	return o->names_only && d_type != DT_UNKNOWN && d_type != DT_DIR &&
	       !(d_type == DT_LNK && o->follow);
}

/* Is the entry at w->path excluded by the filter? */
static int excluded(const struct walk *w, int is_dir)
{
	return w->o->filter != NULL && filter_excluded(w->o->filter, w->path.data, is_dir);
}

/*
 * Stat the entry e (unless the stat is `given`: read for us, or d_type is
 * enough) and hand it to the visitor, first asking the filter unless the
 * caller did (`filtered`).  0 or -1.
 */
static int visit_stat(struct walk *w, struct walk_entry *e, unsigned char d_type, int filtered,
		      const struct stat *given, struct subdirs *sd)
{
	int flags = w->o->follow ? 0 : AT_SYMLINK_NOFOLLOW;
	struct stat st;

	e->st = &st;
	if (given == NULL && walk_type_is_enough(w->o, d_type)) {
		memset(&st, 0, sizeof(st));
		st.st_mode = DTTOIF(d_type);
		e->typed_only = 1;
		return w->v->entry(w->v->ctx, e);
	}
	if (given != NULL) {
		st = *given;
	} else if (fstatat(e->dirfd, e->name, &st, flags) < 0) {
		int err = errno;

		if (!filtered && excluded(w, 0))
			return 0;
		/* ENOENT: gone since readdir, nothing to copy -- unless it is a
		 * dangling link we were asked to follow (-L), which cp reports. */
		if (err != ENOENT ||
		    (w->o->follow && fstatat(e->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0))
			w->v->error(w->v->ctx, e->relpath, err);
		else if (w->v->vanished != NULL)
			w->v->vanished(w->v->ctx, e->relpath, 0);
		return 0;
	}
	if (!filtered && excluded(w, S_ISDIR(st.st_mode)))
		return 0;
	if (S_ISDIR(st.st_mode))
		return visit_directory(w, e, sd);
	return w->v->entry(w->v->ctx, e);
}

/*
 * An entry of a remote source (root -1) whose stat failed there with
 * `err`: vanished, or an error, as for a local one (a cycle under -L
 * too).  One not stat'ed there (LISTING_NOT_STATED) was excluded there,
 * and is here.  0.
 */
static int visit_unstated_remote(struct walk *w, int err)
{
	if (err == LISTING_NOT_STATED || excluded(w, 0))
		return 0;
	if (err == LISTING_CYCLE)
		err = WALK_CYCLE;
	if (err == ENOENT && w->v->vanished != NULL)
		w->v->vanished(w->v->ctx, w->path.data, 0);
	else if (err != ENOENT)
		w->v->error(w->v->ctx, w->path.data, err);
	return 0;
}

/*
 * Visit one name read from the directory fd.  0 or -1 (stop).  When
 * d_type tells a directory from the rest, an excluded entry is dropped
 * before any stat: an excluded directory costs nothing and is never
 * entered, whatever would match inside it (as in rsync).
 */
static int visit_name(struct walk *w, int fd, unsigned char d_type, const char *name,
		      const struct listing_stat *given, const struct src_meta *meta,
		      struct subdirs *sd)
{
	int typed = d_type != DT_UNKNOWN && !(d_type == DT_LNK && w->o->follow);
	int stated = given != NULL && (given->err == 0 || given->err == LISTING_UNCHANGED);
	struct walk_entry e = { .dirfd = fd,
				.name = name,
				.unchanged = stated && given->err == LISTING_UNCHANGED,
				.meta = meta };
	size_t old;
	int rc = 0;

	old = pathbuf_push(&w->path, name);
	e.relpath = w->path.data;
	if (typed && excluded(w, d_type == DT_DIR))
		; /* dropped before any stat */
	else if (w->root < 0 && !stated)
		rc = visit_unstated_remote(w, given != NULL ? given->err : EPROTO);
	else
		rc = visit_stat(w, &e, d_type, typed, stated ? &given->st : NULL, sd);
	pathbuf_trim(&w->path, old);
	return rc;
}

/*
 * Visit the names of a listing the scan kept, or someone read for us with
 * `stats` (one per name; those without a usable stat we make ourselves,
 * so that errors are reported as always).  0 or -1.
 */
static int visit_listing(struct walk *w, int fd, const struct lookahead_list *l,
			 const struct listing *given, struct subdirs *sd)
{
	const char *name;
	unsigned char d_type;
	size_t pos = 0;

	for (size_t i = 0; lookahead_list_next(l, &pos, &d_type, &name); i++) {
		const struct listing_stat *st = given != NULL ? &given->stats[i] : NULL;
		struct src_meta meta, *m = NULL;
		const unsigned char *packed;
		size_t len;

		if (given != NULL && (packed = listing_meta_of(given, i, &len)) != NULL) {
			m = &meta;
			if (src_meta_unpack(packed, len, m) < 0) /* checked by whoever took it */
				return -1;
		}
		if (stopped(w) || visit_name(w, fd, d_type, name, st, m, sd) < 0)
			return -1;
	}
	return 0;
}

/*
 * The directory w->path could not be read.  ENOENT: it is gone since its
 * parent was listed (or, read after rmdir, the kernel says so): vanished.
 */
static void report_unreadable(const struct walk *w, int err)
{
	if (err == ENOENT && w->v->vanished != NULL)
		w->v->vanished(w->v->ctx, w->path.data, 1);
	else
		w->v->error(w->v->ctx, w->path.data, err);
}

/* Does anyone want the names of the directories we read (pass_on)? */
static int passing_on(const struct walk *w)
{
	return (w->o->lookahead != NULL && w->o->lookahead_produce) || w->o->source != NULL;
}

/* Tell the source (if any) the names in w->path, read by us or by the scan; NULL: none. */
static void tell_source(const struct walk *w, const struct lookahead_list *names)
{
	if (w->o->source != NULL)
		w->o->source->read_itself(w->o->source->ctx, w->path.data, names);
}

/*
 * We read w->path ourselves: offer its listing to the other walk when we
 * produce (only a `complete` one is worth it), and tell the source its
 * names.  Frees l->data.
 */
static void pass_on(struct walk *w, struct lookahead_list *l, int complete)
{
	tell_source(w, l);
	if (complete && w->o->lookahead != NULL && w->o->lookahead_produce)
		lookahead_offer(w->o->lookahead, w->dir_seq, w->path.data, l);
	free(l->data);
	l->data = NULL;
}

/* Visit the names readdir gives, passing them on when asked.  0 or -1. */
static int visit_readdir(struct walk *w, struct dirstream *d, struct subdirs *sd)
{
	struct lookahead_list l = { NULL, 0, 0 };
	int keep = passing_on(w);
	const char *name;
	unsigned char type;
	int rc;

	while ((rc = dirstream_next(d, &type, &name)) > 0) {
		if (keep)
			lookahead_list_add(&l, type, name);
		if (stopped(w) || visit_name(w, d->fd, type, name, NULL, NULL, sd) < 0) {
			free(l.data);
			return -1;
		}
	}
	if (rc < 0)
		report_unreadable(w, errno);
	pass_on(w, &l, rc == 0);
	return 0;
}

/* Tell the visitor (if it asked) of the listing of w->path.  0 or -1. */
static int announce_listing(struct walk *w, int fd, const struct lookahead_list *l, int complete)
{
	struct walk_listing wl = { fd, w->path.data, l, complete };

	return w->v->listed != NULL ? w->v->listed(w->v->ctx, &wl) : 0;
}

/*
 * With a `listed` visitor: read the whole directory first, tell the
 * visitor, then visit the names (those read before an error too).  0 or -1.
 */
static int read_then_visit(struct walk *w, struct dirstream *d, struct subdirs *sd)
{
	struct lookahead_list l = { NULL, 0, 0 };
	int complete = 1;
	const char *name;
	unsigned char type;
	int rc;

	while ((rc = dirstream_next(d, &type, &name)) > 0)
		lookahead_list_add(&l, type, name);
	if (rc < 0) {
		w->v->error(w->v->ctx, w->path.data, errno);
		complete = 0;
	}
	rc = announce_listing(w, d->fd, &l, complete);
	if (rc == 0)
		rc = visit_listing(w, d->fd, &l, NULL, sd);
	if (rc == 0)
		pass_on(w, &l, complete);
	free(l.data);
	return rc;
}

/* Visit a listing read for us (from the source, or the scan's).  0 or -1. */
static int visit_given(struct walk *w, int fd, const struct lookahead_list *l,
		       const struct listing *given, struct subdirs *sd)
{
	int rc = announce_listing(w, fd, l, 1);

	return rc == 0 ? visit_listing(w, fd, l, given, sd) : rc;
}

/*
 * --files-from with a source on another machine (root -1), which walks
 * all of its tree and lists what the list covers: the listed paths in the
 * directory w->path that its listing `given` lacks are reported as a local
 * walk reports a listed path it cannot reach, each by its own path:
 * ENOENT, or ENOTDIR below a name that is not a directory.  A name the
 * rules exclude is not listed there, so it is not looked for.
 */
static void report_unlisted(struct walk *w, const struct listing *given)
{
	const struct filter *f = w->o->filter;
	const struct files_from *l = f != NULL ? f->list : NULL;
	size_t skip = w->path.len > 0 ? w->path.len + 1 : 0, i;
	char *dir = w->path.data;
	struct nameset names;

	if (l == NULL || (i = files_from_first_inside(l, dir)) == l->count)
		return;
	nameset_init(&names);
	nameset_build(&names, &given->names);
	for (const char *covered = NULL; i < l->count && files_from_inside(l->paths[i], dir); i++) {
		const char *path = l->paths[i];
		size_t len = strcspn(path + skip, "/");
		int deeper = path[skip + len] == '/';
		unsigned char type;
		char *child;

		if (covered != NULL && files_from_inside(path, covered))
			continue; /* inside a listed path: not looked for (walk_listed) */
		covered = path;
		child = xstrdup(path); /* dir/name */
		child[skip + len] = '\0';
		if (!nameset_find(&names, child + skip, &type)) {
			if (!filter_rules_exclude(f, child, deeper))
				w->v->error(w->v->ctx, path, ENOENT);
		} else if (deeper && type != DT_DIR && type != DT_UNKNOWN &&
			   !(type == DT_LNK && w->o->follow)) {
			w->v->error(w->v->ctx, path, ENOTDIR);
		}
		free(child);
	}
	nameset_free(&names);
}

/* Has the source read the open directory w->path for us?  0 or -1 if so, else 1. */
static int take_from_source(struct walk *w, int fd, struct subdirs *sd)
{
	const struct walk_source *src = w->o->source;
	struct listing given;
	int rc;

	if (src == NULL || !src->take(src->ctx, w->path.data, &given))
		return 1;
	if (fd < 0)
		report_unlisted(w, &given);
	rc = visit_given(w, fd, &given.names, &given, sd);
	listing_free(&given);
	return rc;
}

/*
 * Read the directory w->path of a source on another machine (root -1):
 * take its listing from the source, or report why it could not be read
 * there.  0 or -1.
 */
static int read_remote_directory(struct walk *w, struct subdirs *sd)
{
	int rc = take_from_source(w, -1, sd);

	if (rc <= 0)
		return rc;
	if (errno == ECANCELED) /* the source gave up (and said why): the walk ends */
		return -1;
	report_unreadable(w, errno);
	return announce_listing(w, -1, NULL, 0);
}

/*
 * Read the directory w->path (directory number w->dir_seq of the walk), or
 * take its listing from the source or the scan; fill sd with its
 * subdirectories.  0 or -1.
 */
static int read_directory(struct walk *w, struct subdirs *sd)
{
	int fd;
	struct lookahead_list l = { NULL, 0, 0 };
	struct dirstream d;
	int rc;

	if (w->root < 0)
		return read_remote_directory(w, sd);
	fd = open_beneath(w->root, w->path.data, O_RDONLY | O_DIRECTORY | O_NOCTTY, 0,
			  w->o->follow);
	if (fd >= 0 && (rc = take_from_source(w, fd, sd)) <= 0) {
		close(fd);
		return rc;
	}
	if (fd >= 0 && w->o->lookahead != NULL && !w->o->lookahead_produce &&
	    lookahead_take(w->o->lookahead, w->dir_seq, w->path.data, &l)) {
		/* The scan read it for us: the source learns what is inside all the same. */
		tell_source(w, &l);
		rc = visit_given(w, fd, &l, NULL, sd);
		free(l.data);
		close(fd);
		return rc;
	}
	if (fd < 0) {
		report_unreadable(w, errno);
		tell_source(w, NULL);
		return announce_listing(w, -1, NULL, 0);
	}
	dirstream_start(&d, fd, w->dirbuf);
	if (w->v->listed != NULL)
		rc = read_then_visit(w, &d, sd);
	else
		rc = visit_readdir(w, &d, sd);
	close(fd);
	return rc;
}

static void push_ancestor(struct walk *w, dev_t dev, ino_t ino)
{
	if (w->depth == w->ancestors_cap) {
		w->ancestors_cap = w->ancestors_cap ? w->ancestors_cap * 2 : 32;
		w->ancestors = xrealloc(w->ancestors, w->ancestors_cap * sizeof(*w->ancestors));
	}
	w->ancestors[w->depth].dev = dev;
	w->ancestors[w->depth].ino = ino;
	w->depth++;
}

static int walk_dir(struct walk *w);

/* Walk each of sd's directories (in w->path) and everything below it.  0 or -1. */
static int walk_subdirs(struct walk *w, const struct subdirs *sd)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sd->names.count; i++) {
		size_t old = pathbuf_push(&w->path, strlist_get(&sd->names, i));

		if (w->o->follow)
			push_ancestor(w, sd->ids[i].dev, sd->ids[i].ino);
		rc = stopped(w) ? -1 : walk_dir(w);
		if (w->o->follow)
			w->depth--;
		pathbuf_trim(&w->path, old);
	}
	return rc;
}

/* Walk the directory w->path and everything below it.  0 or -1. */
static int walk_dir(struct walk *w)
{
	struct subdirs sd = { .ids = NULL, .cap = 0 };
	int rc;

	strlist_init(&sd.names);
	rc = read_directory(w, &sd);
	w->dir_seq++;
	if (w->v->dir_done != NULL)
		w->v->dir_done(w->v->ctx);
	if (rc == 0)
		rc = walk_subdirs(w, &sd);
	strlist_free(&sd.names);
	free(sd.ids);
	return rc;
}

/*
 * --files-from: visit the directory w->path, which leads to the listed
 * `path`, without entering it.  1 when path can be visited, 0 when it
 * cannot (reported under path's name), -1 to stop.
 */
static int visit_parent(struct walk *w, const char *path)
{
	struct walk_entry e = { .name = path_basename(w->path.data), .relpath = w->path.data };
	int flags = w->o->follow ? 0 : AT_SYMLINK_NOFOLLOW;
	struct stat st;
	int rc = 0;

	e.dirfd = open_parent_beneath(w->root, w->path.data, w->o->follow);
	e.st = &st;
	if (e.dirfd < 0 || fstatat(e.dirfd, e.name, &st, flags) < 0)
		w->v->error(w->v->ctx, path, errno);
	else if (!S_ISDIR(st.st_mode))
		w->v->error(w->v->ctx, path, ENOTDIR);
	else
		rc = w->v->directory(w->v->ctx, &e, 1);
	if (e.dirfd >= 0)
		close(e.dirfd);
	return rc;
}

/*
 * --files-from: visit the directories leading to `path` that were not on
 * the way to the path before (`done`, which then becomes this path's
 * directory).  1 when path can be visited, 0 when not, -1 to stop.
 */
static int visit_parents(struct walk *w, const char *path, struct pathbuf *done)
{
	size_t dirlen = path_dirlen(path);
	int rc = 1;

	for (size_t end = 0; rc > 0 && end < dirlen; end++) {
		if (path[end + 1] != '/' && end + 1 != dirlen)
			continue;
		pathbuf_set(&w->path, path, end + 1);
		if (!files_from_inside(done->data, w->path.data) &&
		    strcmp(done->data, w->path.data) != 0)
			rc = visit_parent(w, path);
	}
	pathbuf_set(done, path, rc > 0 ? dirlen : 0);
	return rc;
}

/* --files-from: visit one listed path, and all below it if a directory.  0 or -1. */
static int visit_listed(struct walk *w, const char *path)
{
	struct subdirs sd = { .ids = NULL, .cap = 0 };
	size_t dirlen = path_dirlen(path);
	int fd = open_parent_beneath(w->root, path, w->o->follow);
	struct stat st;
	int rc = 0;

	pathbuf_set(&w->path, path, dirlen);
	strlist_init(&sd.names);
	/* The walk takes a vanished entry for no entry; a listed one is missed. */
	if (fd < 0 || fstatat(fd, path_basename(path), &st, AT_SYMLINK_NOFOLLOW) < 0)
		w->v->error(w->v->ctx, path, errno);
	else
		rc = visit_name(w, fd, DT_UNKNOWN, path_basename(path), NULL, NULL, &sd);
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		rc = walk_subdirs(w, &sd);
	strlist_free(&sd.names);
	free(sd.ids);
	return rc;
}

/* --files-from: each listed path, after the directories that lead to it.  0 or -1. */
static int walk_listed(struct walk *w)
{
	const struct files_from *l = w->o->files;
	const char *covered = NULL; /* the last path visited, with all inside it */
	struct pathbuf done;        /* directories visited on the way to it */
	int rc = 0;

	pathbuf_init(&done);
	for (size_t i = 0; rc == 0 && i < l->count; i++) {
		const char *path = l->paths[i];

		if (covered != NULL && files_from_inside(path, covered))
			continue;
		covered = path;
		if (*path == '\0') {
			pathbuf_set(&w->path, "", 0);
			rc = walk_dir(w);
			continue;
		}
		rc = stopped(w) ? -1 : visit_parents(w, path, &done);
		if (rc > 0)
			rc = visit_listed(w, path);
		else if (rc == 0)
			covered = NULL;
	}
	pathbuf_free(&done);
	return rc;
}

int walk_tree(int root, const struct walk_options *o, const struct walk_visitor *v)
{
	struct walk w = { .o = o, .v = v, .root = root };
	struct stat st;
	int rc;

	if (root < 0 && o->root_st != NULL && o->source != NULL && o->files == NULL)
		st = *o->root_st;
	else if (fstat(root, &st) < 0)
		return -1;
	w.root_dev = st.st_dev;
	pathbuf_init(&w.path);
	w.dirbuf = dirstream_buffer();
	if (o->follow)
		push_ancestor(&w, st.st_dev, st.st_ino);
	rc = o->files != NULL ? walk_listed(&w) : walk_dir(&w);
	if (o->source != NULL)
		o->source->finished(o->source->ctx);
	pathbuf_free(&w.path);
	free(w.dirbuf);
	free(w.ancestors);
	return rc;
}
