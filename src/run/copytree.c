/*
 * copytree.c - the parent's part of copying a tree: the walk visitor, the
 * deferred hard links and the directory metadata pass.
 */
#include "run/copytree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/inode_table.h"
#include "base/path.h"
#include "base/strlist.h"
#include "base/util.h"
#include "copy/copy.h"
#include "copy/durable.h"
#include "copy/meta.h"
#include "copy/xattr.h"
#include "core/queue.h"
#include "report/change.h"
#include "report/message.h"
#include "run/spill.h"
#include "run/worker.h"
#include "sync/delete.h"
#include "sync/entry.h"
#include "sync/plan.h"
#include "sync/update.h"
#include "walk/walk.h"

/* The inode a deferred hard link is a name of. */
struct inode_id {
	uint64_t dev; /* device */
	uint64_t ino; /* inode */
	mode_t mode;  /* its type, for -i */
};

/* State of one tree's copy, from copytree_start to copytree_finish. */
struct copytree {
	const struct session *s;
	struct worker self;            /* the parent as a worker: inline copies, links */
	struct strlist dirs;           /* directories made, in walk order (parents first) */
	unsigned char *dir_flags;      /* per directory: dst.h's enum dst_dir_flags */
	size_t dir_flags_cap;          /* entries allocated in dir_flags */
	struct strlist gone_dirs;      /* directories reported vanished by the walk */
	struct inode_table inodes;     /* first path of each multiply-linked inode */
	struct strlist links;          /* deferred hard links: target, link, target, ... */
	struct inode_id *link_ids;     /* the inode of each deferred link */
	size_t link_ids_cap;           /* entries allocated in link_ids */
	struct job job;                /* record being filled for the queue */
	uint64_t unstated;             /* JOB_UNSTATED records queued: the next one's seq */
	struct inode_table dry_copied; /* dry run: multiply-linked files it would copy */
	struct deleter deleter;        /* --delete: what SRC lacks goes, per directory */
	/* A remote source: each directory's stat and src_meta there, for the
	   metadata pass (a local one is read again then). */
	struct remote_dir *remote_dirs; /* one per dirs entry */
	unsigned char *remote_meta;     /* their packed src_metas (core/job.h) */
	size_t remote_meta_len, remote_meta_cap;
};

/* What the metadata pass needs of a remote source's directory. */
struct remote_dir {
	struct entry_stat st;
	uint32_t meta_at, meta_len;
};

/* Is the source on another machine (core/session.h)? */
static int remote(const struct copytree *ct)
{
	return ct->s->remote != NULL;
}

/*
 * Dry run: what DST has at relpath, in *st, or NULL when nothing is there
 * (or DST itself does not exist yet).  Its directory is left entered for
 * what follows, which is usually its sibling.
 */
static const struct stat *dry_run_dst_stat(struct copytree *ct, const char *relpath,
					   struct stat *st)
{
	struct dst *d = ct->self.dst;

	if (delete_made_way(&ct->deleter, relpath) ||
	    dst_enter(d, relpath, path_dirlen(relpath)) < 0 ||
	    dst_lstat(d, 0, path_basename(relpath), st) < 0)
		return NULL;
	return st;
}

/* A second name of an inode already seen?  Then remember the link. */
static int defer_hard_link(struct copytree *ct, const char *relpath, const struct entry_stat *es)
{
	const char *first;

	if (!(ct->s->opts->preserve & PRESERVE_LINKS) || es->nlink < 2)
		return 0;
	first = inode_table_check(&ct->inodes, es->dev, es->ino, relpath);
	if (first == NULL)
		return 0;
	if (ct->links.count / 2 == ct->link_ids_cap) {
		ct->link_ids_cap = ct->link_ids_cap ? 2 * ct->link_ids_cap : 64;
		ct->link_ids = xrealloc(ct->link_ids, ct->link_ids_cap * sizeof(*ct->link_ids));
	}
	ct->link_ids[ct->links.count / 2].dev = es->dev;
	ct->link_ids[ct->links.count / 2].ino = es->ino;
	ct->link_ids[ct->links.count / 2].mode = es->mode & S_IFMT;
	strlist_add(&ct->links, first);
	strlist_add(&ct->links, relpath);
	return 1;
}

/*
 * Dry run: what the deferred hard link just recorded needs, as
 * make_hard_links will see it.  With --update, a name that exists is left
 * alone under none, and under the other modes when it already is the same
 * file as its target's copy.
 */
