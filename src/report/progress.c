/*
 * progress.c - the parent's view of the workers' counters.  Workers only
 * add to counters in their own slot; the parent sums the slots a few times a
 * second, so reporting costs the copy nothing but relaxed atomic adds.
 */
#include "report/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kind.h"
#include "report/quote.h"

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

void progress_collect(const struct session *s, uint64_t scanned, double elapsed_s,
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
	if (!walk_done && scanned > 0) {
		uint64_t counted = scanned;

		/* The scan counts names; bytes are the walker's mean size times that. */
		if (counted > out->entries_total && out->entries_total > 0)
			out->bytes_total = (uint64_t)((double)out->bytes_total * (double)counted /
						      (double)out->entries_total);
		out->entries_total = max_u64(out->entries_total, counted);
	}
	SUM_SLOTS(s, entries_done, out->entries_done);
	SUM_SLOTS(s, bytes_done, out->bytes_done);
	SUM_SLOTS(s, bytes_inflight, inflight);
	SUM_SLOTS(s, bytes_skipped, out->bytes_skipped);
	out->bytes_done += inflight;
	if (out->bytes_done > out->bytes_total)
		out->bytes_done = out->bytes_total;
	if (out->bytes_skipped > out->bytes_done)
		out->bytes_skipped = out->bytes_done;
	if (out->entries_done > out->entries_total)
		out->entries_done = out->entries_total;
	out->elapsed_s = elapsed_s;
}

double progress_percent(const struct progress_counts *c, double previous, int finished)
{
	double done, total, pct;

	if (finished)
		return 100.0;
	done = (double)(c->bytes_done - c->bytes_skipped) +
	       (double)c->entries_done * PROGRESS_ENTRY_WEIGHT;
	total = (double)(c->bytes_total - c->bytes_skipped) +
		(double)c->entries_total * PROGRESS_ENTRY_WEIGHT;
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
	out->mode = s->kind->name;
	uint64_t ns;
	int peak = atomic_load(&s->shared->jobs_peak);

	out->jobs_start = s->opts->jobs;
	out->jobs = peak > 0 ? peak : s->opts->jobs; /* 0: no pool (one entry, dry run) */
	out->adaptive = s->opts->jobs_adaptive;
	SUM_SLOTS(s, cpu_ns, ns);
	out->cpu_s = (double)ns / 1e9;
	SUM_SLOTS(s, runq_ns, ns);
	out->runq_s = (double)ns / 1e9;
	SUM_SLOTS(s, wait_ns, ns);
	out->wait_s = (double)ns / 1e9;
	SUM_SLOTS(s, idle_ns, ns);
	out->idle_s = (double)ns / 1e9;
	out->unit = s->kind->unit;
	/* The walker's, then each worker that ran (streams open only as needed). */
	out->units = out->unit != NULL ? atomic_load(&s->shared->jobs_peak) + 1 : 0;
	out->nslots = s->shared->nslots;
	out->slots = out->unit != NULL ? s->shared->slots : NULL;
	SUM_SLOTS(s, files, out->files);
	SUM_SLOTS(s, dirs, out->dirs);
	SUM_SLOTS(s, symlinks, out->symlinks);
	SUM_SLOTS(s, specials, out->specials);
	SUM_SLOTS(s, hardlinks, out->hardlinks);
	SUM_SLOTS(s, created, out->created);
	SUM_SLOTS(s, updated, out->updated);
	SUM_SLOTS(s, meta_updated, out->meta_updated);
	SUM_SLOTS(s, unchanged, out->unchanged);
	SUM_SLOTS(s, deleted, out->deleted);
	SUM_SLOTS(s, linked, out->linked);
	SUM_SLOTS(s, bytes, out->bytes_copied);
	SUM_SLOTS(s, errors, out->errors);
	out->bytes = atomic_load(&s->shared->queued_bytes);
	SUM_SLOTS(s, vanished, out->vanished);
	SUM_SLOTS(s, split_files, out->split_files);
	out->elapsed_s = elapsed_s;
}

uint64_t stats_errors(const struct session *s)
{
	uint64_t errors;

	SUM_SLOTS(s, errors, errors);
	return errors;
}

/* The summary's counters, in output order. */
struct stats_field {
	const char *key;   /* JSON key */
	const char *label; /* text label */
	uint64_t value;
};

#define STATS_FIELDS 15

