/* job.c - the job record's helpers (job.h). */
#include "core/job.h"

enum job_kind kind_of_mode(mode_t mode)
{
	if (S_ISREG(mode))
		return JOB_REGULAR;
	return S_ISLNK(mode) ? JOB_SYMLINK : JOB_SPECIAL;
}

void entry_stat_from(struct entry_stat *out, const struct stat *st)
{
	out->dev = st->st_dev;
	out->ino = st->st_ino;
	out->size = (uint64_t)st->st_size;
	out->blocks = (uint64_t)st->st_blocks;
	out->rdev = st->st_rdev;
	out->atime_sec = st->st_atim.tv_sec;
	out->atime_nsec = st->st_atim.tv_nsec;
	out->mtime_sec = st->st_mtim.tv_sec;
	out->mtime_nsec = st->st_mtim.tv_nsec;
	out->ctime_sec = st->st_ctim.tv_sec;
	out->ctime_nsec = st->st_ctim.tv_nsec;
	out->mode = st->st_mode;
	out->uid = st->st_uid;
	out->gid = st->st_gid;
	out->nlink = (uint32_t)st->st_nlink;
}