static enum plan_action link_action(struct copytree *ct, const struct stat *dst)
{
	const char *target = strlist_get(&ct->links, ct->links.count - 2);
	struct dst *d = ct->self.dst;
	struct stat st;

	if (dst == NULL || ct->s->opts->update == UPDATE_ALL)
		return PLAN_COPY;
	if (ct->s->opts->update == UPDATE_NONE)
		return PLAN_SKIP;
	/* A target copied anew is a new file: every link to it is made again. */
	if (inode_table_find(&ct->dry_copied, ct->link_ids[ct->links.count / 2 - 1].dev,
			     ct->link_ids[ct->links.count / 2 - 1].ino) != NULL)
		return PLAN_COPY;
	if (dst_enter(d, target, path_dirlen(target)) == 0 &&
	    dst_lstat(d, 0, path_basename(target), &st) == 0 && st.st_dev == dst->st_dev &&
	    st.st_ino == dst->st_ino)
		return PLAN_SKIP;
	return PLAN_COPY;
}

/*
 * Dry run: decide as the real run would (update.h, plan.h), then report,
 * print and count what it would do; touch nothing.
 */
static void dry_run_visit(struct copytree *ct, const struct walk_entry *e, int is_link)
{
	struct worker_slot *slot = parent_slot(ct->s);
	enum job_kind kind = kind_of_mode(e->st->st_mode);
	struct entry_stat es;
	struct stat st;
	const struct stat *dst = dry_run_dst_stat(ct, e->relpath, &st);
	enum plan_action action = is_link ? link_action(ct, dst) : PLAN_COPY;
	const char *why = NULL;

	entry_stat_from(&es, e->st);
	if (!is_link && update_looks_first(ct->s)) {
		struct src_entry src = { .dir = e->dirfd,
					 .name = e->name,
					 .fd = -1,
					 .follow = ct->s->opts->dereference,
					 .st = &es,
					 .meta = e->meta };
		int tree;

		/* What dry_run_dst_stat entered, or (nothing there) for the --link-dest DIRs. */
		(void)dst_enter(ct->self.dst, e->relpath, path_dirlen(e->relpath));
		action = update_decide(ct->s, ct->self.dst, &src, e->name, dst, &tree);
	}
	if (action == PLAN_COPY || action == PLAN_LINK)
		why = plan_replace_conflict(e->st->st_mode, dst);
	if (why != NULL) {
		report_dst_error(ct->s, slot, e->relpath, 0, why);
	} else if (is_link && action != PLAN_SKIP) {
		atomic_fetch_add(&slot->hardlinks, 1);
		report_change(ct->s, slot, CHANGE_HARDLINK, es.mode, e->relpath);
	} else {
		/* A new inode in DST (copied or linked): its other names are linked again. */
		if ((action == PLAN_COPY || action == PLAN_LINK || action == PLAN_REWRITE) &&
		    e->st->st_nlink > 1)
			(void)inode_table_check(&ct->dry_copied, es.dev, es.ino, e->relpath);
		worker_report_planned(ct->s, slot, action, &es, dst ? dst->st_mode : 0, e->relpath);
	}
	if (is_link)
		atomic_fetch_add(&slot->entries_done, 1);
	else
		worker_count_done(slot, kind, &es, why != NULL ? PLAN_COPY : action);
}

static void visit_error(void *arg, const char *relpath, int err)
{
	struct copytree *ct = arg;

	if (err == WALK_CYCLE)
		report_entry_error(ct->s, parent_slot(ct->s), relpath, 0,
				   "directory cycle, not followed");
	else
		report_entry_error(ct->s, parent_slot(ct->s), relpath, err, NULL);
}

/*
 * An entry the walk listed is gone: a warning.  A directory gone before it
 * was read is remembered, so the metadata pass does not report it again.
 */
static void visit_vanished(void *arg, const char *relpath, int is_dir)
{
	struct copytree *ct = arg;

	if (is_dir)
		strlist_add(&ct->gone_dirs, relpath);
	report_entry_vanished(ct->s, parent_slot(ct->s), relpath);
}

/*
 * Count an entry the walk found (or a worker measured) into the totals;
 * 1 if it is a later name of an inode already met, remembered as a link.
 */
static int count_entry(struct copytree *ct, const char *relpath, const struct entry_stat *es)
{
	struct shared_state *sh = ct->s->shared;

	atomic_fetch_add(&sh->queued_entries, 1);
	if (defer_hard_link(ct, relpath, es))
		return 1;
	if (S_ISREG(es->mode))
		atomic_fetch_add(&sh->queued_bytes, es->size);
	return 0;
}

