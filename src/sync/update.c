/* update.c - bringing an existing DST entry up to date (update.h). */
#include "sync/update.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "copy/meta.h"
#include "sync/entry.h"
#include "sync/linkdest.h"

/*
 * readlink of src, read here or, for a remote source, there: at most
 * `size` bytes of its target into buf (no NUL added); its length or -1.
 */
static ssize_t src_readlink(const struct src_entry *src, char *buf, size_t size)
{
	size_t len;

	if (src->meta == NULL)
		return readlinkat(src->dir, src->name, buf, size);
	if (src->meta->link_target == NULL) {
		errno = ENODATA;
		return -1;
	}
	len = strnlen(src->meta->link_target, size);
	memcpy(buf, src->meta->link_target, len);
	return (ssize_t)len;
}

/*
 * Does the symbolic link `dname` in DST point elsewhere than src's (whose
 * target is `len` bytes)?  1 also when one cannot be read.
 */
static int link_targets_differ(struct dst *d, const struct src_entry *src, const char *dname,
			       size_t len)
{
	char *a = xmalloc(len + 1), *b = xmalloc(len + 1);
	ssize_t na = src_readlink(src, a, len + 1);
	ssize_t nb = dst_readlink(d, dname, b, len + 1);
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
static int differs_inside(const struct session *s, struct dst *d, const struct src_entry *src,
			  const char *dname)
{
	if (S_ISLNK(src->st->mode))
		return link_targets_differ(d, src, dname, (size_t)src->st->size);
	/* One that cannot be read is copied: the copy reports what is wrong. */
	return S_ISREG(src->st->mode) && s->opts->checksum && dst_compare(d, 0, dname, src) != 0;
}

int update_attributes_differ(const struct session *s, struct dst *d, const struct src_entry *src,
			     const char *dname, const struct stat *dst)
{
	struct plan_context pc = plan_of_run(s);

	return plan_metadata_suspect(&pc, src->st, dst) &&
	       dst_attrs_equal(d, 0, dname, src, meta_xattr_kinds(s)) != 1;
}

enum plan_action update_decide(const struct session *s, struct dst *d, const struct src_entry *src,
			       const char *dname, const struct stat *dst, int *tree)
{
	struct plan_context pc = plan_of_run(s);
	enum plan_action action = plan_update(&pc, src->st, dst);

	*tree = 0;
	if (action != PLAN_COPY && s->opts->update == UPDATE_CHANGED &&
	    differs_inside(s, d, src, dname))
		action = PLAN_COPY;
	if (action == PLAN_SKIP && dst != NULL && update_attributes_differ(s, d, src, dname, dst))
		action = plan_fix_meta(dst);
	if (action == PLAN_COPY && S_ISREG(src->st->mode) &&
	    plan_replace_conflict(src->st->mode, dst) == NULL &&
	    (*tree = linkdest_find(s, d, src, dname)) > 0)
		action = PLAN_LINK;
	return action;
}

/*
 * A regular file with an equal one in a --link-dest DIR is linked in
 * without a look at DST first: where DST has nothing, every --update mode
 * decides to copy, so to link (update_decide), and where it has something
 * the link fails with EEXIST and touches nothing, and the entry is decided
 * as usual.  So a fresh snapshot costs no stat of DST, whose misses are
 * dear in directories being filled.  1 if linked.
 */
static int link_where_nothing_is(const struct session *s, struct dst *d,
				 const struct src_entry *src, const char *dname, enum job_kind kind)
{
	int tree;

	if (kind != JOB_REGULAR || !linkdest_active(s))
		return 0;
	tree = linkdest_find(s, d, src, dname);
	return tree > 0 && dst_link_from(d, tree, dname, NULL) == 0;
}

/* update_entry once no link was made without a look at DST. */
static int update_looked(struct copier *c, struct dst *d, const struct src_entry *src,
			 const char *dname, enum job_kind kind, enum plan_action *action,
			 mode_t *before)
{
	/*
	 * Under --update=all (here for --link-dest) what DST has decides
	 * nothing: a file in the way is replaced, a directory refuses the
	 * link and then the copy, as without a look.  Only -i needs to know.
	 */
	int look = c->s->opts->update != UPDATE_ALL || c->s->opts->itemize != ITEMIZE_NONE;
	struct stat dst;
	const struct stat *there = look && dst_lstat(d, 0, dname, &dst) == 0 ? &dst : NULL;
	const char *why;
	int tree, rc;

	*before = there != NULL ? there->st_mode & S_IFMT : 0;
	*action = update_decide(c->s, d, src, dname, there, &tree);
	if (*action == PLAN_SKIP) {
		atomic_fetch_add_explicit(&c->slot->unchanged, 1, memory_order_relaxed);
		return 0;
	}
	if (*action == PLAN_FIX_META) {
		rc = dst_fix_meta(d, dname, src, &c->lost);
		c->failed_dst = rc < 0;
		/* A file we may not open for its metadata is copied instead. */
		if (rc == 0 || errno != EACCES)
			return rc;
		*action = PLAN_COPY;
	}
	why = plan_replace_conflict(src->st->mode, there);
	if (why != NULL) {
		c->reason = why;
		c->failed_dst = 1;
		errno = EISDIR;
		return -1;
	}
	if (*action == PLAN_REWRITE) {
		c->rewrite = 1;
		rc = copy_entry(c, d, src->dir, src->name, dname, kind, src->st);
		c->rewrite = 0;
		return rc;
	}
	/* A link refused (another file system, too many links) is a copy instead. */
	if (*action == PLAN_LINK && dst_link_from(d, tree, dname, &c->replaced) == 0)
		return 0;
	*action = PLAN_COPY;
	return copy_entry(c, d, src->dir, src->name, dname, kind, src->st);
}

int update_entry(struct copier *c, struct dst *d, int sdir, const char *sname, const char *dname,
		 enum job_kind kind, const struct entry_stat *st, enum plan_action *action,
		 mode_t *before)
{
	struct src_entry src = { .dir = sdir,
				 .name = sname,
				 .fd = -1,
				 .follow = c->s->opts->dereference,
				 .st = st,
				 .meta = c->meta };

	c->reason = NULL;
	c->failed_dst = 0;
	meta_loss_clear(&c->lost);
	*before = 0;
	*action = PLAN_LINK;
	if (link_where_nothing_is(c->s, d, &src, dname, kind))
		return 0;
	return update_looked(c, d, &src, dname, kind, action, before);
}
