/*
 * check_queue.c - the bounded queue, private (threads) and shared (processes).
 *
 * Each blocking test runs the blocked side as a "party": a thread on the
 * private backend, a forked process on the shared one.  A party never calls
 * ck_assert; it returns 0 when it saw what it expected (a process as its
 * exit status) and the test asserts on that.  "Blocked" is observed, not
 * assumed after a sleep: the party's task must be seen asleep in futex(2),
 * the only place the queue sleeps, while it has not returned.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/queue.h"
#include "suites.h"
#include "testlib.h"

/* Fill a record whose every field follows from `id`. */
static void job_make(struct job *j, uint32_t id)
{
	memset(j, 0, JOB_HEADER_SIZE);
	j->kind = JOB_REGULAR + id % 3;
	j->path_len = (uint32_t)snprintf(j->path, sizeof(j->path), "dir-%u/entry-%u", id / 100, id);
	j->st.dev = 0x100000000ull + id;
	j->st.ino = (uint64_t)id * 2654435761u;
	j->st.size = (uint64_t)id << 20 | 7;
	j->st.blocks = id / 8;
	j->st.rdev = ~(uint64_t)id;
	j->st.atime_sec = -(int64_t)id;
	j->st.atime_nsec = id % 1000000000;
	j->st.mtime_sec = (int64_t)id * 3;
	j->st.mtime_nsec = 999999999 - id % 1000000000;
	j->st.mode = 0100000 | (id & 07777);
	j->st.uid = id;
	j->st.gid = id ^ 0xffff;
	j->st.nlink = 1 + id % 5;
}

/* The id a popped record was made with, or -1 if any field is wrong. */
static long job_id(const struct job *j)
{
	unsigned dir, id;
	struct job want;

	if (j->path_len >= JOB_PATH_MAX || j->path[j->path_len] != '\0' ||
	    sscanf(j->path, "dir-%u/entry-%u", &dir, &id) != 2)
		return -1;
	job_make(&want, id);
	if (j->kind != want.kind || j->path_len != want.path_len ||
	    strcmp(j->path, want.path) != 0 || memcmp(&j->st, &want.st, sizeof(want.st)) != 0)
		return -1;
	return (long)id;
}

static void push_id(struct queue *q, uint32_t id)
{
	struct job j;

	job_make(&j, id);
	ck_assert_int_eq(queue_push(q, &j), 0);
}

/* Pop one record and return its id (asserting it is intact). */
static long pop_id(struct queue *q)
{
	struct job j;
	long id;

	ck_assert_int_eq(queue_pop(q, &j, NULL), 0);
	id = job_id(&j);
	ck_assert_int_ge(id, 0);
	return id;
}

static void assert_push_refused(struct queue *q)
{
	struct job j;

	job_make(&j, 1);
	errno = 0;
	ck_assert_int_eq(queue_push(q, &j), -1);
	ck_assert_int_eq(errno, EPIPE);
}

static void assert_pop_refused(struct queue *q)
{
	struct job j;

	errno = 0;
	ck_assert_int_eq(queue_pop(q, &j, NULL), -1);
	ck_assert_int_eq(errno, EPIPE);
}

/* Loop tests run once per backend: _i is the enum queue_backend. */
static struct queue *make_queue(size_t capacity, int backend)
{
	struct queue *q = queue_create(capacity, (enum queue_backend)backend);

	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(queue_capacity(q), capacity);
	ck_assert_uint_eq(queue_length(q), 0);
	return q;
}

/* try_pop: EAGAIN while empty and open, the jobs in order, EPIPE once closed and drained. */
START_TEST(test_try_pop_never_waits)
{
	struct queue *q = make_queue(4, _i);
	struct job j;

	errno = 0;
	ck_assert_int_eq(queue_try_pop(q, &j), -1);
	ck_assert_int_eq(errno, EAGAIN);
	push_id(q, 7);
	push_id(q, 8);
	ck_assert_int_eq(queue_try_pop(q, &j), 0);
	ck_assert_int_eq(job_id(&j), 7);
	queue_close(q);
	ck_assert_int_eq(queue_try_pop(q, &j), 0);
	ck_assert_int_eq(job_id(&j), 8);
	errno = 0;
	ck_assert_int_eq(queue_try_pop(q, &j), -1);
	ck_assert_int_eq(errno, EPIPE);
	queue_destroy(q);
}
END_TEST

