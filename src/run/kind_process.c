/*
 * kind_process.c - workers as forked processes (core/kind.h): the queue
 * and the slots in MAP_SHARED memory made before the fork, each worker a
 * direct child, reaped by the monitor on SIGCHLD and replaced if it dies.
 *
 * A replacement or an added worker may be forked by the monitor thread.
 * A process's PR_SET_PDEATHSIG follows that thread, not the process,
 * which is safe because the monitor is joined only after pool_wait has
 * reaped everyone.
 */
#include "run/kinds.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "core/kind.h"
#include "run/worker.h"

/* The kind's state: the pid of each slot's worker. */
struct processes {
	const struct session *s;
	pid_t parent; /* our pid, for the children's death check */
	pid_t *pids;  /* [capacity]: 0 when gone */
};

/* Body of a worker process; never returns. */
static void process_main(const struct session *s, int index, pid_t parent)
{
	struct worker w;

	/* Die with the parent; if it is already gone, do not start. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	worker_init(&w, s, &s->shared->slots[index]);
	worker_main(&w);
	worker_free(&w);
	_exit(0);
}

static void *processes_open(const struct session *s, int capacity)
{
	struct processes *p = xcalloc(1, sizeof(*p));

	p->s = s;
	p->parent = getpid();
	p->pids = xcalloc((size_t)capacity, sizeof(*p->pids));
	return p;
}

static int processes_start(void *state, int index)
{
	struct processes *p = state;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		process_main(p->s, index, p->parent);
	p->pids[index] = pid;
	return 0;
}

static int processes_ended(void *state, int index, int block, int *status)
{
	struct processes *p = state;

	if (p->pids[index] <= 0 || waitpid(p->pids[index], status, block ? 0 : WNOHANG) <= 0)
		return 0;
	p->pids[index] = 0;
	return 1;
}

static void processes_close(void *state)
{
	struct processes *p = state;

	free(p->pids);
	free(p);
}

const struct worker_kind process_kind = {
	.name = "process",
	.flags = KIND_PROCESSES | KIND_RESPAWN | KIND_REAPED,
	.open = processes_open,
	.start = processes_start,
	.ended = processes_ended,
	.close = processes_close,
};
