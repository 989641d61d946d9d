/*
 * progress.c - the parent's view of the workers' counters.  Workers only
 * add to counters in their own slot; the parent sums the slots a few times a
 * second, so reporting costs the copy nothing but relaxed atomic adds.
 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

#define SUM_SLOTS(s, field, out)                                                     \
	do {                                                                         \
		(out) = 0;                                                           \
		for (int i_ = 0; i_ < (s)->shared->nslots; i_++)                     \
			(out) += atomic_load_explicit(&(s)->shared->slots[i_].field, \
						      memory_order_relaxed);         \
	} while (0)

void progress_collect(const struct session *s, const struct scan *sc, double elapsed_s,
		      struct progress_counts *out)
{
	const struct shared_state *sh = s->shared;
	int walk_done = atomic_load(&sh->walk_done);
	uint64_t inflight;

	out->entries_total = atomic_load(&sh->queued_entries);
	out->bytes_total = atomic_load(&sh->queued_bytes);
	/*
	 * The totals are final only when the walk has ended: until then the
	 * scan's count may still be overtaken and the byte total is an
	 * estimate, so "scanning" stays on even after the scan has finished.
	 */
	out->scanning = !walk_done;
	if (!walk_done && sc != NULL) {
		uint64_t counted = atomic_load(&sc->entries);

		/* The scan counts names; bytes are the walker's mean size times that. */
		if (counted > out->entries_total && out->entries_total > 0)
			out->bytes_total = (uint64_t)((double)out->bytes_total * (double)counted /
						      (double)out->entries_total);
		out->entries_total = max_u64(out->entries_total, counted);
	}
	SUM_SLOTS(s, entries_done, out->entries_done);
	SUM_SLOTS(s, bytes_done, out->bytes_done);
	SUM_SLOTS(s, bytes_inflight, inflight);
	out->bytes_done += inflight;
	if (out->bytes_done > out->bytes_total)
		out->bytes_done = out->bytes_total;
	if (out->entries_done > out->entries_total)
		out->entries_done = out->entries_total;
	out->elapsed_s = elapsed_s;
}

double progress_percent(const struct progress_counts *c, double previous, int finished)
{
	double done, total, pct;

	if (finished)
		return 100.0;
	done = (double)c->bytes_done + (double)c->entries_done * PROGRESS_ENTRY_WEIGHT;
	total = (double)c->bytes_total + (double)c->entries_total * PROGRESS_ENTRY_WEIGHT;
	pct = total > 0 ? 100.0 * done / total : 0.0;
	if (pct > 99.9)
		pct = 99.9;
	return pct > previous ? pct : previous;
}