/* An operation a party runs: 0 when it saw what it expected. */
typedef int (*party_fn)(struct queue *q, uint32_t arg);

/* A thread (private backend) or forked process (shared) running one party_fn. */
struct party {
	party_fn fn;
	struct queue *q;
	uint32_t arg;
	int is_process;
	pthread_t thread;
	pid_t pid;         /* the process the party runs in */
	_Atomic pid_t tid; /* its task, 0 until the thread has started */
	_Atomic int done;  /* fn has returned (or the process exited) */
	int result;        /* fn's value, or the process's exit code / 128+signal */
};

static void *party_thread(void *arg)
{
	struct party *p = arg;

	atomic_store(&p->tid, (pid_t)gettid());
	p->result = p->fn(p->q, p->arg);
	atomic_store(&p->done, 1);
	return NULL;
}

static void party_start(struct party *p, int backend, party_fn fn, struct queue *q, uint32_t arg)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->q = q;
	p->arg = arg;
	p->is_process = backend == QUEUE_SHARED;
	if (!p->is_process) {
		p->pid = getpid();
		ck_assert_int_eq(pthread_create(&p->thread, NULL, party_thread, p), 0);
		return;
	}
	p->pid = fork();
	ck_assert_int_ge(p->pid, 0);
	if (p->pid == 0) {
		child_die_with_parent();
		_exit(fn(q, arg));
	}
	atomic_store(&p->tid, p->pid);
}

/* Has the party finished?  Never blocks. */
static int party_finished(struct party *p)
{
	int status;

	if (atomic_load(&p->done))
		return 1;
	if (!p->is_process || waitpid(p->pid, &status, WNOHANG) != p->pid)
		return 0;
	p->result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	atomic_store(&p->done, 1);
	return 1;
}

/* Wait for the party; its result, or -1 if it did not finish in time. */
static int party_join(struct party *p)
{
	double end = test_now() + TEST_WAIT_S;

	while (!party_finished(p)) {
		if (test_now() >= end) {
			if (p->is_process) {
				kill(p->pid, SIGKILL);
				(void)waitpid(p->pid, NULL, 0);
			}
			return -1;
		}
		test_pause(0.001);
	}
	if (!p->is_process)
		pthread_join(p->thread, NULL);
	return p->result;
}

/* 1 once the party is seen asleep in the queue, 0 if it returned instead. */
static int party_blocked(struct party *p)
{
	double end = test_now() + TEST_WAIT_S;
	int streak = 0;

	while (test_now() < end && !party_finished(p)) {
		pid_t tid = atomic_load(&p->tid);

		streak = tid != 0 && task_in_futex(p->pid, tid) ? streak + 1 : 0;
		if (streak >= 3)
			return !party_finished(p);
		test_pause(0.005);
	}
	return 0;
}

static int op_push(struct queue *q, uint32_t id)
{
	struct job j;

	job_make(&j, id);
	return queue_push(q, &j) == 0 ? 0 : 1;
}

static int op_push_refused(struct queue *q, uint32_t id)
{
	struct job j;

	job_make(&j, id);
	return queue_push(q, &j) == -1 && errno == EPIPE ? 0 : 1;
}

static int op_pop_expect(struct queue *q, uint32_t id)
{
	struct job j;

	if (queue_pop(q, &j, NULL) != 0)
		return 1;
	return job_id(&j) == (long)id ? 0 : 2;
}

static int op_pop_refused(struct queue *q, uint32_t unused)
{
	struct job j;

	(void)unused;
	return queue_pop(q, &j, NULL) == -1 && errno == EPIPE ? 0 : 1;
}

