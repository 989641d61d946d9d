/* main.c - pcopy: one process, its workers threads or processes (--mode). */
#include "cli/pcopy.h"

#include "core/options.h"
#include "run/kinds.h"

static const struct worker_kind *kind_of(const struct options *o)
{
	return o->mode == MODE_PROCESS ? &process_kind : &thread_kind;
}

int main(int argc, char **argv)
{
	static const struct launch one_process = { .kind = kind_of };

	return pcopy_main(argc, argv, &one_process);
}