static void stats_fields(const struct run_stats *st, struct stats_field f[STATS_FIELDS])
{
	const struct stats_field all[STATS_FIELDS] = {
		{ "files", "files", st->files },
		{ "dirs", "dirs", st->dirs },
		{ "symlinks", "symlinks", st->symlinks },
		{ "specials", "specials", st->specials },
		{ "hardlinks", "hardlinks", st->hardlinks },
		{ "created", "created", st->created },
		{ "updated", "updated", st->updated },
		{ "meta_updated", "metadata", st->meta_updated },
		{ "unchanged", "unchanged", st->unchanged },
		{ "deleted", "deleted", st->deleted },
		{ "linked", "linked", st->linked },
		{ "bytes", "bytes", st->bytes },
		{ "bytes_copied", "copied", st->bytes_copied },
		{ "errors", "errors", st->errors },
		{ "vanished", "vanished", st->vanished },
	};

	memcpy(f, all, sizeof(all));
}

/* Append to buf like snprintf at *at; *at keeps the whole length. */
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*at < len ? buf + *at : NULL, *at < len ? len - *at : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n;
}

/* Worker k's slot (worker 0, the walker, is the parent's, after the others'). */
static const struct worker_slot *unit_slot(const struct run_stats *st, int k)
{
	return &st->slots[k == 0 ? st->nslots - 1 : k - 1];
}

static double ns_to_s(const _Atomic uint64_t *ns)
{
	return (double)atomic_load(ns) / 1e9;
}

/*
 * Per-worker figures (MPI's ranks): ,"ranks":N,"per_rank":[{"files":F,
 * "bytes":B,"dirs_listed":D,"entries_listed":E,"judged":J,"cpu_s":C,
 * "idle_s":I,"peak_rss_kib":R},...] in worker order, to show the balance
 * of the copying and of the listing and judging (walk/broker.h), how long
 * each worker waited for a job and how much memory its process held at
 * most, then how long the walker waited for listings and its CPU time: if
 * it waited, the workers listing were the limit, not the walker.
 */
static void stats_json_units(const struct run_stats *st, char *buf, size_t len, size_t *at)
{
	const struct worker_slot *walker = unit_slot(st, 0);

	put(buf, len, at, ",\"%ss\":%d,\"per_%s\":[", st->unit, st->units, st->unit);
	for (int k = 0; k < st->units; k++) {
		const struct worker_slot *slot = unit_slot(st, k);

		put(buf, len, at,
		    "%s{\"files\":%llu,\"bytes\":%llu,\"dirs_listed\":%llu,\"entries_listed\":%"
		    "llu,\"judged\":%llu,\"cpu_s\":%.3f,\"idle_s\":%.3f,\"peak_rss_kib\":%llu}",
		    k > 0 ? "," : "", (unsigned long long)atomic_load(&slot->files),
		    (unsigned long long)atomic_load(&slot->bytes),
		    (unsigned long long)atomic_load(&slot->dirs_listed),
		    (unsigned long long)atomic_load(&slot->entries_listed),
		    (unsigned long long)atomic_load(&slot->judged), ns_to_s(&slot->cpu_ns),
		    ns_to_s(&slot->idle_ns), (unsigned long long)atomic_load(&slot->peak_rss_kib));
	}
	put(buf, len, at, "],\"listing_wait_s\":%.6f,\"walker_cpu_s\":%.6f",
	    ns_to_s(&walker->listing_wait_ns), ns_to_s(&walker->walker_cpu_ns));
}

/*
 * Per-worker figures: who listed how many directories, what the walker
 * waited, and each worker's peak memory.
 */
static void stats_text_units(const struct run_stats *st, char *buf, size_t len, size_t *at)
{
	const struct worker_slot *walker = unit_slot(st, 0);
	int lists = 0;

	for (int k = 0; k < st->units; k++)
		lists |= atomic_load(&unit_slot(st, k)->dirs_listed) > 0 ||
			 atomic_load(&unit_slot(st, k)->peak_rss_kib) > 0;
	if (!lists) { /* units that only copy (a remote copy's streams): what each did */
		put(buf, len, at, "copied:");
		for (int k = 0; k < st->units; k++) {
			const struct worker_slot *slot = unit_slot(st, k);
			char human[32];

			human_bytes((double)atomic_load(&slot->bytes), human, sizeof(human));
			put(buf, len, at, "%s %s %d %llu files %s cpu %.3f s idle %.3f s",
			    k > 0 ? "," : "", st->unit, k,
			    (unsigned long long)atomic_load(&slot->files), human,
			    ns_to_s(&slot->cpu_ns), ns_to_s(&slot->idle_ns));
		}
		put(buf, len, at, "\n");
		return;
	}
	put(buf, len, at, "listed:");
	for (int k = 0; k < st->units; k++) {
		const struct worker_slot *slot = unit_slot(st, k);

		put(buf, len, at, "%s %s %d %llu dirs %llu entries", k > 0 ? "," : "", st->unit, k,
		    (unsigned long long)atomic_load(&slot->dirs_listed),
		    (unsigned long long)atomic_load(&slot->entries_listed));
	}
	put(buf, len, at,
	    "\nwalker (%s 0): waited for listings %.3f s  cpu %.3f s\npeak memory:", st->unit,
	    ns_to_s(&walker->listing_wait_ns), ns_to_s(&walker->walker_cpu_ns));
	for (int k = 0; k < st->units; k++) {
		char human[32];

		human_bytes(1024.0 * (double)atomic_load(&unit_slot(st, k)->peak_rss_kib), human,
			    sizeof(human));
		put(buf, len, at, "%s %s %d %s", k > 0 ? "," : "", st->unit, k, human);
	}
	put(buf, len, at, "\n");
}

