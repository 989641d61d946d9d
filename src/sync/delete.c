/*
 * delete.c - --delete and --delete-excluded (delete.h): compare each DST
 * directory with SRC's listing, remove what SRC lacks.
 */
#include "sync/delete.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/path.h"
#include "base/util.h"
#include "report/change.h"
#include "report/entry.h"
#include "report/message.h"
#include "walk/filter.h"
#include "walk/walk.h"

/* Said once for a source directory that could not be read to its end. */
#define NOT_DELETING "not deleting in its copy: the source directory could not be read"

enum delete_action delete_decide(mode_t dst_type, mode_t src_type, int excluded,
				 int delete_excluded)
{
	if (excluded)
		return delete_excluded ? DELETE_EXTRA : DELETE_KEEP;
	if (src_type == 0)
		return DELETE_EXTRA;
	if (S_ISDIR(dst_type) != S_ISDIR(src_type))
		return DELETE_REPLACE;
	return DELETE_KEEP;
}

void deleter_init(struct deleter *d, const struct session *s, struct worker_slot *slot,
		  struct dst *dst)
{
	memset(d, 0, sizeof(*d));
	d->s = s;
	d->slot = slot;
	d->dst = dst;
	nameset_init(&d->src);
	nameset_init(&d->made_set);
	pathbuf_init(&d->path);
	pathbuf_init(&d->blocked);
	pathbuf_init(&d->made_dir);
}

void deleter_free(struct deleter *d)
{
	nameset_free(&d->src);
	nameset_free(&d->made_set);
	pathbuf_free(&d->path);
	pathbuf_free(&d->blocked);
	pathbuf_free(&d->made_dir);
	free(d->made.data);
}

static int stopped(const struct deleter *d)
{
	return atomic_load_explicit(&d->s->shared->stop, memory_order_relaxed);
}

/* "pcopy: 'DST/path': cannot delete: REASON" for the entry at d->path, counted. */
static void report_delete_error(struct deleter *d, int err)
{
	char *path = path_join(d->s->dst_display, d->path.data);
	char reason[256];

	snprintf(reason, sizeof(reason), "cannot delete: %s", strerror(err));
	report_path_error(path, reason);
	free(path);
	atomic_fetch_add_explicit(&d->slot->errors, 1, memory_order_relaxed);
}

/* Enter DST's directory at d->path.  0, or -1 with errno. */
static int enter_path(struct deleter *d)
{
	return dst_enter(d->dst, d->path.data, d->path.len);
}

/* Enter the DST directory holding d->path.  0, or -1 with errno. */
static int enter_parent(struct deleter *d)
{
	return dst_enter(d->dst, d->path.data, path_dirlen(d->path.data));
}

/*
 * The type (S_IFMT bits) of `name` in the DST directory entered, from
 * d_type or lstat; 0 if gone.
 */
static mode_t entry_type(struct deleter *d, const char *name, unsigned char d_type)
{
	struct stat st;

	if (d_type != DT_UNKNOWN)
		return DTTOIF(d_type);
	return dst_lstat(d->dst, 0, name, &st) == 0 ? st.st_mode & S_IFMT : 0;
}

/*
 * The type of SRC's entry `name` in sdir, listed with d_type, as the walk
 * sees it (-L follows links).  Only a directory or not matters here, so
 * d_type is enough but where it is unknown, or a link -L would follow.
 * When it cannot be told, DST's type, so that nothing is deleted on a guess.
 */