/*
 * Queue ct->job, kind and stat set, for relpath (len < JOB_PATH_MAX), with
 * what was read of a remote source's entry when meta is not NULL.  0, -1
 * to stop, or 1 when relpath and meta do not fit a record.
 */
static int push_job(struct copytree *ct, const char *relpath, size_t len,
		    const struct src_meta *meta)
{
	size_t meta_len = meta != NULL ? src_meta_size(meta) : 0;

	if (len + 1 + meta_len > JOB_PATH_MAX)
		return 1;
	ct->job.path_len = (uint32_t)len;
	ct->job.meta_len = (uint32_t)meta_len;
	memcpy(ct->job.path, relpath, len + 1);
	if (meta != NULL)
		src_meta_pack(meta, (unsigned char *)ct->job.path + len + 1);
	return queue_push(ct->s->queue, &ct->job) == 0 ? 0 : -1;
}

/*
 * Count an entry, then queue it, unless it is a later name of an inode
 * already queued.  Entries whose path does not fit a record are copied
 * here; a remote source's are refused (its workers read them).  0, or -1
 * to stop.
 */
static int queue_entry(struct copytree *ct, const char *relpath, const struct entry_stat *es,
		       const struct src_meta *meta)
{
	size_t len = strlen(relpath);
	int rc;

	if (count_entry(ct, relpath, es))
		return 0;
	ct->job.kind = kind_of_mode(es->mode);
	ct->job.st = *es;
	rc = push_job(ct, relpath, len, meta);
	if (rc <= 0)
		return rc;
	if (remote(ct)) {
		report_entry_error(ct->s, parent_slot(ct->s), relpath, ENAMETOOLONG, NULL);
		worker_count_done(parent_slot(ct->s), (enum job_kind)ct->job.kind, es, PLAN_COPY);
		return 0;
	}
	/* Too deep for a record: copy it here, beneath the same roots. */
	(void)worker_run(&ct->self, (enum job_kind)ct->job.kind, relpath, es);
	return 0;
}

/* A regular file the walk did not stat: a worker will (JOB_UNSTATED).  0 or -1. */
static int queue_unstated(struct copytree *ct, const char *relpath, size_t len)
{
	ct->job.kind = JOB_UNSTATED;
	ct->job.seq = ct->unstated++;
	memset(&ct->job.st, 0, sizeof(ct->job.st));
	return push_job(ct, relpath, len, NULL);
}

static int visit_entry(void *arg, const struct walk_entry *e)
{
	struct copytree *ct = arg;
	int flags = ct->s->opts->dereference ? 0 : AT_SYMLINK_NOFOLLOW;
	size_t len = strlen(e->relpath);
	struct entry_stat es;
	struct stat st;

	if (e->typed_only) { /* lazy_regular: never in a dry run */
		if (len < JOB_PATH_MAX)
			return queue_unstated(ct, e->relpath, len);
		/* Too deep for a record, so copied here: stat it here too. */
		if (fstatat(e->dirfd, e->name, &st, flags) < 0) {
			if (errno == ENOENT)
				visit_vanished(ct, e->relpath, 0);
			else
				visit_error(ct, e->relpath, errno);
			return 0;
		}
		entry_stat_from(&es, &st);
		return queue_entry(ct, e->relpath, &es, NULL);
	}
	entry_stat_from(&es, e->st);
	if (e->unchanged && S_ISREG(es.mode) && es.nlink == 1 && !ct->s->opts->dry_run) {
		/* A lister found DST's copy up to date: done, as a worker would be. */
		struct worker_slot *slot = parent_slot(ct->s);

		(void)count_entry(ct, e->relpath, &es);
		atomic_fetch_add(&slot->unchanged, 1);
		worker_count_done(slot, JOB_REGULAR, &es, PLAN_SKIP);
		return 0;
	}
	if (!ct->s->opts->dry_run)
		return queue_entry(ct, e->relpath, &es, e->meta);
	dry_run_visit(ct, e, count_entry(ct, e->relpath, &es));
	return 0;
}

/*
 * May the ACL of DST's existing directory `dname` (in the directory `d` has
 * entered) grant more than src's?  Only ACLs a copy keeps count
 * (PRESERVE_MODE).  With --update=changed the walk compared the
 * attributes already where they may differ (`attrs_differ`); else they
 * are compared here.
 */
static int acl_may_be_wider(const struct session *s, struct dst *d, const struct src_entry *src,
			    const char *dname, int attrs_differ)
{
	if (!(s->opts->preserve & PRESERVE_MODE))
		return 0;
	if (s->opts->update == UPDATE_CHANGED)
		return attrs_differ;
	return dst_attrs_equal(d, 0, dname, src, XATTR_ACLS) != 1;
}