/* Push ids 0..n-1 in order. */
static int op_push_many(struct queue *q, uint32_t n)
{
	for (uint32_t id = 0; id < n; id++)
		if (op_push(q, id) != 0)
			return 1;
	return 0;
}

/* Pop n records, expecting ids 0..n-1 in order. */
static int op_pop_many(struct queue *q, uint32_t n)
{
	for (uint32_t id = 0; id < n; id++)
		if (op_pop_expect(q, id) != 0)
			return 1;
	return 0;
}

START_TEST(test_create_refuses_zero)
{
	errno = 0;
	ck_assert_ptr_null(queue_create(0, (enum queue_backend)_i));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(queue_create(SIZE_MAX / 2, (enum queue_backend)_i));
	ck_assert_int_ne(errno, 0);
}
END_TEST

START_TEST(test_fifo_order_and_contents)
{
	struct queue *q = make_queue(8, _i);
	_Atomic int busy = 0;
	struct job j;

	for (uint32_t id = 0; id < 8; id++)
		push_id(q, 1000 + id);
	ck_assert_uint_eq(queue_length(q), 8);
	ck_assert_int_eq(queue_pop(q, &j, &busy), 0);
	ck_assert_msg(atomic_load(&busy) == 1, "busy not set by pop");
	ck_assert_int_eq(job_id(&j), 1000);
	ck_assert_str_eq(j.path, "dir-10/entry-1000");
	ck_assert_uint_eq(j.st.ino, 1000ull * 2654435761u);
	ck_assert_int_eq(j.st.mtime_nsec, 999999999 - 1000);
	for (uint32_t id = 1; id < 8; id++)
		ck_assert_int_eq(pop_id(q), 1000 + id);
	ck_assert_uint_eq(queue_length(q), 0);
	queue_destroy(q);
}
END_TEST

/* The ring wraps many times and records go to another task intact. */
START_TEST(test_fifo_across_tasks)
{
	struct queue *q = make_queue(3, _i);
	struct party producer, consumer;
	int consumed;

	party_start(&consumer, _i, op_pop_many, q, 500);
	party_start(&producer, _i, op_push_many, q, 500);
	consumed = party_join(&consumer);
	queue_close(q); /* a consumer that gave up must not leave the producer stuck */
	ck_assert_int_eq(party_join(&producer), 0);
	ck_assert_int_eq(consumed, 0);
	ck_assert_uint_eq(queue_length(q), 0);
	queue_destroy(q);
}
END_TEST

START_TEST(test_longest_path_survives)
{
	struct queue *q = make_queue(2, _i);
	struct job in, out;

	memset(&in, 0, sizeof(in));
	in.kind = JOB_SYMLINK;
	in.path_len = JOB_PATH_MAX - 1;
	memset(in.path, 'p', in.path_len);
	in.path[0] = 'a';
	in.path[in.path_len - 1] = 'z';
	in.st.size = 42;
	ck_assert_int_eq(queue_push(q, &in), 0);
	ck_assert_int_eq(queue_pop(q, &out, NULL), 0);
	ck_assert_uint_eq(out.kind, JOB_SYMLINK);
	ck_assert_uint_eq(out.path_len, JOB_PATH_MAX - 1);
	ck_assert_mem_eq(out.path, in.path, JOB_PATH_MAX);
	ck_assert_uint_eq(out.st.size, 42);
	queue_destroy(q);
}
END_TEST

START_TEST(test_push_blocks_when_full)
{
	struct queue *q = make_queue(2, _i);
	struct party producer;

	push_id(q, 0);
	push_id(q, 1);
	party_start(&producer, _i, op_push, q, 2);
	ck_assert_msg(party_blocked(&producer), "push into a full queue returned");
	ck_assert_uint_eq(queue_length(q), 2);
	ck_assert_int_eq(pop_id(q), 0);
	ck_assert_int_eq(party_join(&producer), 0);
	ck_assert_int_eq(pop_id(q), 1);
	ck_assert_int_eq(pop_id(q), 2);
	queue_destroy(q);
}
END_TEST