static mode_t source_type(const struct deleter *d, int sdir, const char *name, unsigned char d_type,
			  mode_t dst_type)
{
	int follow = d->s->opts->dereference;
	struct stat st;

	if (d_type != DT_UNKNOWN && !(d_type == DT_LNK && follow))
		return DTTOIF(d_type);
	if (fstatat(sdir, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0)
		return st.st_mode & S_IFMT;
	return dst_type;
}

/* Is the entry at d->path protected by the filter? */
static int protected(const struct deleter *d, mode_t type)
{
	return !d->s->opts->delete_excluded && d->s->filter != NULL &&
	       filter_excluded(d->s->filter, d->path.data, S_ISDIR(type));
}

static int remove_entry(struct deleter *d, const char *name, mode_t type);

/*
 * Remove the entries of the listing `l` of the DST directory at d->path
 * (entered): the subdirectories (`subdirs`), or the rest, their types
 * then noted in l.  After a failure the others are still removed, as rm
 * -r does.  1 all went, 0 something was kept, -1 something failed.
 */
static int remove_listed(struct deleter *d, struct lookahead_list *l, int subdirs)
{
	size_t pos = 0, at = 0;
	const char *name;
	unsigned char t;
	int rc = 1;

	while (lookahead_list_next(l, &pos, &t, &name)) {
		mode_t type = subdirs ? DTTOIF(t) : entry_type(d, name, t);
		int r;

		l->data[at] = (char)IFTODT(type); /* the d_type byte, known from now on */
		at = pos;
		if (type == 0 || subdirs != S_ISDIR(type))
			continue;
		r = remove_entry(d, name, type);
		rc = r < rc ? r : rc;
	}
	return rc;
}

/*
 * Remove (dry run: tell) what the DST directory at d->path holds, depth
 * first, keeping protected entries.  The directory is listed whole before
 * its subdirectories are entered.  1 when all went, 0 when something was
 * kept, -1 on failure (reported) or stop.
 */
static int empty_directory(struct deleter *d)
{
	struct lookahead_list l = { NULL, 0, 0 };
	int rc, r;

	if (enter_path(d) < 0 || dst_list(d->dst, &l) < 0) {
		report_delete_error(d, errno);
		free(l.data);
		return -1;
	}
	rc = remove_listed(d, &l, 0);
	r = remove_listed(d, &l, 1);
	rc = r < rc ? r : rc;
	free(l.data);
	return rc;
}

/*
 * Remove (dry run: tell) `name`, of type `type`, from the DST directory at
 * d->path.  A protected entry stays, and so does a directory holding one.
 * 1 removed, 0 kept, -1 failed (reported) or stopped.
 */
static int remove_entry(struct deleter *d, const char *name, mode_t type)
{
	size_t old = pathbuf_push(&d->path, name);
	int rc = 1;

	if (stopped(d)) {
		rc = -1;
	} else if (protected(d, type)) {
		rc = 0;
	} else if (!S_ISDIR(type)) {
		if (!d->s->opts->dry_run &&
		    (enter_parent(d) < 0 || dst_remove(d->dst, name, 0) < 0)) {
			rc = errno == ENOENT ? 0 : -1; /* gone already: nothing to say */
			if (rc < 0)
				report_delete_error(d, errno);
		}
	} else {
		rc = empty_directory(d);
		/* rmdir the emptied directory, from its parent. */
		if (rc > 0 && !d->s->opts->dry_run &&
		    (enter_parent(d) < 0 || dst_remove(d->dst, name, 1) < 0)) {
			report_delete_error(d, errno);
			rc = -1;
		}
	}
	if (rc > 0)
		report_change(d->s, d->slot, CHANGE_DELETED, type, d->path.data);
	pathbuf_trim(&d->path, old);
	return rc;
}

/*
 * The entries of DST's directory at d->path (entered; listed in `l`) that
 * SRC's (sdir, names in d->src) does not keep: into `doomed`.
 */
static void find_doomed(struct deleter *d, const struct lookahead_list *l, int sdir,
			struct lookahead_list *doomed)
{
	unsigned char d_type;
	const char *name;
	char base[NAME_MAX + 1];
	size_t pos = 0;

	while (lookahead_list_next(l, &pos, &d_type, &name)) {
		mode_t type, src_type = 0;
		unsigned char sd_type;
		size_t old;
		int excluded;

		type = entry_type(d, name, d_type);
		if (type == 0)
			continue;
		if (d->s->opts->partial && S_ISREG(type) && path_partial_of(name, base) &&
		    nameset_find(&d->src, base, NULL))
			continue; /* --partial: what arrived of a file SRC still has */
		if (nameset_find(&d->src, name, &sd_type))
			src_type = source_type(d, sdir, name, sd_type, type);
		old = pathbuf_push(&d->path, name);
		excluded = d->s->filter != NULL &&
			   filter_excluded(d->s->filter, d->path.data, S_ISDIR(type));
		pathbuf_trim(&d->path, old);
		if (delete_decide(type, src_type, excluded, d->s->opts->delete_excluded) !=
		    DELETE_KEEP)
			lookahead_list_add(doomed, (unsigned char)IFTODT(type), name);
	}
}

/* Dry run: remember that `name` was deleted to make way for SRC's entry. */
static void note_made_way(struct deleter *d, const char *name)
{
	if (d->s->opts->dry_run && nameset_find(&d->src, name, NULL))
		lookahead_list_add(&d->made, 0, name);
}

/*
 * Delete from DST's directory at d->path what SRC's (sdir, names in
 * d->src) does not keep.  A DST directory that is not there (a dry run
 * into what would be made) has nothing to delete.
 */
static void clean_directory(struct deleter *d, int sdir)
{
	struct lookahead_list listing = { NULL, 0, 0 }, doomed = { NULL, 0, 0 };
	const char *name;
	unsigned char t;
	size_t pos = 0;

	if (enter_path(d) < 0) {
		if (!(d->s->opts->dry_run &&
		      (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)))
			report_delete_error(d, errno);
		return;
	}
	if (dst_list(d->dst, &listing) < 0) /* what was read is still compared */
		report_delete_error(d, errno);
	find_doomed(d, &listing, sdir, &doomed);
	while (lookahead_list_next(&doomed, &pos, &t, &name))
		if (remove_entry(d, name, DTTOIF(t)) > 0)
			note_made_way(d, name);
	free(listing.data);
	free(doomed.data);
}

/* Is relpath the blocked directory or inside it? */
static int inside_blocked(const struct deleter *d, const char *relpath)
{
	size_t len = d->blocked.len;

	if (!d->is_blocked)
		return 0;
	if (len == 0)
		return 1;
	return strncmp(relpath, d->blocked.data, len) == 0 &&
	       (relpath[len] == '\0' || relpath[len] == '/');
}

void delete_listed(struct deleter *d, const struct walk_listing *l)
{
	d->made.len = 0;
	pathbuf_set(&d->made_dir, l->relpath, strlen(l->relpath));
	/* The walk is depth first: once outside the blocked directory, it is done with. */
	if (inside_blocked(d, l->relpath))
		return;
	d->is_blocked = 0;
	if (!l->complete) {
		pathbuf_set(&d->blocked, l->relpath, strlen(l->relpath));
		d->is_blocked = 1;
		report_entry_error(d->s, d->slot, l->relpath, 0, NOT_DELETING);
		return;
	}
	nameset_build(&d->src, l->names);
	pathbuf_set(&d->path, l->relpath, strlen(l->relpath));
	clean_directory(d, l->dirfd);
	if (d->made.len > 0)
		nameset_build(&d->made_set, &d->made);
}

int delete_made_way(const struct deleter *d, const char *relpath)
{
	size_t dirlen = path_dirlen(relpath);

	return d->made.len > 0 && d->made_dir.len == dirlen &&
	       memcmp(d->made_dir.data, relpath, dirlen) == 0 &&
	       nameset_find(&d->made_set, path_basename(relpath), NULL);
}
