/* loss.c - metadata that could not be kept (loss.h). */
#include "copy/loss.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report/entry.h"

void meta_loss_clear(struct meta_loss *loss)
{
	memset(loss, 0, sizeof(*loss));
}

void meta_loss_add(struct meta_loss *loss, enum meta_part part, int err, const char *xattr)
{
	loss->any = 1;
	if (loss->err[part] == 0)
		loss->err[part] = err != 0 ? err : EIO;
	if (part != META_XATTR || xattr == NULL)
		return;
	if (loss->xattr[0] == '\0')
		snprintf(loss->xattr, sizeof(loss->xattr), "%s", xattr);
	else
		loss->xattrs_more++;
}

/* Copy `name` to out, control characters as '?', so a name cannot forge a line. */
static void printable_name(char *out, const char *name)
{
	for (; *name != '\0'; name++)
		*out++ = (unsigned char)*name < 0x20 || *name == 0x7f ? '?' : *name;
	*out = '\0';
}

int meta_loss_describe(const struct meta_loss *loss, enum meta_part part,
		       char buf[META_LOSS_TEXT_MAX])
{
	static const char *const what[META_PARTS] = {
		[META_OWNER] = "ownership",
		[META_ACL] = "ACL",
		[META_DEFAULT_ACL] = "default ACL",
		[META_XATTR] = "extended attributes",
		[META_MODE] = "mode",
		[META_TIMES] = "timestamps",
	};
	const char *reason = strerror(loss->err[part]);
	char name[XATTR_NAME_MAX + 1];

	if (!loss->any || loss->err[part] == 0)
		return 0;
	if (part != META_XATTR || loss->xattr[0] == '\0') {
		snprintf(buf, META_LOSS_TEXT_MAX, "cannot preserve %s: %s", what[part], reason);
		return 1;
	}
	printable_name(name, loss->xattr);
	if (loss->xattrs_more > 0)
		snprintf(buf, META_LOSS_TEXT_MAX,
			 "cannot preserve extended attribute '%s' (and %u more): %s", name,
			 loss->xattrs_more, reason);
	else
		snprintf(buf, META_LOSS_TEXT_MAX, "cannot preserve extended attribute '%s': %s",
			 name, reason);
	return 1;
}

void meta_loss_report(const struct session *s, struct worker_slot *slot, const char *relpath,
		      const struct meta_loss *loss)
{
	char reason[META_LOSS_TEXT_MAX];

	for (int part = 0; loss->any && part < META_PARTS; part++)
		if (meta_loss_describe(loss, (enum meta_part)part, reason))
			report_dst_error(s, slot, relpath, loss->err[part], reason);
}