START_TEST(test_pop_blocks_when_empty)
{
	struct queue *q = make_queue(4, _i);
	struct party consumer;

	party_start(&consumer, _i, op_pop_expect, q, 7);
	ck_assert_msg(party_blocked(&consumer), "pop from an empty queue returned");
	push_id(q, 7);
	ck_assert_int_eq(party_join(&consumer), 0);
	ck_assert_uint_eq(queue_length(q), 0);
	queue_destroy(q);
}
END_TEST

/*
 * A big queue wakes a sleeping consumer only once 8 jobs wait, or on
 * queue_flush: a lone job waits for its flush, a batch goes at once.
 */
START_TEST(test_wake_batch_and_flush)
{
	struct queue *q = make_queue(64, _i);
	struct party consumer;

	party_start(&consumer, _i, op_pop_expect, q, 0);
	ck_assert_msg(party_blocked(&consumer), "pop from an empty queue returned");
	push_id(q, 0);
	ck_assert_msg(party_blocked(&consumer), "one job woke a consumer of a big queue");
	queue_flush(q);
	ck_assert_int_eq(party_join(&consumer), 0);
	party_start(&consumer, _i, op_pop_expect, q, 1);
	ck_assert(party_blocked(&consumer));
	for (int id = 1; id <= 8; id++)
		push_id(q, id);
	ck_assert_int_eq(party_join(&consumer), 0);
	queue_destroy(q);
}
END_TEST

#define SLEEPERS 4

START_TEST(test_close_wakes_all_consumers)
{
	struct queue *q = make_queue(4, _i);
	struct party consumers[SLEEPERS];

	for (int k = 0; k < SLEEPERS; k++)
		party_start(&consumers[k], _i, op_pop_refused, q, 0);
	for (int k = 0; k < SLEEPERS; k++)
		ck_assert_msg(party_blocked(&consumers[k]), "consumer %d did not block", k);
	queue_close(q);
	for (int k = 0; k < SLEEPERS; k++)
		ck_assert_int_eq(party_join(&consumers[k]), 0);
	assert_push_refused(q);
	assert_pop_refused(q);
	queue_destroy(q);
}
END_TEST

START_TEST(test_close_wakes_blocked_producer)
{
	struct queue *q = make_queue(1, _i);
	struct party producer;

	push_id(q, 0);
	party_start(&producer, _i, op_push_refused, q, 1);
	ck_assert(party_blocked(&producer));
	queue_close(q);
	ck_assert_int_eq(party_join(&producer), 0);
	ck_assert_int_eq(pop_id(q), 0);
	assert_pop_refused(q);
	queue_destroy(q);
}
END_TEST

START_TEST(test_close_drains_queued)
{
	struct queue *q = make_queue(4, _i);

	for (uint32_t id = 0; id < 3; id++)
		push_id(q, id);
	queue_close(q);
	assert_push_refused(q);
	ck_assert_uint_eq(queue_length(q), 3);
	for (uint32_t id = 0; id < 3; id++)
		ck_assert_int_eq(pop_id(q), id);
	assert_pop_refused(q);
	assert_pop_refused(q);
	queue_destroy(q);
}
END_TEST

START_TEST(test_abort_drops_queued)
{
	struct queue *q = make_queue(4, _i);

	for (uint32_t id = 0; id < 3; id++)
		push_id(q, id);
	queue_abort(q);
	ck_assert_uint_eq(queue_length(q), 0);
	assert_pop_refused(q);
	assert_push_refused(q);
	queue_destroy(q);
}
END_TEST

START_TEST(test_abort_wakes_consumer)
{
	struct queue *q = make_queue(2, _i);
	struct party consumer;

	party_start(&consumer, _i, op_pop_refused, q, 0);
	ck_assert(party_blocked(&consumer));
	queue_abort(q);
	ck_assert_int_eq(party_join(&consumer), 0);
	queue_destroy(q);
}
END_TEST