/*
 * Before anything new is written in DST's existing directory `dname` (in
 * the directory `d` has entered; lstat `before`), narrow it to what both
 * it and its copy of src grant (plan_narrowed_dir), so that nothing new is
 * ever readable through a mode that SRC has since narrowed.  Its own mode
 * is set at the end.  1 if its mode was changed, 0 if it was right, -1
 * with errno.
 */
static int narrow_directory(const struct session *s, struct dst *d, const struct src_entry *src,
			    const char *dname, const struct stat *before, int attrs_differ)
{
	int wider = acl_may_be_wider(s, d, src, dname, attrs_differ);
	struct plan_context pc = plan_of_run(s);
	mode_t mode = plan_narrowed_dir(&pc, before->st_mode, src->st, wider);

	if (mode == (before->st_mode & 07777))
		return 0;
	return dst_chmod_dir(d, dname, mode) < 0 ? -1 : 1;
}

/* Keep a remote source's directory's stat and src_meta for the metadata pass. */
static void remember_remote_dir(struct copytree *ct, struct remote_dir *rd,
				const struct entry_stat *es, const struct src_meta *meta)
{
	size_t len = meta != NULL ? src_meta_size(meta) : 0;

	rd->st = *es;
	rd->meta_at = (uint32_t)ct->remote_meta_len;
	rd->meta_len = (uint32_t)len;
	if (len == 0)
		return;
	if (ct->remote_meta_len + len > ct->remote_meta_cap) {
		ct->remote_meta_cap = 2 * (ct->remote_meta_len + len);
		ct->remote_meta = xrealloc(ct->remote_meta, ct->remote_meta_cap);
	}
	src_meta_pack(meta, ct->remote_meta + ct->remote_meta_len);
	ct->remote_meta_len += len;
}

/*
 * Remember directory `relpath` for the metadata pass, with `flags` (enum
 * dir_flags), and for a remote source its stat `es` and `meta` there.  Whether its attributes differ is decided as the walk meets
 * it: by the end, what was made inside the copy has moved its ctime.
 */
static void remember_directory(struct copytree *ct, const char *relpath, unsigned flags,
			       const struct entry_stat *es, const struct src_meta *meta)
{
	size_t i = strlist_add(&ct->dirs, relpath);

	if (i == ct->dir_flags_cap) {
		ct->dir_flags_cap = ct->dir_flags_cap ? 2 * ct->dir_flags_cap : 64;
		ct->dir_flags = xrealloc(ct->dir_flags, ct->dir_flags_cap);
		if (remote(ct))
			ct->remote_dirs = xrealloc(ct->remote_dirs,
						   ct->dir_flags_cap * sizeof(*ct->remote_dirs));
	}
	ct->dir_flags[i] = (unsigned char)flags;
	if (remote(ct))
		remember_remote_dir(ct, &ct->remote_dirs[i], es, meta);
}

/*
 * A directory made or merged into (or that a dry run would make or merge
 * into), DST having had `before` there, as `e->name` in the directory the
 * parent's handle has entered (NULL for nothing): remember it, count it,
 * tell the change.  One merged into
 * changes only when its metadata will be set: always without --update,
 * else where it differs from SRC's (plan_directory, or its attributes:
 * update_attributes_differ), as it was before the run.  Not in a dry run,
 * one merged into is narrowed before anything is written in it
 * (narrow_directory).  0 when entered, or -1 with errno.
 */
static int note_directory(struct copytree *ct, const struct walk_entry *e,
			  const struct stat *before)
{
	struct plan_context pc = plan_of_run(ct->s);
	struct worker_slot *slot = parent_slot(ct->s);
	int merged = before != NULL && S_ISDIR(before->st_mode);
	int attrs_differ = 0;
	struct entry_stat es;
	struct src_entry src = {
		.dir = e->dirfd, .name = e->name, .fd = -1, .st = &es, .meta = e->meta
	};

	entry_stat_from(&es, e->st);
	if (merged) {
		attrs_differ = update_attributes_differ(ct->s, ct->self.dst, &src, e->name, before);
		if (!ct->s->opts->dry_run) {
			int narrowed = narrow_directory(ct->s, ct->self.dst, &src, e->name, before,
							attrs_differ);

			if (narrowed < 0)
				return -1;
			/* Its mode now differs from DST's before: set it at the end. */
			attrs_differ |= narrowed;
		}
	}
	remember_directory(ct, e->relpath,
			   (attrs_differ ? DST_DIR_ATTRS_DIFFER : 0) |
				   (merged ? DST_DIR_EXISTED : 0),
			   &es, e->meta);
	atomic_fetch_add(&slot->dirs, 1);
	if (!merged)
		report_change(ct->s, slot, change_of_copy(S_IFDIR, before ? before->st_mode : 0),
			      S_IFDIR, e->relpath);
	else if (attrs_differ || plan_directory(&pc, &es, before) == PLAN_FIX_META)
		report_change(ct->s, slot, CHANGE_METADATA, S_IFDIR, e->relpath);
	return 0;
}

