/*
 * copytree.c - the parent's part of copying a tree: the walk visitor, the
 * deferred hard links and the directory metadata pass.
 */
#include "copytree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy.h"
#include "inode_table.h"
#include "meta.h"
#include "path.h"
#include "plan.h"
#include "queue.h"
#include "strlist.h"
#include "util.h"
#include "walk.h"
#include "worker.h"

/* State of the walk. */
struct copytree {
	const struct session *s;
	struct worker self;        /* the parent as a worker: inline copies, links */
	struct strlist dirs;       /* directories made, in walk order (parents first) */
	struct inode_table inodes; /* first path of each multiply-linked inode */
	struct strlist links;      /* deferred hard links: target, link, target, ... */
	struct job job;            /* record being filled for the queue */
	struct pathbuf dry_dir;    /* dry run: the DST directory last looked into */
	int dry_dir_fd;            /* its fd, -1 if it does not exist, -2 for none yet */
};

static enum job_kind kind_of(mode_t mode)
{
	if (S_ISREG(mode))
		return JOB_REGULAR;
	return S_ISLNK(mode) ? JOB_SYMLINK : JOB_SPECIAL;
}

static void print_line(const char *prefix, const char *relpath)
{
	char *path = path_join(prefix, relpath);
	size_t len = strlen(path);

	path[len] = '\n';
	(void)write_all(STDOUT_FILENO, path, len + 1);
	free(path);
}

/* Dry run: count the entry as done without touching anything. */
static void dry_run_entry(struct copytree *ct, const struct walk_entry *e)
{
	struct worker_slot *slot = parent_slot(ct->s);
	enum job_kind kind = kind_of(e->st->st_mode);

	if (ct->s->opts->verbose)
		print_line(ct->s->dst_display, e->relpath);
	slot_count_dry_run(slot, kind, (uint64_t)e->st->st_size);
	if (kind == JOB_REGULAR)
		atomic_fetch_add(&slot->bytes_done, (uint64_t)e->st->st_size);
	atomic_fetch_add(&slot->entries_done, 1);
}

/*
 * Dry run: what DST has at relpath, in *st, or NULL when nothing is there
 * (or DST itself does not exist yet).  The directory looked into stays
 * open for the next entry, which is usually its sibling.
 */
static const struct stat *dry_run_dst_stat(struct copytree *ct, const char *relpath,
					   struct stat *st)
{
	size_t dirlen = path_dirlen(relpath);