START_TEST(test_capacity_one)
{
	struct queue *q = make_queue(1, _i);
	struct party producer;
	int consumed;

	push_id(q, 0);
	party_start(&producer, _i, op_push, q, 1);
	ck_assert(party_blocked(&producer));
	ck_assert_uint_eq(queue_length(q), 1);
	ck_assert_int_eq(pop_id(q), 0);
	ck_assert_int_eq(party_join(&producer), 0);
	ck_assert_int_eq(pop_id(q), 1);
	/* Ping-pong: every push waits for the previous pop. */
	party_start(&producer, _i, op_push_many, q, 2000);
	consumed = op_pop_many(q, 2000);
	queue_close(q);
	ck_assert_int_eq(party_join(&producer), 0);
	ck_assert_int_eq(consumed, 0);
	ck_assert_uint_eq(queue_length(q), 0);
	queue_destroy(q);
}
END_TEST

/* Many producers, many consumers: every record delivered exactly once. */
#define MPMC_PRODUCERS 4
#define MPMC_CONSUMERS 4
#define MPMC_ITEMS 20000

/* What consumers saw, in shared memory so forked consumers can write it. */
struct tally {
	_Atomic uint32_t seen[MPMC_ITEMS]; /* deliveries of each id */
	_Atomic uint64_t id_sum;           /* checksum: sum of ids delivered */
	_Atomic uint32_t bad;              /* damaged or out-of-order records */
};

static struct tally *tally;

/* Producer `p` pushes ids p, p + P, p + 2P, ... */
static int op_produce(struct queue *q, uint32_t p)
{
	for (uint32_t id = p; id < MPMC_ITEMS; id += MPMC_PRODUCERS)
		if (op_push(q, id) != 0)
			return 1;
	return 0;
}

/* Pop until closed; each producer's ids must arrive in increasing order. */
static int op_consume(struct queue *q, uint32_t unused)
{
	long last[MPMC_PRODUCERS];
	struct job j;

	(void)unused;
	for (int p = 0; p < MPMC_PRODUCERS; p++)
		last[p] = -1;
	while (queue_pop(q, &j, NULL) == 0) {
		long id = job_id(&j);

		if (id < 0 || id >= MPMC_ITEMS || id <= last[id % MPMC_PRODUCERS]) {
			atomic_fetch_add(&tally->bad, 1);
			continue;
		}
		last[id % MPMC_PRODUCERS] = id;
		atomic_fetch_add(&tally->seen[id], 1);
		atomic_fetch_add(&tally->id_sum, (uint64_t)id);
	}
	return errno == EPIPE ? 0 : 1;
}

/* Backend and the kind of each side, per loop index. */
static const struct mpmc_config {
	enum queue_backend backend;
	enum queue_backend producers; /* QUEUE_SHARED: as processes */
	enum queue_backend consumers;
} mpmc_configs[] = {
	{ QUEUE_PRIVATE, QUEUE_PRIVATE, QUEUE_PRIVATE },
	{ QUEUE_SHARED, QUEUE_PRIVATE, QUEUE_PRIVATE },
	{ QUEUE_SHARED, QUEUE_PRIVATE, QUEUE_SHARED },
	{ QUEUE_SHARED, QUEUE_SHARED, QUEUE_SHARED },
};

static void check_tally(void)
{
	uint64_t want_sum = (uint64_t)MPMC_ITEMS * (MPMC_ITEMS - 1) / 2;
	uint64_t sum = atomic_load(&tally->id_sum);
	uint32_t bad = atomic_load(&tally->bad);

	ck_assert_msg(bad == 0, "%u records damaged or out of order", bad);
	for (uint32_t id = 0; id < MPMC_ITEMS; id++) {
		uint32_t seen = atomic_load(&tally->seen[id]);

		ck_assert_msg(seen == 1, "id %u delivered %u times", id, seen);
	}
	ck_assert_uint_eq(sum, want_sum);
}

