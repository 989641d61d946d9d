/* plan.c - decisions about one entry (plan.h). */
#include "plan.h"

#include <stddef.h>

const char *plan_replace_conflict(mode_t src_mode, const struct stat *dst)
{
	if (dst == NULL)
		return NULL;
	if (S_ISDIR(src_mode))
		return S_ISREG(dst->st_mode) ? PLAN_NONDIR_BY_DIR : NULL;
	return S_ISDIR(dst->st_mode) ? PLAN_DIR_BY_NONDIR : NULL;
}
