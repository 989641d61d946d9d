/* plan.c - decisions about one entry (plan.h). */
#include "sync/plan.h"

#include <stddef.h>
#include <stdint.h>

const char *plan_replace_conflict(mode_t src_mode, const struct stat *dst)
{
	if (dst == NULL)
		return NULL;
	if (S_ISDIR(src_mode))
		return S_ISREG(dst->st_mode) ? REASON_NONDIR_BY_DIR : NULL;
	return S_ISDIR(dst->st_mode) ? REASON_DIR_BY_NONDIR : NULL;
}

struct plan_context plan_context_of(const struct options *o, uid_t euid, gid_t egid,
				    const gid_t *groups, int ngroups, mode_t umask)
{
	struct plan_context pc = {
		.update = o->update,
		.preserve = o->preserve,
		.euid = euid,
		.checksum = o->checksum,
		.egid = egid,
		.umask = umask,
		.groups = groups,
		.ngroups = ngroups,
	};

	return pc;
}

struct plan_context plan_of_run(const struct session *s)
{
	return plan_context_of(s->opts, s->euid, s->egid, s->groups, s->ngroups, s->umask);
}

int plan_sets_group(const struct plan_context *pc, gid_t gid)
{
	if (pc->euid == 0 || gid == pc->egid)
		return 1;
	for (int i = 0; i < pc->ngroups; i++)
		if (pc->groups[i] == gid)
			return 1;
	return 0;
}

/* Does the copy of `src` get SRC's owner?  Root gives it; a user's files are the user's. */
static int keeps_owner(const struct plan_context *pc, const struct entry_stat *src)
{
	return ((pc->preserve & PRESERVE_OWNERSHIP) && pc->euid == 0) || src->uid == pc->euid;
}

/* Does it get SRC's group?  Given where it can be; else a new file's group, egid. */
static int keeps_group(const struct plan_context *pc, const struct entry_stat *src)
{
	return ((pc->preserve & PRESERVE_OWNERSHIP) && plan_sets_group(pc, src->gid)) ||
	       src->gid == pc->egid;
}

mode_t plan_copy_mode(const struct plan_context *pc, const struct entry_stat *src)
{
	mode_t mode = src->mode & 07777;

	if (!(pc->preserve & PRESERVE_MODE))
		return (S_ISDIR(src->mode) ? 0777 : 0666) & ~pc->umask;
	if (!keeps_owner(pc, src))
		mode &= ~(mode_t)S_ISUID;
	if (!keeps_group(pc, src))
		mode &= ~(mode_t)S_ISGID;
	return mode;
}

static int mtime_newer(const struct entry_stat *src, const struct stat *dst)
{
	if (src->mtime_sec != (int64_t)dst->st_mtim.tv_sec)
		return src->mtime_sec > (int64_t)dst->st_mtim.tv_sec;
	return src->mtime_nsec > (int64_t)dst->st_mtim.tv_nsec;
}

static int data_differs(const struct entry_stat *src, const struct stat *dst)
{
	if ((src->mode & S_IFMT) != (dst->st_mode & S_IFMT) ||
	    src->size != (uint64_t)dst->st_size || src->mtime_sec != (int64_t)dst->st_mtim.tv_sec ||
	    src->mtime_nsec != (int64_t)dst->st_mtim.tv_nsec)
		return 1;
	return (S_ISCHR(dst->st_mode) || S_ISBLK(dst->st_mode)) && src->rdev != dst->st_rdev;
}

/*
 * Do DST's owner and group differ from what the copy would set, as far as
 * it can set them?  Root sets both; a user only the group of its own
 * files, to a group it is in.
 */
static int owner_differs(const struct plan_context *pc, const struct entry_stat *src,
			 const struct stat *dst)
{
	if (!(pc->preserve & PRESERVE_OWNERSHIP))
		return 0;
	if (pc->euid == 0)
		return src->uid != dst->st_uid || src->gid != dst->st_gid;
	return dst->st_uid == pc->euid && src->gid != dst->st_gid && plan_sets_group(pc, src->gid);
}