	if (ct->s->dst_root < 0)
		return NULL;
	if (ct->dry_dir_fd == -2 || ct->dry_dir.len != dirlen ||
	    memcmp(ct->dry_dir.data, relpath, dirlen) != 0) {
		if (ct->dry_dir_fd >= 0)
			close(ct->dry_dir_fd);
		pathbuf_set(&ct->dry_dir, relpath, dirlen);
		ct->dry_dir_fd = open_beneath(ct->s->dst_root, ct->dry_dir.data,
					      O_RDONLY | O_DIRECTORY, 0, 0);
	}
	if (ct->dry_dir_fd < 0 ||
	    fstatat(ct->dry_dir_fd, path_basename(relpath), st, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	return st;
}

/*
 * Dry run: would the real run refuse to put this entry in place?  Then
 * report it as the real run would, count it done, and return 1.
 */
static int dry_run_conflict(struct copytree *ct, const char *relpath, mode_t mode)
{
	struct stat st;
	const char *why = plan_replace_conflict(mode, dry_run_dst_stat(ct, relpath, &st));

	if (why == NULL)
		return 0;
	report_entry_error(ct->s, parent_slot(ct->s), relpath, 0, why);
	if (!S_ISDIR(mode))
		atomic_fetch_add(&parent_slot(ct->s)->entries_done, 1);
	return 1;
}

/* A second name of an inode already seen?  Then remember the link. */
static int defer_hard_link(struct copytree *ct, const struct walk_entry *e)
{
	const char *first;

	if (!(ct->s->opts->preserve & PRESERVE_LINKS) || e->st->st_nlink < 2)
		return 0;
	first = inode_table_check(&ct->inodes, e->st->st_dev, e->st->st_ino, e->relpath);
	if (first == NULL)
		return 0;
	strlist_add(&ct->links, first);
	strlist_add(&ct->links, e->relpath);
	return 1;
}

static int visit_entry(void *arg, const struct walk_entry *e)
{
	struct copytree *ct = arg;
	struct shared_state *sh = ct->s->shared;
	size_t len = strlen(e->relpath);

	atomic_fetch_add(&sh->queued_entries, 1);
	if (ct->s->opts->dry_run && dry_run_conflict(ct, e->relpath, e->st->st_mode))
		return 0;
	if (defer_hard_link(ct, e)) {
		if (ct->s->opts->dry_run) {
			if (ct->s->opts->verbose)
				print_line(ct->s->dst_display, e->relpath);
			atomic_fetch_add(&parent_slot(ct->s)->hardlinks, 1);
			atomic_fetch_add(&parent_slot(ct->s)->entries_done, 1);
		}
		return 0;
	}
	if (S_ISREG(e->st->st_mode))
		atomic_fetch_add(&sh->queued_bytes, (uint64_t)e->st->st_size);
	if (ct->s->opts->dry_run) {
		dry_run_entry(ct, e);
		return 0;
	}
	ct->job.kind = kind_of(e->st->st_mode);
	entry_stat_from(&ct->job.st, e->st);
	if (len >= JOB_PATH_MAX) {
		/* Too deep for a record: copy it here, beneath the same roots. */
		worker_run(&ct->self, (enum job_kind)ct->job.kind, e->relpath, &ct->job.st);
		return 0;
	}
	ct->job.path_len = (uint32_t)len;
	memcpy(ct->job.path, e->relpath, len + 1);
	return queue_push(ct->s->queue, &ct->job) == 0 ? 0 : -1;
}

/*
 * Make the directory `name` in `ddir`, owner-only until its metadata is
 * applied at the end.  An existing directory is reused (made writable for
 * us); a symlink or other non-directory planted in its place is replaced
 * by it, except a regular file, which is refused as cp does.
 */
static int make_directory(const struct session *s, int ddir, const char *name)
{
	struct stat st;

	if (mkdirat(ddir, name, 0700) == 0)
		return 0;
	if (errno != EEXIST || fstatat(ddir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (plan_replace_conflict(S_IFDIR, &st) != NULL) {
		errno = ENOTDIR;
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (s->euid == 0 || (st.st_mode & 0700) == 0700)
			return 0;
		return fchmodat(ddir, name, (st.st_mode & 07777) | 0700, 0);
	}
	if (unlinkat(ddir, name, 0) < 0)
		return -1;
	return mkdirat(ddir, name, 0700);
}

/* A directory made (or that a dry run would make): remember it, count it, enter it. */
static int note_directory(struct copytree *ct, const struct walk_entry *e)
{
	strlist_add(&ct->dirs, e->relpath);
	atomic_fetch_add(&parent_slot(ct->s)->dirs, 1);
	if (ct->s->opts->verbose)
		print_line(ct->s->dst_display, e->relpath);
	return 1;
}

static int visit_directory(void *arg, const struct walk_entry *e, int descend)
{
	struct copytree *ct = arg;
	struct worker_slot *slot = parent_slot(ct->s);
	int rc = 0;

	(void)descend;
	if (ct->s->opts->dry_run)
		return dry_run_conflict(ct, e->relpath, S_IFDIR) ? 0 : note_directory(ct, e);
	rc = worker_open_dirs(&ct->self, e->relpath, path_dirlen(e->relpath));
	if (rc == 0)
		rc = make_directory(ct->s, ct->self.dst_dir, e->name);
	if (rc < 0) {
		report_entry_error(ct->s, slot, e->relpath, errno,
				   errno == ENOTDIR ? PLAN_NONDIR_BY_DIR : NULL);
		return 0;
	}
	return note_directory(ct, e);
}

static void visit_error(void *arg, const char *relpath, int err)
{
	struct copytree *ct = arg;

	report_entry_error(ct->s, parent_slot(ct->s), relpath, err,
			   err == ELOOP ? "directory cycle, not followed" : NULL);
}

/* Open the directory holding relpath in DST; its fd or -1. */
static int open_dst_parent(const struct session *s, const char *relpath)
{
	char *dir = xstrdup(relpath);
	int fd;

	dir[path_dirlen(dir)] = '\0';
	fd = open_beneath(s->dst_root, dir, O_RDONLY | O_DIRECTORY, 0, 0);
	free(dir);
	return fd;
}

/* Make the deferred hard links, now that every target exists. */
static void make_hard_links(struct copytree *ct)
{
	struct worker_slot *slot = parent_slot(ct->s);

	for (size_t i = 0; i + 1 < ct->links.count; i += 2) {
		const char *target = strlist_get(&ct->links, i);
		const char *link = strlist_get(&ct->links, i + 1);
		int tdir = open_dst_parent(ct->s, target);
		int ldir = tdir < 0 ? -1 : open_dst_parent(ct->s, link);
		int rc = ldir < 0 ? -1
				  : link_entry(&ct->self.copier, tdir, path_basename(target), ldir,
					       path_basename(link));

		if (rc < 0)
			report_entry_error(ct->s, slot, link, errno, NULL);
		else if (ct->s->opts->verbose)
			print_line(ct->s->dst_display, link);
		atomic_fetch_add(&slot->entries_done, 1);
		if (tdir >= 0)
			close(tdir);
		if (ldir >= 0)
			close(ldir);
	}
}

/*
 * Owner, xattrs, mode and times of one directory from its source.  A source
 * directory we may not read (the walk has reported it) is opened O_PATH:
 * enough for its owner, mode and times, not for its xattrs.
 */
static int apply_dir_metadata(const struct session *s, const char *relpath)
{
	int follow = s->opts->dereference;
	int src = open_beneath(s->src_root, relpath, O_RDONLY | O_DIRECTORY, 0, follow);
	int readable = src >= 0;
	int dst = -1;
	struct entry_stat es;
	struct stat st;
	int rc = -1;

	if (src < 0 && errno == EACCES)
		src = open_beneath(s->src_root, relpath, O_PATH | O_DIRECTORY, 0, follow);
	if (src >= 0)
		dst = open_beneath(s->dst_root, relpath, O_RDONLY | O_DIRECTORY, 0, 0);
	if (dst >= 0 && fstat(src, &st) == 0) {
		entry_stat_from(&es, &st);
		/* A directory made under a default ACL inherits it: strip what SRC lacks. */
		rc = meta_apply_fd(s, readable ? src : -1, dst, &es, NULL);
	}
	if (rc < 0) {
		int saved = errno;

		if (src >= 0)
			close(src);
		if (dst >= 0)
			close(dst);
		errno = saved;
		return -1;
	}
	close(src);
	close(dst);
	return 0;
}

/* Directory metadata, children before parents (reverse walk order). */
static void apply_all_dir_metadata(struct copytree *ct)
{
	for (size_t i = ct->dirs.count; i-- > 0;) {
		const char *relpath = strlist_get(&ct->dirs, i);

		if (atomic_load(&ct->s->shared->stop))
			return;
		if (apply_dir_metadata(ct->s, relpath) < 0)
			report_entry_error(ct->s, parent_slot(ct->s), relpath, errno, NULL);
	}
}

void copytree_run(const struct session *s, struct lookahead *la, void (*wait_workers)(void *),
		  void *arg)
{
	struct copytree ct = { .s = s, .dry_dir_fd = -2 };
	struct walk_options wo = {
		.follow = s->opts->dereference,
		.one_file_system = s->opts->one_file_system,
		.stop = &s->shared->stop,
		.lookahead = la,
		.filter = s->filter,
		.files = s->list,
	};
	struct walk_visitor v = { visit_entry, visit_directory, visit_error, &ct };

	worker_init(&ct.self, s, parent_slot(s));
	strlist_init(&ct.dirs);
	strlist_init(&ct.links);
	pathbuf_init(&ct.dry_dir);
	inode_table_init(&ct.inodes);
	memset(&ct.job, 0, sizeof(ct.job));
	strlist_add(&ct.dirs, ""); /* the top directory, made by main */
	atomic_fetch_add(&parent_slot(s)->dirs, 1);
	(void)walk_tree(s->src_root, &wo, &v);
	if (s->final_source)
		atomic_store(&s->shared->walk_done, 1);
	if (s->queue != NULL)
		queue_close(s->queue);
	if (wait_workers != NULL)
		wait_workers(arg);
	/* The inode table is no longer needed; free it before the final passes. */
	inode_table_free(&ct.inodes);
	if (!s->opts->dry_run && !atomic_load(&s->shared->stop)) {
		make_hard_links(&ct);
		apply_all_dir_metadata(&ct);
	}
	strlist_free(&ct.links);
	strlist_free(&ct.dirs);
	if (ct.dry_dir_fd >= 0)
		close(ct.dry_dir_fd);
	pathbuf_free(&ct.dry_dir);
	worker_free(&ct.self);
}