START_TEST(test_many_producers_many_consumers)
{
	const struct mpmc_config *cf = &mpmc_configs[_i];
	struct party producers[MPMC_PRODUCERS], consumers[MPMC_CONSUMERS];
	struct queue *q = make_queue(16, cf->backend);

	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	ck_assert_ptr_ne(tally, MAP_FAILED);
	/* Processes are forked first, before this process has other threads. */
	for (int k = 0; k < MPMC_CONSUMERS; k++)
		party_start(&consumers[k], cf->consumers, op_consume, q, 0);
	for (int k = 0; k < MPMC_PRODUCERS; k++)
		party_start(&producers[k], cf->producers, op_produce, q, (uint32_t)k);
	for (int k = 0; k < MPMC_PRODUCERS; k++)
		ck_assert_int_eq(party_join(&producers[k]), 0);
	queue_close(q);
	for (int k = 0; k < MPMC_CONSUMERS; k++)
		ck_assert_int_eq(party_join(&consumers[k]), 0);
	check_tally();
	munmap(tally, sizeof(*tally));
	queue_destroy(q);
}
END_TEST

/*
 * A process killed while it holds the queue lock.  The child pushes and
 * pops as fast as it can; it is stopped at a random moment, and a probe
 * thread then asks for the queue length: if the probe sleeps in futex(2),
 * the stopped child holds the lock.  The child is then SIGKILLed, and the
 * probe must return (robust mutex), the ring must still be sound, and
 * pushes and pops must still work.  The test asserts that the "held" case
 * really happened in some of the iterations.
 */
#define KILL_ROUNDS 200

struct probe {
	struct queue *q;
	_Atomic pid_t tid;
	_Atomic int done;
};

static void *probe_thread(void *arg)
{
	struct probe *pr = arg;

	atomic_store(&pr->tid, (pid_t)gettid());
	(void)queue_length(pr->q);
	atomic_store(&pr->done, 1);
	return NULL;
}

static _Noreturn void churn(struct queue *q)
{
	struct job in, out;

	job_make(&in, 77);
	for (;;)
		if (queue_push(q, &in) != 0 || queue_pop(q, &out, NULL) != 0)
			_exit(1);
}

static pid_t start_stopped_churner(struct queue *q, unsigned *seed)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		child_die_with_parent();
		churn(q);
	}
	test_pause((double)(rand_r(seed) % 2000) / 1e6);
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert(WIFSTOPPED(status));
	return pid;
}

/* 1 if the probe is stuck on the lock, 0 if it got through. */
static int probe_lock_held(struct probe *pr)
{
	double end = test_now() + TEST_WAIT_S;
	int streak = 0;

	while (!atomic_load(&pr->done) && test_now() < end) {
		pid_t tid = atomic_load(&pr->tid);

		streak = tid != 0 && task_in_futex(getpid(), tid) ? streak + 1 : 0;
		if (streak >= 3)
			return !atomic_load(&pr->done);
		test_pause(0.002);
	}
	return 0;
}

/* After a kill: what is queued is intact, and push/pop still work. */
static void assert_queue_sound(struct queue *q, uint32_t round)
{
	size_t left = queue_length(q);

	ck_assert_uint_le(left, 1);
	while (left-- > 0)
		ck_assert_int_eq(pop_id(q), 77);
	push_id(q, round);
	ck_assert_int_eq(pop_id(q), round);
	ck_assert_uint_eq(queue_length(q), 0);
}

START_TEST(test_kill_while_holding_lock)
{
	struct queue *q = make_queue(4, QUEUE_SHARED);
	struct party producer, consumer;
	unsigned seed = 12345;
	int held = 0;

	for (uint32_t round = 0; round < KILL_ROUNDS; round++) {
		struct probe pr = { .q = q };
		pthread_t probe;
		pid_t pid = start_stopped_churner(q, &seed);

		ck_assert_int_eq(pthread_create(&probe, NULL, probe_thread, &pr), 0);
		held += probe_lock_held(&pr);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
		ck_assert_msg(wait_flag(&pr.done, TEST_WAIT_S),
			      "lock of a killed process not recovered");
		pthread_join(probe, NULL);
		assert_queue_sound(q, 1000 + round);
	}
	ck_assert_msg(held > 0, "no child was killed holding the lock in %d rounds", KILL_ROUNDS);
	/* Other processes still share the queue normally. */
	party_start(&consumer, QUEUE_SHARED, op_pop_many, q, 1000);
	party_start(&producer, QUEUE_SHARED, op_push_many, q, 1000);
	ck_assert_int_eq(party_join(&producer), 0);
	ck_assert_int_eq(party_join(&consumer), 0);
	queue_destroy(q);
}
END_TEST