static int visit_directory(void *arg, const struct walk_entry *e, int descend)
{
	struct copytree *ct = arg;
	struct worker_slot *slot = parent_slot(ct->s);
	struct stat before;
	int rc = 0;

	(void)descend;
	if (ct->s->opts->dry_run) {
		struct stat st;
		const struct stat *there = dry_run_dst_stat(ct, e->relpath, &st);
		const char *why = plan_replace_conflict(S_IFDIR, there);

		if (why == NULL)
			return note_directory(ct, e, there) == 0;
		report_dst_error(ct->s, slot, e->relpath, 0, why);
		return 0;
	}
	if (worker_open_dirs(&ct->self, e->relpath, path_dirlen(e->relpath)) < 0) {
		if (ct->self.copier.failed_dst)
			report_dst_error(ct->s, slot, e->relpath, errno, NULL);
		else
			report_entry_error(ct->s, slot, e->relpath, errno, NULL);
		return 0;
	}
	rc = dst_mkdir(ct->self.dst, e->name, &before);
	if (rc == 0)
		rc = note_directory(ct, e, before.st_mode != 0 ? &before : NULL);
	if (rc < 0)
		report_dst_error(ct->s, slot, e->relpath, errno,
				 errno == ENOTDIR ? REASON_NONDIR_BY_DIR : NULL);
	return rc == 0;
}

/*
 * --delete: SRC's directory is listed, nothing in it visited yet: make its
 * copy hold nothing else (delete.h).
 */
static int visit_listed(void *arg, const struct walk_listing *l)
{
	struct copytree *ct = arg;

	delete_listed(&ct->deleter, l);
	return 0;
}

/* A directory's entries are all queued: let no job wait while the next is read. */
static void visit_dir_done(void *arg)
{
	struct copytree *ct = arg;

	if (ct->s->queue != NULL)
		queue_flush(ct->s->queue);
}

/* Did the walk report relpath vanished?  (A short list: a linear search.) */
static int reported_gone(const struct copytree *ct, const char *relpath)
{
	for (size_t i = 0; i < ct->gone_dirs.count; i++)
		if (strcmp(strlist_get(&ct->gone_dirs, i), relpath) == 0)
			return 1;
	return 0;
}

/* How making one deferred hard link went. */
enum link_result {
	LINK_MADE,      /* done */
	LINK_THERE,     /* already the same file, or left alone by --update=none */
	LINK_NO_TARGET, /* the name to link to is missing in DST */
	LINK_FAILED,    /* another error, in errno */
};

/* Make `link` in DST a hard link to `target` in DST. */
static enum link_result link_in_dst(struct copytree *ct, const char *target, const char *link)
{
	struct dst *d = ct->self.dst;
	struct stat st;
	int rc;

	if (dst_enter(d, link, path_dirlen(link)) < 0)
		return LINK_FAILED;
	if (ct->s->opts->update == UPDATE_NONE && dst_lstat(d, 0, path_basename(link), &st) == 0)
		return LINK_THERE; /* an existing name is left as it is */
	rc = link_entry(&ct->self.copier, d, target, path_basename(link));
	/* ENOENT: the target, or the directory it should be in, is missing. */
	if (rc < 0)
		return errno == ENOENT ? LINK_NO_TARGET : LINK_FAILED;
	return rc == 1 ? LINK_THERE : LINK_MADE;
}

/*
 * A later name of an inode whose first name failed to copy (that failure
 * was reported) has nothing to link to: copy it on its own, as cp does, so
 * that a failure names this path with its own reason.  0 if it was copied.
 */
