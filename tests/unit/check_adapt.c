/*
 * check_adapt.c - the adaptive worker count: the decision (a pure function
 * of what a window of looks saw) and reading a thread's scheduler state.
 */
#include <check.h>
#include <unistd.h>

#include "base/task.h"
#include "run/adapt.h"
#include "suites.h"

/*
 * A window of 4 looks at `workers` busy workers, `blocked` of them in 'D'
 * each time, using `cpus_used` CPUs.
 */
static struct adapt_window window(int workers, int blocked, int queue_empty, double cpus_used)
{
	struct adapt_window w = {
		.looks = 4,
		.workers = 4 * workers,
		.blocked = 4 * blocked,
		.queue_empty = queue_empty,
		.cpus_used = cpus_used,
	};

	return w;
}

/* Workers waiting on the device, a CPU to spare, jobs waiting: double. */
START_TEST(test_grows_when_blocked)
{
	struct adapt_window w = window(2, 2, 0, 0.1);

	ck_assert_int_eq(adapt_decide(&w, 2, 2, 32), 4);
	w = window(8, 2, 0, 0.5); /* a quarter blocked is enough */
	ck_assert_int_eq(adapt_decide(&w, 8, 2, 32), 16);
}
END_TEST

/* Never past the cap, and nothing more at the cap. */
START_TEST(test_stops_at_cap)
{
	struct adapt_window w = window(16, 16, 0, 0.2);

	ck_assert_int_eq(adapt_decide(&w, 16, 2, 20), 20);
	ck_assert_int_eq(adapt_decide(&w, 20, 2, 20), 20);
}
END_TEST

/* CPU work (tmpfs, warm cache): as many as now. */
START_TEST(test_keeps_when_running)
{
	struct adapt_window w = window(2, 0, 0, 1.9);

	ck_assert_int_eq(adapt_decide(&w, 2, 2, 32), 2);
	w = window(5, 1, 0, 1.0); /* one in five blocked is not enough */
	ck_assert_int_eq(adapt_decide(&w, 5, 2, 32), 5);
}
END_TEST

/* Blocked, but the workers keep the CPUs busy: more would only compete. */
START_TEST(test_keeps_when_cpu_saturated)
{
	struct adapt_window w = window(8, 4, 0, 1.7);

	ck_assert_int_eq(adapt_decide(&w, 8, 2, 32), 8);
	/* Workers runnable, but others hold the CPUs: the device still waits. */
	w = window(8, 4, 0, 0.9);
	ck_assert_int_eq(adapt_decide(&w, 8, 2, 32), 16);
}
END_TEST

/* The queue was mostly empty: the walker is the limit, not the workers. */
START_TEST(test_keeps_when_queue_empty)
{
	struct adapt_window w = window(2, 2, 3, 0.1);

	ck_assert_int_eq(adapt_decide(&w, 2, 2, 32), 2);
	w.queue_empty = 2; /* half the looks is not "mostly" */
	ck_assert_int_eq(adapt_decide(&w, 2, 2, 32), 4);
}
END_TEST

/* No look yet (or no busy worker seen): no decision. */
START_TEST(test_keeps_without_looks)
{
	struct adapt_window w = { 0 };

	ck_assert_int_eq(adapt_decide(&w, 2, 2, 32), 2);
	w.looks = 4; /* looked, but every worker was waiting for a job */
	ck_assert_int_eq(adapt_decide(&w, 2, 2, 32), 2);
}
END_TEST

/* The calling thread is running when it looks at itself; a gone one reads 0. */
START_TEST(test_task_state)
{
	ck_assert_int_eq(task_state(getpid(), gettid()), 'R');
	ck_assert_int_eq(task_state(getpid(), 0), 0);
}
END_TEST

/* Run time grows with work; a thread that is not there cannot be read. */
START_TEST(test_task_schedstat)
{
	uint64_t run0, run1, runq;
	volatile unsigned spin = 0;

	ck_assert_int_eq(task_schedstat(getpid(), gettid(), &run0, &runq), 0);
	for (unsigned i = 0; i < 20000000; i++)
		spin += i;
	ck_assert_int_eq(task_schedstat(getpid(), gettid(), &run1, &runq), 0);
	ck_assert_uint_gt(run1, run0);
	ck_assert_int_eq(task_schedstat(getpid(), 0, &run1, &runq), -1);
}
END_TEST

Suite *adapt_suite(void)
{
	Suite *s = suite_create("adapt");
	TCase *tc = tcase_create("decide");

	tcase_add_test(tc, test_grows_when_blocked);
	tcase_add_test(tc, test_stops_at_cap);
	tcase_add_test(tc, test_keeps_when_running);
	tcase_add_test(tc, test_keeps_when_cpu_saturated);
	tcase_add_test(tc, test_keeps_when_queue_empty);
	tcase_add_test(tc, test_keeps_without_looks);
	suite_add_tcase(s, tc);
	tc = tcase_create("proc");
	tcase_add_test(tc, test_task_state);
	tcase_add_test(tc, test_task_schedstat);
	suite_add_tcase(s, tc);
	return s;
}