static size_t stats_json(const struct run_stats *st, double secs, char *buf, size_t len)
{
	char *target = quote_json_alloc(st->target != NULL ? st->target : "");
	struct stats_field f[STATS_FIELDS];
	size_t at = 0;

	stats_fields(st, f);
	put(buf, len, &at, "{\"mode\":\"%s\",\"jobs\":%d,\"jobs_start\":%d,\"adaptive\":%s",
	    st->mode, st->jobs, st->jobs_start, st->adaptive ? "true" : "false");
	if (st->unit != NULL)
		stats_json_units(st, buf, len, &at);
	for (int i = 0; i < STATS_FIELDS; i++)
		put(buf, len, &at, ",\"%s\":%llu", f[i].key, (unsigned long long)f[i].value);
	put(buf, len, &at, ",\"elapsed_s\":%.6f,\"bytes_per_s\":%.0f,\"files_per_s\":%.1f",
	    st->elapsed_s, (double)st->bytes_copied / secs, (double)st->files / secs);
	put(buf, len, &at, ",\"cpu_s\":%.3f,\"runq_s\":%.3f,\"wait_s\":%.3f,\"idle_s\":%.3f",
	    st->cpu_s, st->runq_s, st->wait_s, st->idle_s);
	put(buf, len, &at, ",\"split_files\":%llu", (unsigned long long)st->split_files);
	put(buf, len, &at, ",\"target\":%s}\n", target);
	free(target);
	return at;
}

/* Key: value lines, five counters a line; bytes also in human units. */
static size_t stats_text(const struct run_stats *st, double secs, char *buf, size_t len)
{
	struct stats_field f[STATS_FIELDS];
	char human[32], rate[32];
	size_t at = 0;

	stats_fields(st, f);
	put(buf, len, &at, "mode: %s, %d jobs", st->mode, st->jobs);
	if (st->adaptive && st->jobs != st->jobs_start)
		put(buf, len, &at, " (%d at the start, added while waiting on the device)",
		    st->jobs_start);
	else if (st->adaptive)
		put(buf, len, &at, " (default: none added)");
	put(buf, len, &at, "\n");
	for (int i = 0; i < STATS_FIELDS; i++) {
		int last = i + 1 == STATS_FIELDS || i % 5 == 4;

		put(buf, len, &at, "%s: %llu", f[i].label, (unsigned long long)f[i].value);
		if (strcmp(f[i].key, "bytes") == 0 || strcmp(f[i].key, "bytes_copied") == 0) {
			human_bytes((double)f[i].value, human, sizeof(human));
			put(buf, len, &at, " (%s)", human);
		}
		put(buf, len, &at, last ? "\n" : "  ");
	}
	human_bytes((double)st->bytes_copied / secs, rate, sizeof(rate));
	put(buf, len, &at, "elapsed: %.3f s  %s/s  %.0f files/s\n", st->elapsed_s, rate,
	    (double)st->files / secs);
	put(buf, len, &at,
	    "workers: cpu %.3f s  waiting for a cpu %.3f s  for the device %.3f s"
	    "  for a job %.3f s\n",
	    st->cpu_s, st->runq_s, st->wait_s, st->idle_s);
	if (st->split_files > 0)
		put(buf, len, &at, "split: %llu files copied as ranges at once\n",
		    (unsigned long long)st->split_files);
	if (st->unit != NULL)
		stats_text_units(st, buf, len, &at);
	return at;
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

	if (len > 0)
		buf[0] = '\0';
	return style == STATS_JSON ? stats_json(st, secs, buf, len)
				   : stats_text(st, secs, buf, len);
}