static int copy_on_its_own(struct copytree *ct, const char *link)
{
	struct worker *w = &ct->self;
	int flags = ct->s->opts->dereference ? 0 : AT_SYMLINK_NOFOLLOW;
	struct entry_stat es;
	struct stat st;

	if (remote(ct)) { /* its first name's copy failed there; reported */
		report_entry_error(ct->s, w->slot, link, 0,
				   "its hard link's target could not be copied");
		atomic_fetch_add(&w->slot->entries_done, 1);
		return -1;
	}
	if (worker_open_dirs(w, link, path_dirlen(link)) < 0 ||
	    fstatat(w->src_dir, path_basename(link), &st, flags) < 0) {
		report_entry_failure(ct->s, w->slot, link, errno, NULL);
		atomic_fetch_add(&w->slot->entries_done, 1);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		report_entry_error(ct->s, w->slot, link, 0, COPY_TYPE_CHANGED);
		atomic_fetch_add(&w->slot->entries_done, 1);
		return -1;
	}
	entry_stat_from(&es, &st);
	if (S_ISREG(st.st_mode)) /* not counted by the walk, which meant to link it */
		atomic_fetch_add(&ct->s->shared->queued_bytes, es.size);
	return worker_run(w, kind_of_mode(st.st_mode), link, &es);
}

/*
 * Make the deferred hard links, now that every target that could be copied
 * exists.  Where one could not, the next name is copied on its own and, if
 * that works, is what the remaining names of the inode link to.
 */
static void make_hard_links(struct copytree *ct)
{
	struct worker_slot *slot = parent_slot(ct->s);
	struct inode_table moved; /* the name standing in for a first name that failed */

	inode_table_init(&moved);
	for (size_t i = 0; i + 1 < ct->links.count; i += 2) {
		const struct inode_id *id = &ct->link_ids[i / 2];
		const char *target = inode_table_find(&moved, id->dev, id->ino);
		const char *link = strlist_get(&ct->links, i + 1);
		enum link_result r =
			link_in_dst(ct, target ? target : strlist_get(&ct->links, i), link);

		if (r == LINK_NO_TARGET) {
			if (copy_on_its_own(ct, link) == 0 && target == NULL)
				(void)inode_table_check(&moved, id->dev, id->ino, link);
			continue; /* counted by copy_on_its_own */
		}
		/* Without --update, a link already in place is made again, as it were. */
		if (r == LINK_THERE && ct->s->opts->update == UPDATE_ALL) {
			atomic_fetch_add(&slot->hardlinks, 1);
			r = LINK_MADE;
		}
		if (r == LINK_FAILED)
			report_dst_error(ct->s, slot, link, errno, NULL);
		else if (r == LINK_THERE)
			atomic_fetch_add(&slot->unchanged, 1);
		else
			report_change(ct->s, slot, CHANGE_HARDLINK, id->mode, link);
		atomic_fetch_add(&slot->entries_done, 1);
	}
	inode_table_free(&moved);
}

/* The name of relpath in its directory, "." for the root itself. */
static const char *name_of(const char *relpath)
{
	return *relpath == '\0' ? "." : path_basename(relpath);
}

/*
 * With --update, is DST's directory at relpath already as SRC's
 * (plan_directory), its attributes too (as the walk found them:
 * `attrs_differ`)?
 */
static int dir_up_to_date(const struct session *s, struct dst *d, const char *relpath,
			  const struct entry_stat *es, int attrs_differ)
{
	struct plan_context pc = plan_of_run(s);
	struct stat st;

	return s->opts->update != UPDATE_ALL && !attrs_differ &&
	       dst_enter(d, relpath, path_dirlen(relpath)) == 0 &&
	       dst_lstat(d, 0, name_of(relpath), &st) == 0 &&
	       plan_directory(&pc, es, &st) == PLAN_SKIP;
}

/*
 * Owner, xattrs, mode and times of one directory from its source, unless
 * dir_up_to_date; `flags` are what the walk learnt of it (enum
 * dst_dir_flags).  Only one DST had before the run can hold attributes
 * SRC lacks.  A source directory we may not read (the walk has reported
 * it) is opened O_PATH: enough for its owner, mode and times, not for its
 * xattrs.  -1 with errno when SRC's cannot be opened, -2 when DST's cannot
 * (or with --fsync be noted); what could not be kept goes to `loss`.
 */
static int apply_remote_dir_metadata(struct copytree *ct, size_t i, unsigned flags,
				     struct meta_loss *loss);

