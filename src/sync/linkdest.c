/* linkdest.c - hard-linking unchanged files from --link-dest DIRs (linkdest.h). */
#include "sync/linkdest.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "copy/compare.h"
#include "copy/xattr.h"
#include "report/message.h"
#include "sync/plan.h"

/*
 * Open DIR as taken from `base`.  A copy that does not exist yet (a dry
 * run) cannot be walked through by the kernel: there "../x" is taken
 * lexically, as the real run, having made the copy, will find it.
 */
static int open_root(const char *base, const char *dir)
{
	char *b = xstrdup(base);
	char *path;
	int fd;

	while (strncmp(dir, "../", 3) == 0 && access(b, F_OK) < 0) {
		char *parent = xstrdup(dirname(b));

		free(b);
		b = parent;
		dir += 3;
	}
	path = dir[0] == '/' ? xstrdup(dir) : path_join(b, dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(path);
	free(b);
	return fd;
}

void linkdest_open_roots(struct session *s, const char *copy_path, int tree)
{
	char *base = xstrdup(copy_path);
	char *parent = tree ? base : dirname(base);

	s->nlink_dest_roots = 0;
	for (int i = 0; i < s->opts->nlink_dests; i++) {
		const char *dir = s->opts->link_dests[i];
		int fd = open_root(parent, dir);

		if (fd < 0) {
			char reason[256];

			snprintf(reason, sizeof(reason), "--link-dest not used: %s",
				 strerror(errno));
			report_path_error(dir, reason);
			continue;
		}
		s->link_dest_roots[s->nlink_dest_roots++] = fd;
	}
	free(base);
}

void linkdest_close_roots(struct session *s)
{
	for (int i = 0; i < s->nlink_dest_roots; i++)
		close(s->link_dest_roots[i]);
	s->nlink_dest_roots = 0;
}

int linkdest_active(const struct session *s)
{
	return s->nlink_dest_roots > 0;
}

static void close_dirs(struct linkdest *ld)
{
	for (int i = 0; i < LINK_DEST_MAX; i++) {
		if (ld->fds[i] >= 0)
			close(ld->fds[i]);
		ld->fds[i] = -2;
	}
	ld->found = -1;
}

void linkdest_init(struct linkdest *ld, const struct session *s)
{
	ld->s = s;
	pathbuf_init(&ld->dir);
	for (int i = 0; i < LINK_DEST_MAX; i++)
		ld->fds[i] = -2;
	ld->found = -1;
}

void linkdest_free(struct linkdest *ld)
{
	close_dirs(ld);
	pathbuf_free(&ld->dir);
}

void linkdest_enter(struct linkdest *ld, const char *reldir, size_t len)
{
	if (ld->dir.len == len && memcmp(ld->dir.data, reldir, len) == 0)
		return;
	close_dirs(ld);
	pathbuf_set(&ld->dir, reldir, len);
}

/* The current directory in DIR number i: an fd, or -1 where it has none. */
static int dir_in(struct linkdest *ld, int i)
{
	if (ld->fds[i] == -2)
		ld->fds[i] = open_beneath(ld->s->link_dest_roots[i], ld->dir.data,
					  O_RDONLY | O_DIRECTORY, 0, 0);
	return ld->fds[i];
}

/* Is `name` in dir (an fd of DIR) a file to link in place of sname's copy? */
static int usable(const struct linkdest *ld, int dir, int sdir, const char *sname, const char *name,
		  const struct entry_stat *st)
{
	const struct session *s = ld->s;
	unsigned kinds = meta_xattr_kinds(s); /* what a copy would carry, a link must share */
	struct plan_context pc = plan_of_run(s);
	struct stat cand;

	if (fstatat(dir, name, &cand, AT_SYMLINK_NOFOLLOW) < 0 || !plan_link_dest(&pc, st, &cand))
		return 0;
	if (kinds != 0 && xattr_equal_at(sdir, sname, dir, name, kinds) != 1)
		return 0;
	return !s->opts->checksum ||
	       compare_contents_at(sdir, sname, s->opts->dereference, dir, name, st->size) == 0;
}

int linkdest_find(struct linkdest *ld, int sdir, const char *sname, const char *name,
		  const struct entry_stat *st)
{
	ld->found = -1;
	for (int i = 0; i < ld->s->nlink_dest_roots; i++) {
		int dir = dir_in(ld, i);

		if (dir >= 0 && usable(ld, dir, sdir, sname, name, st)) {
			ld->found = dir;
			return 1;
		}
	}
	return 0;
}

int linkdest_link(struct linkdest *ld, struct copier *c, const char *name, int ddir,
		  const char *dname)
{
	/*
	 * By name, not following it: should the file have been swapped for
	 * a symbolic link since it was checked, the link is what is linked,
	 * and nothing outside DIR is reached.
	 */
	return link_replace(c, ld->found, name, ddir, dname) < 0 ? -1 : 0;
}

int linkdest_link_new(struct linkdest *ld, const char *name, int ddir, const char *dname)
{
	return linkat(ld->found, name, ddir, dname, 0);
}