static int meta_differs(const struct plan_context *pc, const struct entry_stat *src,
			const struct stat *dst)
{
	/* A symlink's own mode means nothing on Linux. */
	if ((pc->preserve & PRESERVE_MODE) && !S_ISLNK(dst->st_mode) &&
	    plan_copy_mode(pc, src) != (dst->st_mode & 07777))
		return 1;
	return owner_differs(pc, src, dst);
}

enum plan_action plan_fix_meta(const struct stat *dst)
{
	return dst->st_nlink > 1 ? PLAN_REWRITE : PLAN_FIX_META;
}

enum plan_action plan_update(const struct plan_context *pc, const struct entry_stat *src,
			     const struct stat *dst)
{
	if (dst == NULL)
		return PLAN_COPY;
	switch (pc->update) {
	case UPDATE_NONE: return PLAN_SKIP;
	case UPDATE_OLDER: return mtime_newer(src, dst) ? PLAN_COPY : PLAN_SKIP;
	case UPDATE_CHANGED:
		if (data_differs(src, dst))
			return PLAN_COPY;
		return meta_differs(pc, src, dst) ? plan_fix_meta(dst) : PLAN_SKIP;
	case UPDATE_ALL: break;
	}
	return PLAN_COPY;
}

int plan_metadata_suspect(const struct plan_context *pc, const struct entry_stat *src,
			  const struct stat *dst)
{
	if (pc->update != UPDATE_CHANGED || !(pc->preserve & (PRESERVE_MODE | PRESERVE_XATTR)))
		return 0;
	if (pc->checksum)
		return 1;
	/*
	 * Not earlier, rather than later: ctimes come from a clock that moves
	 * in ticks of some ms, so a change just after the copy was written
	 * may carry the copy's very ctime.
	 */
	if (src->ctime_sec != (int64_t)dst->st_ctim.tv_sec)
		return src->ctime_sec > (int64_t)dst->st_ctim.tv_sec;
	return src->ctime_nsec >= (int64_t)dst->st_ctim.tv_nsec;
}

enum plan_action plan_directory(const struct plan_context *pc, const struct entry_stat *src,
				const struct stat *dst)
{
	if (pc->update == UPDATE_ALL || meta_differs(pc, src, dst))
		return PLAN_FIX_META;
	if ((pc->preserve & PRESERVE_TIMESTAMPS) &&
	    (src->mtime_sec != (int64_t)dst->st_mtim.tv_sec ||
	     src->mtime_nsec != (int64_t)dst->st_mtim.tv_nsec))
		return PLAN_FIX_META;
	return PLAN_SKIP;
}

int plan_link_dest(const struct plan_context *pc, const struct entry_stat *src,
		   const struct stat *cand)
{
	if (!S_ISREG(src->mode) || !S_ISREG(cand->st_mode) || data_differs(src, cand))
		return 0;
	if ((cand->st_mode & 07777) != plan_copy_mode(pc, src))
		return 0;
	/* A user's copy is the user's own: so must a link be. */
	if ((pc->preserve & PRESERVE_OWNERSHIP) && pc->euid != 0 && cand->st_uid != pc->euid)
		return 0;
	return !owner_differs(pc, src, cand);
}

mode_t plan_narrowed_dir(const struct plan_context *pc, mode_t now, const struct entry_stat *src,
			 int acl_wider)
{
	/*
	 * Only permission bits go: without its sticky bit a directory others
	 * may write in would let them remove what is not theirs, and without
	 * its set-gid bit new files would get another group.
	 */
	mode_t mode = (now & 07000) | (now & plan_copy_mode(pc, src) & 0777);

	if (acl_wider)
		mode &= ~(mode_t)070;
	if (pc->euid != 0)
		mode |= 0700;
	return mode;
}