/* Human size: "12.3 MiB". */
static void human_bytes(double v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* "1:02:03" or "2:03"; "--:--" when unknown. */
static void human_eta(double pct, double elapsed, char *buf, size_t len)
{
	long secs;

	if (pct <= 0.0 || pct >= 100.0 || elapsed <= 0.0) {
		snprintf(buf, len, pct >= 100.0 ? "0:00" : "--:--");
		return;
	}
	secs = (long)(elapsed * (100.0 - pct) / pct + 0.5);
	if (secs >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", secs / 3600, secs / 60 % 60, secs % 60);
	else
		snprintf(buf, len, "%ld:%02ld", secs / 60, secs % 60);
}

static double rate_of(const struct progress_counts *c)
{
	return c->elapsed_s > 0 ? (double)c->bytes_done / c->elapsed_s : 0.0;
}

static size_t format_json(const struct progress_counts *c, double pct, int finished, char *buf,
			  size_t len)
{
	char percent[16];
	int n;

	/* Exactly 100, not 100.0, at the end: scripts may compare the text. */
	snprintf(percent, sizeof(percent), pct >= 100.0 ? "%.0f" : "%.1f", pct);
	n = snprintf(buf, len,
		     "{\"percent\":%s,\"files_done\":%llu,\"files_total\":%llu,"
		     "\"bytes_done\":%llu,\"bytes_total\":%llu,\"elapsed_s\":%.3f,"
		     "\"rate_bps\":%.0f,\"scanning\":%s,\"done\":%s}\n",
		     percent, (unsigned long long)c->entries_done,
		     (unsigned long long)c->entries_total, (unsigned long long)c->bytes_done,
		     (unsigned long long)c->bytes_total, c->elapsed_s, rate_of(c),
		     c->scanning && !finished ? "true" : "false", finished ? "true" : "false");
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

size_t progress_format(enum progress_style style, const struct progress_counts *c, double pct,
		       int finished, char *buf, size_t len)
{
	char done[32], total[32], rate[32], eta[32], bar[21];
	const char *more = c->scanning && !finished ? "+" : "";
	int n;

	if (style == PROGRESS_JSON)
		return format_json(c, pct, finished, buf, len);
	human_bytes((double)c->bytes_done, done, sizeof(done));
	human_bytes((double)c->bytes_total, total, sizeof(total));
	human_bytes(rate_of(c), rate, sizeof(rate));
	human_eta(pct, c->elapsed_s, eta, sizeof(eta));
	if (style == PROGRESS_PLAIN) {
		n = snprintf(buf, len, "%5.1f%% %llu/%llu%s files %s/%s%s %s/s ETA %s\n", pct,
			     (unsigned long long)c->entries_done,
			     (unsigned long long)c->entries_total, more, done, total, more, rate,
			     eta);
	} else {
		size_t fill = (size_t)(pct / 5.0);

		memset(bar, '#', fill);
		memset(bar + fill, '.', 20 - fill);
		bar[20] = '\0';
		n = snprintf(buf, len,
			     "\r%5.1f%% [%s] %llu/%llu%s files %s/%s%s %s/s ETA %s\033[K%s", pct,
			     bar, (unsigned long long)c->entries_done,
			     (unsigned long long)c->entries_total, more, done, total, more, rate,
			     eta, finished ? "\n" : "");
	}
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

void stats_collect(const struct session *s, double elapsed_s, struct run_stats *out)
{
	out->target = s->dst_display;
	out->mode = worker_mode_name(s->opts->mode);
	out->jobs = s->opts->jobs;
	SUM_SLOTS(s, files, out->files);
	SUM_SLOTS(s, dirs, out->dirs);
	SUM_SLOTS(s, symlinks, out->symlinks);
	SUM_SLOTS(s, specials, out->specials);
	SUM_SLOTS(s, hardlinks, out->hardlinks);
	SUM_SLOTS(s, bytes, out->bytes);
	SUM_SLOTS(s, errors, out->errors);
	SUM_SLOTS(s, unchanged, out->unchanged);
	SUM_SLOTS(s, meta_fixed, out->meta_fixed);
	SUM_SLOTS(s, vanished, out->vanished);
	out->elapsed_s = elapsed_s;
}

uint64_t stats_errors(const struct session *s)
{
	uint64_t errors;

	SUM_SLOTS(s, errors, errors);
	return errors;
}

uint64_t stats_vanished(const struct session *s)
{
	uint64_t vanished;

	SUM_SLOTS(s, vanished, vanished);
	return vanished;
}

size_t stats_format(enum stats_style style, const struct run_stats *st, char *buf, size_t len)
{
	double secs = st->elapsed_s > 0 ? st->elapsed_s : 1e-9;
	char bytes[32], rate[32];
	int n;

	if (style == STATS_JSON) {
		char *target = quote_json_alloc(st->target != NULL ? st->target : "");

		n = snprintf(buf, len,
			     "{\"mode\":\"%s\",\"jobs\":%d,\"files\":%llu,\"dirs\":%llu,"
			     "\"symlinks\":%llu,\"specials\":%llu,\"hardlinks\":%llu,"
			     "\"unchanged\":%llu,\"metadata_fixed\":%llu,"
			     "\"bytes\":%llu,\"errors\":%llu,\"vanished\":%llu,\"elapsed_s\":%.6f,"
			     "\"bytes_per_s\":%.0f,\"files_per_s\":%.1f,\"target\":%s}\n",
			     st->mode, st->jobs, (unsigned long long)st->files,
			     (unsigned long long)st->dirs, (unsigned long long)st->symlinks,
			     (unsigned long long)st->specials, (unsigned long long)st->hardlinks,
			     (unsigned long long)st->unchanged, (unsigned long long)st->meta_fixed,
			     (unsigned long long)st->bytes, (unsigned long long)st->errors,
			     (unsigned long long)st->vanished, st->elapsed_s,
			     (double)st->bytes / secs, (double)st->files / secs, target);
		free(target);
	} else {
		human_bytes((double)st->bytes, bytes, sizeof(bytes));
		human_bytes((double)st->bytes / secs, rate, sizeof(rate));
		n = snprintf(
			buf, len,
			"mode: %s, %d jobs\n"
			"files: %llu  dirs: %llu  symlinks: %llu  specials: %llu  hardlinks: %llu\n"
			"unchanged: %llu  metadata fixed: %llu\n"
			"bytes: %llu (%s)  errors: %llu  vanished: %llu\n"
			"elapsed: %.3f s  %s/s  %.0f files/s\n",
			st->mode, st->jobs, (unsigned long long)st->files,
			(unsigned long long)st->dirs, (unsigned long long)st->symlinks,
			(unsigned long long)st->specials, (unsigned long long)st->hardlinks,
			(unsigned long long)st->unchanged, (unsigned long long)st->meta_fixed,
			(unsigned long long)st->bytes, bytes, (unsigned long long)st->errors,
			(unsigned long long)st->vanished, st->elapsed_s, rate,
			(double)st->files / secs);
	}
	return n < 0 ? 0 : (size_t)n;
}