/* Kill a party that sleeps in the queue; return its exit code. */
static int kill_blocked(struct party *p)
{
	ck_assert(party_blocked(p));
	kill(p->pid, SIGKILL);
	return party_join(p);
}

START_TEST(test_kill_sleeping_consumer_and_producer)
{
	struct queue *q = make_queue(1, QUEUE_SHARED);
	struct party p;

	party_start(&p, QUEUE_SHARED, op_pop_expect, q, 0);
	ck_assert_int_eq(kill_blocked(&p), 128 + SIGKILL);
	party_start(&p, QUEUE_SHARED, op_pop_expect, q, 5);
	ck_assert(party_blocked(&p));
	push_id(q, 5);
	ck_assert_int_eq(party_join(&p), 0);

	push_id(q, 6);
	party_start(&p, QUEUE_SHARED, op_push, q, 0);
	ck_assert_int_eq(kill_blocked(&p), 128 + SIGKILL);
	party_start(&p, QUEUE_SHARED, op_push, q, 8);
	ck_assert(party_blocked(&p));
	ck_assert_int_eq(pop_id(q), 6);
	ck_assert_int_eq(party_join(&p), 0);
	ck_assert_int_eq(pop_id(q), 8);
	queue_destroy(q);
}
END_TEST

Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *basic = tcase_create("basic");
	TCase *blocking = tcase_create("blocking");
	TCase *stress = tcase_create("stress");
	TCase *killed = tcase_create("kill");
	int backends = QUEUE_SHARED + 1;

	tcase_add_loop_test(basic, test_create_refuses_zero, 0, backends);
	tcase_add_loop_test(basic, test_fifo_order_and_contents, 0, backends);
	tcase_add_loop_test(basic, test_longest_path_survives, 0, backends);
	tcase_add_loop_test(basic, test_close_drains_queued, 0, backends);
	tcase_add_loop_test(basic, test_abort_drops_queued, 0, backends);
	tcase_add_loop_test(basic, test_try_pop_never_waits, 0, backends);
	tcase_set_timeout(basic, 60);
	suite_add_tcase(s, basic);

	tcase_add_loop_test(blocking, test_fifo_across_tasks, 0, backends);
	tcase_add_loop_test(blocking, test_push_blocks_when_full, 0, backends);
	tcase_add_loop_test(blocking, test_pop_blocks_when_empty, 0, backends);
	tcase_add_loop_test(blocking, test_wake_batch_and_flush, 0, backends);
	tcase_add_loop_test(blocking, test_close_wakes_all_consumers, 0, backends);
	tcase_add_loop_test(blocking, test_close_wakes_blocked_producer, 0, backends);
	tcase_add_loop_test(blocking, test_abort_wakes_consumer, 0, backends);
	tcase_add_loop_test(blocking, test_capacity_one, 0, backends);
	tcase_set_timeout(blocking, 120);
	suite_add_tcase(s, blocking);

	tcase_add_loop_test(stress, test_many_producers_many_consumers, 0,
			    (int)(sizeof(mpmc_configs) / sizeof(mpmc_configs[0])));
	tcase_set_timeout(stress, 300);
	suite_add_tcase(s, stress);

	tcase_add_test(killed, test_kill_while_holding_lock);
	tcase_add_test(killed, test_kill_sleeping_consumer_and_producer);
	tcase_set_timeout(killed, 300);
	suite_add_tcase(s, killed);
	return s;
}