static int apply_dir_metadata(struct copytree *ct, size_t i, unsigned flags, struct meta_loss *loss)
{
	const char *relpath = strlist_get(&ct->dirs, i);
	const struct session *s = ct->s;
	int follow = s->opts->dereference;
	int fd = remote(ct) ? -1
			    : open_beneath(s->src_root, relpath, O_RDONLY | O_DIRECTORY, 0, follow);
	int readable = fd >= 0;
	struct entry_stat es;
	struct src_entry src = { .name = ".", .st = &es };
	struct stat st;
	int rc = 0;

	meta_loss_clear(loss);
	if (remote(ct))
		return apply_remote_dir_metadata(ct, i, flags, loss);
	if (fd < 0 && errno == EACCES)
		fd = open_beneath(s->src_root, relpath, O_PATH | O_DIRECTORY, 0, follow);
	if (fd < 0 || fstat(fd, &st) < 0) {
		close_both(fd, -1);
		return -1;
	}
	entry_stat_from(&es, &st);
	src.dir = fd;
	src.fd = readable ? fd : -1;
	if (dir_up_to_date(s, ct->self.dst, relpath, &es, flags & DST_DIR_ATTRS_DIFFER))
		flags |= DST_DIR_UP_TO_DATE;
	if (dst_dir_meta(ct->self.dst, relpath, &src, flags, loss) < 0)
		rc = -2;
	close_both(fd, -1);
	return rc;
}

/* apply_dir_metadata of a remote source's directory i, from what the walk kept. */
static int apply_remote_dir_metadata(struct copytree *ct, size_t i, unsigned flags,
				     struct meta_loss *loss)
{
	const struct remote_dir *rd = &ct->remote_dirs[i];
	const char *relpath = strlist_get(&ct->dirs, i);
	struct src_meta meta = { 0 }; /* none read there: nothing to apply */
	struct src_entry src = { .dir = -1, .name = ".", .fd = -1, .st = &rd->st, .meta = &meta };

	if (rd->meta_len > 0 &&
	    src_meta_unpack(ct->remote_meta + rd->meta_at, rd->meta_len, &meta) < 0)
		memset(&meta, 0, sizeof(meta));
	if (dir_up_to_date(ct->s, ct->self.dst, relpath, &rd->st, flags & DST_DIR_ATTRS_DIFFER))
		flags |= DST_DIR_UP_TO_DATE;
	return dst_dir_meta(ct->self.dst, relpath, &src, flags, loss) < 0 ? -2 : 0;
}

/*
 * Directory metadata, children before parents (reverse walk order).  A
 * source directory gone since the walk read it has vanished; one the walk
 * already reported so keeps the owner-only mode it was made with.
 */
static void apply_all_dir_metadata(struct copytree *ct)
{
	struct worker_slot *slot = parent_slot(ct->s);
	struct meta_loss loss;

	for (size_t i = ct->dirs.count; i-- > 0;) {
		const char *relpath = strlist_get(&ct->dirs, i);
		int rc, err;

		if (atomic_load(&ct->s->shared->stop))
			return;
		rc = apply_dir_metadata(ct, i, ct->dir_flags[i], &loss);
		err = errno;
		if (rc == 0)
			meta_loss_report(ct->s, slot, relpath, &loss);
		else if (rc == -2)
			report_dst_error(ct->s, slot, relpath, err, NULL);
		else if (err != ENOENT || !reported_gone(ct, relpath))
			report_entry_failure(ct->s, slot, relpath, err, NULL);
	}
}

/*
 * The flags of DST's top directory, made or reused by run.c (enum
 * dst_dir_flags): whether its attributes differ from SRC's
 * (update_attributes_differ), and, not in a dry run, narrowed before the
 * walk writes anything in it (narrow_directory).  A failure to narrow is
 * reported.
 */
static unsigned top_directory(struct copytree *ct)
{
	const struct session *s = ct->s;
	struct dst *d = ct->self.dst;
	struct entry_stat es;
	struct src_entry src = {
		.dir = s->src_root, .name = ".", .fd = -1, .st = &es, .meta = s->src_root_meta
	};
	struct stat st, dst;
	int differ, narrowed = 0;

	if (s->remote != NULL)
		st = *s->src_root_st;
	else if (fstat(s->src_root, &st) < 0)
		return DST_DIR_EXISTED;
	if (dst_enter(d, "", 0) < 0 || dst_lstat(d, 0, ".", &dst) < 0)
		return DST_DIR_EXISTED;
	entry_stat_from(&es, &st);
	differ = update_attributes_differ(s, d, &src, ".", &dst);
	if (!s->opts->dry_run)
		narrowed = narrow_directory(s, d, &src, ".", &dst, differ);
	if (narrowed < 0)
		report_dst_error(s, parent_slot(s), "", errno, NULL);
	return DST_DIR_EXISTED | (differ || narrowed > 0 ? DST_DIR_ATTRS_DIFFER : 0);
}

