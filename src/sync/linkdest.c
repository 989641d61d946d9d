/* linkdest.c - hard-linking unchanged files from --link-dest DIRs (linkdest.h). */
#include "sync/linkdest.h"

#include <sys/stat.h>

#include "copy/meta.h"
#include "sync/plan.h"

int linkdest_active(const struct session *s)
{
	return s->nlink_dest_roots > 0;
}

/* Is `name` in tree `tree` a file to link in place of src's copy? */
static int usable(const struct session *s, struct dst *d, int tree, const struct src_entry *src,
		  const char *name)
{
	unsigned kinds = meta_xattr_kinds(s); /* what a copy would carry, a link must share */
	struct plan_context pc = plan_of_run(s);
	struct stat cand;

	if (dst_lstat(d, tree, name, &cand) < 0 || !plan_link_dest(&pc, src->st, &cand))
		return 0;
	if (kinds != 0 && dst_attrs_equal(d, tree, name, src, kinds) != 1)
		return 0;
	return !s->opts->checksum || dst_compare(d, tree, name, src) == 0;
}

int linkdest_find(const struct session *s, struct dst *d, const struct src_entry *src,
		  const char *name)
{
	for (int tree = 1; tree <= dst_trees(d); tree++)
		if (usable(s, d, tree, src, name))
			return tree;
	return 0;
}
