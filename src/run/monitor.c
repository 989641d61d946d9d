/*
 * monitor.c - one thread in the parent owns signals and the terminal.  It
 * waits in sigtimedwait for a tenth of a second at a time: SIGINT, SIGTERM
 * or SIGHUP make it stop the run (flag for the workers, queue aborted so
 * nobody sleeps on it); SIGCHLD makes it reap process workers; and every
 * wake-up it redraws progress if one is due.  Without -j it also looks at
 * the workers (adapt.c), every ADAPT_TICK while the pool may still grow.
 */
#include "run/monitor.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "core/queue.h"
#include "report/message.h"
#include "report/progress.h"

/* Seconds between two redraws, per style. */
static double draw_interval(enum progress_style style)
{
	switch (style) {
	case PROGRESS_BAR: return 0.1;
	case PROGRESS_PLAIN: return 1.0;
	case PROGRESS_JSON: return 1.0;
	default: return 0.0;
	}
}

void monitor_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGUSR1); /* monitor_finish's wake-up call */
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void draw(struct monitor *m, int finished)
{
	struct progress_counts c;
	char line[512];
	size_t len;

	progress_collect(m->s, m->scan != NULL ? atomic_load(&m->scan->entries) : 0,
			 monotonic_seconds() - m->start, &c);
	m->percent = progress_percent(&c, m->percent, finished);
	len = progress_format(m->style, &c, m->percent, finished, line, sizeof(line));
	(void)write_all(STDERR_FILENO, line, len);
}

/* A stop signal: workers finish their chunk and leave, nobody waits on the queue. */
static void stop_run(struct monitor *m, int sig)
{
	int expected = 0;

	if (!atomic_compare_exchange_strong(&m->caught, &expected, sig))
		return;
	atomic_store(&m->s->shared->stop, 1);
	if (m->s->queue != NULL)
		queue_abort(m->s->queue);
	if (m->scan != NULL)
		atomic_store(&m->scan->cancel, 1);
}

static void *monitor_main(void *arg)
{
	struct monitor *m = arg;
	const struct timespec slow = { 0, 100 * 1000 * 1000 };
	const struct timespec fast = { 0, (long)(ADAPT_TICK * 1e9) };
	double interval = draw_interval(m->style);

	while (!atomic_load(&m->finish)) {
		int sig = sigtimedwait(&m->signals, NULL, adapt_active(&m->adapt) ? &fast : &slow);

		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
			stop_run(m, sig);
		if (m->pool != NULL) {
			pool_reap(m->pool); /* SIGCHLD, or a missed one */
			adapt_tick(&m->adapt, m->pool);
			pool_follow(m->pool);
		}
		if (interval > 0 && monotonic_seconds() - m->last_draw >= interval &&
		    !atomic_load(&m->finish)) {
			draw(m, 0);
			m->last_draw = monotonic_seconds();
		}
	}
	return NULL;
}

int monitor_start(struct monitor *m)
{
	int rc;

	atomic_store(&m->finish, 0);
	adapt_init(&m->adapt, m->s);
	report_set_bar_active(m->style == PROGRESS_BAR);
	rc = pthread_create(&m->thread, NULL, monitor_main, m);
	m->running = rc == 0;
	if (rc != 0)
		errno = rc;
	return rc == 0 ? 0 : -1;
}

void monitor_finish(struct monitor *m)
{
	if (!m->running)
		return;
	atomic_store(&m->finish, 1);
	pthread_kill(m->thread, SIGUSR1); /* cut the current wait short */
	pthread_join(m->thread, NULL);
	m->running = 0;
}

void monitor_final(struct monitor *m)
{
	if (m->style == PROGRESS_NONE || m->style == PROGRESS_AUTO)
		return;
	draw(m, 1);
	report_set_bar_active(0);
}
