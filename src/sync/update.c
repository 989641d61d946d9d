/* update.c - bringing an existing DST entry up to date (update.h). */
#include "sync/update.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "copy/compare.h"
#include "copy/meta.h"
#include "copy/xattr.h"

/* Do two symbolic links point at different targets?  1 also when one cannot be read. */
static int link_targets_differ(int sdir, const char *sname, int ddir, const char *dname, size_t len)
{
	char *a = xmalloc(len + 1), *b = xmalloc(len + 1);
	ssize_t na = readlinkat(sdir, sname, a, len + 1);
	ssize_t nb = readlinkat(ddir, dname, b, len + 1);
	int differ = na < 0 || nb < 0 || na != nb || (size_t)na > len || memcmp(a, b, (size_t)na);

	free(a);
	free(b);
	return differ;
}

int update_looks_first(const struct session *s)
{
	return s->opts->update != UPDATE_ALL || linkdest_active(s);
}

/*
 * Equal sizes and times say little about where a link points, and with -c
 * they are not taken to say the contents are equal either.
 */
static int differs_inside(const struct session *s, int sdir, const char *sname, int ddir,
			  const char *dname, const struct entry_stat *st)
{
	if (S_ISLNK(st->mode))
		return link_targets_differ(sdir, sname, ddir, dname, (size_t)st->size);
	/* One that cannot be read is copied: the copy reports what is wrong. */
	return S_ISREG(st->mode) && s->opts->checksum &&
	       compare_contents_at(sdir, sname, s->opts->dereference, ddir, dname, st->size) != 0;
}

int update_attributes_differ(const struct session *s, int sdir, const char *sname, int ddir,
			     const char *dname, const struct entry_stat *src,
			     const struct stat *dst)
{
	struct plan_context pc = plan_of_run(s);

	return plan_metadata_suspect(&pc, src, dst) &&
	       xattr_equal_at(sdir, sname, ddir, dname, meta_xattr_kinds(s)) != 1;
}

enum plan_action update_decide(const struct session *s, struct linkdest *ld, int sdir,
			       const char *sname, int ddir, const char *dname,
			       const struct entry_stat *st, const struct stat *dst)
{
	struct plan_context pc = plan_of_run(s);
	enum plan_action action = plan_update(&pc, st, dst);

	if (action != PLAN_COPY && s->opts->update == UPDATE_CHANGED &&
	    differs_inside(s, sdir, sname, ddir, dname, st))
		action = PLAN_COPY;
	if (action == PLAN_SKIP && dst != NULL &&
	    update_attributes_differ(s, sdir, sname, ddir, dname, st, dst))
		action = plan_fix_meta(dst);
	if (action == PLAN_COPY && ld != NULL && S_ISREG(st->mode) &&
	    plan_replace_conflict(st->mode, dst) == NULL &&
	    linkdest_find(ld, sdir, sname, dname, st))
		action = PLAN_LINK;
	return action;
}

/* Owner, xattrs, mode and times of DST's existing regular file, from SRC's. */
static int fix_regular(struct copier *c, int sdir, const char *sname, int ddir, const char *dname,
		       const struct entry_stat *st)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	int in = openat(sdir, sname, flags);
	int out = in < 0 ? -1 : openat(ddir, dname, flags);
	int rc = -1;

	/* What could not be kept is in c->lost, for the caller to report. */
	if (out >= 0) {
		(void)meta_apply_fd(c->s, in, out, st, NULL, &c->lost);
		rc = 0;
	}
	c->failed_dst = in >= 0 && out < 0;
	close_both(in, out);
	return rc;
}

/*
 * A regular file with an equal one in a --link-dest DIR is linked in
 * without a look at DST first: where DST has nothing, every --update mode
 * decides to copy, so to link (update_decide), and where it has something
 * the link fails with EEXIST and touches nothing, and the entry is decided
 * as usual.  So a fresh snapshot costs no stat of DST, whose misses are
 * dear in directories being filled.  1 if linked.
 */
static int link_where_nothing_is(struct linkdest *ld, int sdir, const char *sname, int ddir,
				 const char *dname, enum job_kind kind, const struct entry_stat *st)
{
	return kind == JOB_REGULAR && ld != NULL && linkdest_find(ld, sdir, sname, dname, st) &&
	       linkdest_link_new(ld, dname, ddir, dname) == 0;
}

/* update_entry once no link was made without a look at DST. */
static int update_looked(struct copier *c, struct linkdest *ld, int sdir, const char *sname,
			 int ddir, const char *dname, enum job_kind kind,
			 const struct entry_stat *st, enum plan_action *action, mode_t *before)
{
	/*
	 * Under --update=all (here for --link-dest) what DST has decides
	 * nothing: a file in the way is replaced, a directory refuses the
	 * link and then the copy, as without a look.  Only -i needs to know.
	 */
	int look = c->s->opts->update != UPDATE_ALL || c->s->opts->itemize != ITEMIZE_NONE;
	struct stat dst;
	const struct stat *there =
		look && fstatat(ddir, dname, &dst, AT_SYMLINK_NOFOLLOW) == 0 ? &dst : NULL;
	const char *why;

	*before = there != NULL ? there->st_mode & S_IFMT : 0;
	*action = update_decide(c->s, ld, sdir, sname, ddir, dname, st, there);
	if (*action == PLAN_SKIP) {
		atomic_fetch_add_explicit(&c->slot->unchanged, 1, memory_order_relaxed);
		return 0;
	}
	if (*action == PLAN_FIX_META) {
		int rc = 0;

		/* Attributes SRC no longer has go (a link has no ACLs to strip). */
		struct meta_known known = { .inherited_acl = !S_ISLNK(st->mode), .existing = 1 };

		if (kind == JOB_REGULAR)
			rc = fix_regular(c, sdir, sname, ddir, dname, st);
		else
			(void)meta_apply_at(c->s, sdir, sname, ddir, dname, st, &known, &c->lost);
		/* A file we may not open for its metadata is copied instead. */
		if (rc == 0 || errno != EACCES)
			return rc;
		*action = PLAN_COPY;
	}
	why = plan_replace_conflict(st->mode, there);
	if (why != NULL) {
		c->reason = why;
		c->failed_dst = 1;
		errno = EISDIR;
		return -1;
	}
	if (*action == PLAN_REWRITE) {
		int rc;

		c->rewrite = 1;
		rc = copy_entry(c, sdir, sname, ddir, dname, kind, st);
		c->rewrite = 0;
		return rc;
	}
	/* A link refused (another file system, too many links) is a copy instead. */
	if (*action == PLAN_LINK && linkdest_link(ld, c, dname, ddir, dname) == 0)
		return 0;
	*action = PLAN_COPY;
	return copy_entry(c, sdir, sname, ddir, dname, kind, st);
}

int update_entry(struct copier *c, struct linkdest *ld, int sdir, const char *sname, int ddir,
		 const char *dname, enum job_kind kind, const struct entry_stat *st,
		 enum plan_action *action, mode_t *before)
{
	c->reason = NULL;
	c->failed_dst = 0;
	meta_loss_clear(&c->lost);
	*before = 0;
	*action = PLAN_LINK;
	if (link_where_nothing_is(ld, sdir, sname, ddir, dname, kind, st))
		return 0;
	return update_looked(c, ld, sdir, sname, ddir, dname, kind, st, action, before);
}
