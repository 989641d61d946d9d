/* copy.c - one worker's copying state (copy.h). */
#include "copy/copy.h"

#include <stdlib.h>

void copier_init(struct copier *c, const struct session *s, struct worker_slot *slot)
{
	c->s = s;
	c->slot = slot;
	c->buf = NULL;
	c->reason = NULL;
	c->failed_dst = 0;
	c->warning = NULL;
	c->replaced = 0;
	c->rewrite = 0;
	c->file_no_cfr = 0;
	c->file_no_sendfile = 0;
	c->file_has_blocks = 0;
	c->file_split = 0;
	meta_loss_clear(&c->lost);
	c->given_up = NULL;
	c->source = NULL;
	c->src_path = NULL;
	c->meta = NULL;
}

void copier_free(struct copier *c)
{
	free(c->buf);
	c->buf = NULL;
}
