/* plan.c - decisions about one entry (plan.h). */
#include "plan.h"

#include <stddef.h>
#include <stdint.h>

const char *plan_replace_conflict(mode_t src_mode, const struct stat *dst)
{
	if (dst == NULL)
		return NULL;
	if (S_ISDIR(src_mode))
		return S_ISREG(dst->st_mode) ? PLAN_NONDIR_BY_DIR : NULL;
	return S_ISDIR(dst->st_mode) ? PLAN_DIR_BY_NONDIR : NULL;
}

struct plan_context plan_context_of(const struct options *o, uid_t euid)
{
	struct plan_context pc = { o->update, o->preserve, euid, o->checksum };

	return pc;
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

static int meta_differs(const struct plan_context *pc, const struct entry_stat *src,
			const struct stat *dst)
{
	/* A symlink's own mode means nothing on Linux. */
	if ((pc->preserve & PRESERVE_MODE) && !S_ISLNK(dst->st_mode) &&
	    (src->mode & 07777) != (dst->st_mode & 07777))
		return 1;
	return (pc->preserve & PRESERVE_OWNERSHIP) && pc->euid == 0 &&
	       (src->uid != dst->st_uid || src->gid != dst->st_gid);
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
		return meta_differs(pc, src, dst) ? PLAN_FIX_META : PLAN_SKIP;
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

int plan_link_dest(const struct plan_context *pc, mode_t umask, const struct entry_stat *src,
		   const struct stat *cand)
{
	mode_t want = (pc->preserve & PRESERVE_MODE) ? (mode_t)(src->mode & 07777)
						     : (mode_t)(0666 & ~umask);

	if (!S_ISREG(src->mode) || !S_ISREG(cand->st_mode) || data_differs(src, cand))
		return 0;
	if ((cand->st_mode & 07777) != want)
		return 0;
	return !((pc->preserve & PRESERVE_OWNERSHIP) && pc->euid == 0 &&
		 (src->uid != cand->st_uid || src->gid != cand->st_gid));
}