struct copytree *copytree_start(const struct session *s)
{
	struct copytree *ct = xmalloc(sizeof(*ct));

	memset(ct, 0, sizeof(*ct));
	ct->s = s;
	worker_init(&ct->self, s, parent_slot(s));
	deleter_init(&ct->deleter, s, parent_slot(s), ct->self.dst);
	strlist_init(&ct->dirs);
	strlist_init(&ct->gone_dirs);
	strlist_init(&ct->links);
	inode_table_init(&ct->inodes);
	inode_table_init(&ct->dry_copied);
	{
		struct entry_stat es = { 0 };
		unsigned flags = top_directory(ct);

		if (s->src_root_st != NULL)
			entry_stat_from(&es, s->src_root_st);
		remember_directory(ct, "", flags, &es, s->src_root_meta);
	}
	atomic_fetch_add(&parent_slot(s)->dirs, 1);
	return ct;
}

/* Is a job still queued, or held by a worker? */
static int workers_busy(const struct session *s)
{
	if (queue_length(s->queue) > 0)
		return 1;
	for (int i = 0; i < s->shared->nslots; i++)
		if (atomic_load(&s->shared->slots[i].busy))
			return 1;
	return 0;
}

/*
 * Wait until the workers have measured every JOB_UNSTATED entry, so that
 * the totals are final when the walk is said to be done.  -1 on a stop.
 */
static int wait_for_measures(const struct copytree *ct)
{
	const struct timespec nap = { 0, 200 * 1000 };

	while (ct->unstated > 0 && workers_busy(ct->s)) {
		if (atomic_load(&ct->s->shared->stop))
			return -1;
		nanosleep(&nap, NULL);
	}
	return 0;
}

/*
 * The multiply-linked files the workers measured came back (spill.h); with
 * every measure done, no more can come.  Take them in walk order through
 * the rule the walk applies to what it stats itself, queueing the first
 * name of each inode and remembering the others as links.
 */
static void queue_spilled(struct copytree *ct)
{
	const struct session *s = ct->s;
	struct spill_reader *r;
	struct spill_entry e;
	int rc;

	if (s->spill_fd < 0 || ct->unstated == 0)
		return;
	r = spill_reader_open(s->spill_fd, s->shared);
	while ((rc = spill_next(r, &e)) > 0)
		if (queue_entry(ct, e.relpath, &e.st, NULL) < 0)
			break;
	if (rc < 0) {
		report_message("cannot read back the list of multiply-linked files: %s",
			       strerror(errno));
		atomic_fetch_add(&parent_slot(s)->errors, 1);
	}
	spill_reader_close(r);
}

void copytree_walk(struct copytree *ct, struct lookahead *la)
{
	const struct session *s = ct->s;
	struct walk_options wo = {
		.follow = s->opts->dereference,
		.one_file_system = s->opts->one_file_system,
		.lazy_regular = s->worker_stats,
		.stop = &s->shared->stop,
		.lookahead = la,
		.filter = s->filter,
		.files = s->list,
		.source = s->list == NULL ? s->listing : NULL,
		.root_st = s->src_root_st,
	};
	struct walk_visitor v = { .entry = visit_entry,
				  .directory = visit_directory,
				  .error = visit_error,
				  .ctx = ct,
				  .vanished = visit_vanished,
				  .listed = s->opts->delete_extraneous ? visit_listed : NULL,
				  .dir_done = visit_dir_done };

	(void)walk_tree(s->src_root, &wo, &v);
	if (wait_for_measures(ct) == 0)
		queue_spilled(ct);
	/* The walk's inode tables are no longer needed: free them before the final passes. */
	inode_table_free(&ct->inodes);
	inode_table_free(&ct->dry_copied);
}

void copytree_finish(struct copytree *ct)
{
	if (!ct->s->opts->dry_run && !atomic_load(&ct->s->shared->stop)) {
		make_hard_links(ct);
		apply_all_dir_metadata(ct);
	}
	inode_table_free(&ct->inodes); /* again: harmless, should the walk not have run */
	inode_table_free(&ct->dry_copied);
	strlist_free(&ct->links);
	free(ct->link_ids);
	strlist_free(&ct->dirs);
	free(ct->dir_flags);
	free(ct->remote_dirs);
	free(ct->remote_meta);
	strlist_free(&ct->gone_dirs);
	deleter_free(&ct->deleter);
	worker_free(&ct->self);
	free(ct);
}
