#!/bin/bash
# --stats=json: one JSON object on stdout with the right mode, jobs, counts
# (files, dirs, symlinks, bytes as find(1) sees them), errors 0 and a positive
# elapsed time; --stats text goes to stderr only; -v prints each copied
# path; -n writes nothing.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_cmd python3
use_tmpfs 256m
src=$W/src
bash "$FIXTURES/mkbasic.sh" "$src" || fail "mkbasic.sh failed"
first=$(find "$src/d1" -maxdepth 1 -type f -size +0 | sort | head -n 1)
[ -n "$first" ] || fail "mkbasic.sh made no file in d1"
ln "$first" "$src/d2/hardlink-to-first" || fail "cannot make a hard link"
touch -d '2002-03-04 05:06:07.987654321' "$src/d1" "$src/d2"
# A hard-link group is one file (and its bytes once); its other names are
# counted as hardlinks.
files=$(find "$src" -type f -printf '%i\n' | sort -u | wc -l)
hardlinks=$(($(find "$src" -type f | wc -l) - files))
dirs=$(find "$src" -type d | wc -l)
links=$(find "$src" -type l | wc -l)
bytes=$(find "$src" -type f -printf '%i %s\n' | sort -u | awk '{s += $2} END {print s + 0}')
[ "$hardlinks" -eq 1 ] || fail "expected one hard link in the tree, found $hardlinks"

# check the --stats=json output in file $1 for MODE and JOBS
check_stats() {
	python3 - "$1" "$2" "$3" "$files" "$dirs" "$links" "$bytes" "$hardlinks" <<'PY' || fail "bad --stats=json in $1"
import json, sys
path, mode, jobs, files, dirs, links, nbytes, hardlinks = sys.argv[1:]
lines = open(path, encoding="utf-8").read().splitlines()
assert len(lines) == 1, f"{len(lines)} lines on stdout, want 1"
s = json.loads(lines[0])
for k in ("mode", "jobs", "jobs_start", "adaptive", "files", "dirs", "symlinks", "bytes",
          "errors", "elapsed_s", "bytes_per_s", "files_per_s", "cpu_s", "runq_s", "wait_s",
          "idle_s"):
    assert k in s, f"no key {k}: {lines[0]}"
want = {"mode": mode, "jobs": int(jobs), "jobs_start": int(jobs), "adaptive": False,
        "files": int(files), "dirs": int(dirs),
        "symlinks": int(links), "bytes": int(nbytes), "errors": 0,
        "hardlinks": int(hardlinks), "bytes_copied": int(nbytes)}
for k, v in want.items():
    assert s[k] == v, f"{k} is {s[k]!r}, want {v!r}"
assert isinstance(s["elapsed_s"], (int, float)) and s["elapsed_s"] > 0, s["elapsed_s"]
assert s["bytes_per_s"] >= 0 and s["files_per_s"] >= 0, lines[0]
# the workers' time: each part >= 0, and they did spend some on a CPU
assert min(s["cpu_s"], s["runq_s"], s["wait_s"], s["idle_s"]) >= 0, lines[0]
assert s["cpu_s"] > 0, lines[0]
PY
}

pcopy_ok --stats=json --mode=process -j 3 "$src" "$W/p"
treecmp "$src" "$W/p"
cp "$T/out" "$T/stats-process"
check_stats "$T/stats-process" process 3
assert_empty "$T/err"

pcopy_ok --stats=json --mode=thread -j 2 --queue=1 "$src" "$W/t"
treecmp "$src" "$W/t"
cp "$T/out" "$T/stats-thread"
check_stats "$T/stats-thread" thread 2
rm -rf "$W/p" "$W/t"

# without -j: one worker per CPU (2..8) at the start, adaptive, never
# fewer at the end, never more than 32
pcopy_ok --stats=json "$src" "$W/default"
treecmp "$src" "$W/default"
cpus=$(nproc)
start=$((cpus < 2 ? 2 : cpus > 8 ? 8 : cpus))
python3 - "$T/out" "$start" <<'PY' || fail "default --stats=json: $(cat "$T/out")"
import json, sys
s = json.loads(open(sys.argv[1]).read())
assert s["adaptive"] is True and s["jobs_start"] == int(sys.argv[2]), s
assert s["jobs_start"] <= s["jobs"] <= 32, s
PY
rm -rf "$W/default"

# text stats: stderr only, "key: value" lines, the workers' times last
pcopy_ok --stats "$src" "$W/text"
assert_empty "$T/out"
assert_grep "$T/err" '^[A-Za-z_ /]+: *[0-9]'
assert_grep "$T/err" '^mode: thread, [0-9]+ jobs \((default: none added|[0-9]+ at the start, added while waiting on the device)\)$'
assert_grep "$T/err" '^workers: cpu [0-9.]+ s  waiting for a cpu [0-9.]+ s  for the device [0-9.]+ s  for a job [0-9.]+ s$'
rm -rf "$W/text"

# -v: each printed line is a destination path that exists, no duplicates,
# and every non-directory entry of the copy is printed
pcopy_ok -v --mode=process -j 4 "$src" "$W/verbose"
treecmp "$src" "$W/verbose"
sort "$T/out" >"$T/verbose.sorted"
[ "$(sort -u "$T/out" | wc -l)" -eq "$(wc -l <"$T/out")" ] || fail "-v printed a path twice"
while IFS= read -r p; do
	[ -e "$p" ] || [ -L "$p" ] || fail "-v printed '$p' which does not exist"
	case $p in "$W/verbose" | "$W/verbose/"*) ;; *) fail "-v printed '$p' outside DST" ;; esac
done <"$T/verbose.sorted"
find "$W/verbose" ! -type d | sort >"$T/nondirs"
missing=$(comm -23 "$T/nondirs" "$T/verbose.sorted" | head -n 3)
[ -z "$missing" ] || fail "-v did not print: $missing"
rm -rf "$W/verbose"

# -n: walk and report, write nothing (new DST, existing DST dir, -T)
pcopy_ok -n "$src" "$W/dry"
if [ -e "$W/dry" ] || [ -L "$W/dry" ]; then
	fail "-n created DST"
fi
mkdir "$W/dry-dir"
touch -d '2001-01-01' "$W/dry-dir"
pcopy_ok --dry-run --mode=process "$src" "$W/dry-dir"
pcopy_ok -n -T "$src" "$W/dry-dir"
[ -z "$(ls -A "$W/dry-dir")" ] || fail "-n wrote into an existing DST"
assert_eq "$(stat -c %Y "$W/dry-dir")" "$(date -d 2001-01-01 +%s)" "mtime of DST after -n"
exit 0
