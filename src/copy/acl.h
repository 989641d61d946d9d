/* acl.h - what a POSIX ACL, as Linux stores it in an xattr, grants. */
#ifndef PCOPY_ACL_H
#define PCOPY_ACL_H

#include <stddef.h>
#include <sys/types.h>

/* The attribute names under which Linux keeps a file's two ACLs. */
#define ACL_ACCESS_XATTR "system.posix_acl_access"
#define ACL_DEFAULT_XATTR "system.posix_acl_default"

/* Is `name` one of the two ACL attributes? */
int acl_is_xattr_name(const char *name);

/* What an access ACL grants, in the terms of permission bits. */
struct acl_summary {
	mode_t bits;  /* rwxrwxrwx: owner, owning group (its entry ANDed with
			 the mask: what it really gets) and others */
	int extended; /* it has entries mode bits cannot hold (named users
			 or groups, a mask) */
};

/*
 * Read the access ACL `value` (`len` bytes, the system.posix_acl_access
 * format).  0, or -1 with EINVAL when it is not a well-formed ACL.
 */
int acl_summarize(const void *value, size_t len, struct acl_summary *out);

#endif
