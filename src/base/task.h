/* task.h - what /proc tells of one thread: its scheduler state and times. */
#ifndef PCOPY_TASK_H
#define PCOPY_TASK_H

#include <stdint.h>
#include <sys/types.h>

/*
 * The scheduler state of thread `tid` of process `pid` ('R', 'S', 'D'...),
 * from /proc/PID/task/TID/stat, or 0 when it cannot be read.
 */
int task_state(pid_t pid, pid_t tid);

/*
 * Thread `tid` of process `pid`: its time on a CPU and waiting for one, in
 * ns, from /proc/PID/task/TID/schedstat.  0, or -1 when it cannot be read.
 */
int task_schedstat(pid_t pid, pid_t tid, uint64_t *run_ns, uint64_t *runq_ns);

#endif
