/* session.c - the shared state of a run. */
#include "core/session.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/util.h"
#include "core/queue.h"

struct shared_state *shared_state_create(int jobs, int shared)
{
	size_t size = sizeof(struct shared_state) + (size_t)(jobs + 1) * sizeof(struct worker_slot);
	int flags = MAP_ANONYMOUS | (shared ? MAP_SHARED : MAP_PRIVATE);
	struct shared_state *st;

	st = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (st == MAP_FAILED)
		return NULL;
	/* Zeroed by mmap: every counter and flag starts at 0. */
	st->nslots = jobs + 1;
	st->map_size = size;
	return st;
}

void shared_state_destroy(struct shared_state *st)
{
	if (st != NULL)
		munmap(st, st->map_size);
}

void session_ids_init(struct session *s)
{
	int n = getgroups(0, NULL);

	s->euid = geteuid();
	s->egid = getegid();
	s->groups = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*s->groups));
	if (n > 0)
		n = getgroups(n, s->groups);
	s->ngroups = n > 0 ? n : 0;
}

void session_ids_free(struct session *s)
{
	free(s->groups);
	s->groups = NULL;
	s->ngroups = 0;
}

void session_stop(const struct session *s)
{
	atomic_store(&s->shared->stop, 1);
	if (s->queue != NULL)
		queue_abort(s->queue);
}

struct worker_slot *parent_slot(const struct session *s)
{
	return &s->shared->slots[s->shared->nslots - 1];
}

void slot_count_dry_run(struct worker_slot *slot, enum job_kind kind, uint64_t size)
{
	switch (kind) {
	case JOB_REGULAR:
		atomic_fetch_add(&slot->files, 1);
		atomic_fetch_add(&slot->bytes, size);
		break;
	case JOB_SYMLINK: atomic_fetch_add(&slot->symlinks, 1); break;
	default: atomic_fetch_add(&slot->specials, 1); break;
	}
}

unsigned force_flags_from_env(void)
{
	static const struct {
		const char *name;
		unsigned flag;
	} names[] = {
		{ "no_tmpfile", FORCE_NO_TMPFILE },
		{ "no_copy_file_range", FORCE_NO_COPY_FILE_RANGE },
		{ "no_openat2", FORCE_NO_OPENAT2 },
		{ "walker_stats", FORCE_WALKER_STATS },
		{ "adapt_grow", FORCE_ADAPT_GROW },
		{ "cross_fs", FORCE_CROSS_FS },
		{ "walker_lists", FORCE_WALKER_LISTS },
		{ "split_all", FORCE_SPLIT_ALL },
		{ "one_stream", FORCE_ONE_STREAM },
		{ "workers_judge", FORCE_WORKERS_JUDGE },
	};
	const char *env = getenv("PCOPY_FORCE");
	unsigned flags = 0;

	if (env == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strstr(env, names[i].name) != NULL)
			flags |= names[i].flag;
	return flags;
}
