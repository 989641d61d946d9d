#!/bin/bash
# Progress output: --progress=json lines parse, percent never decreases and
# stays in 0..100, only the last line has done:true and percent 100, the
# totals match the tree and no longer change once scanning is false;
# --progress=plain has no \r or ESC; -P and --progress=bar on a non-tty
# still copy; no progress by default off a tty; bar output on a terminal
# (via script(1)) redraws with \r.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_cmd python3
use_tmpfs 256m
src=$W/src
bash "$FIXTURES/mkbasic.sh" "$src" || fail "mkbasic.sh failed"
nondirs=$(find "$src" ! -type d | wc -l)
bytes=$(find "$src" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')

# check the JSON progress lines in file $1 against the tree's totals
check_json() {
	python3 - "$1" "$nondirs" "$bytes" <<'PY' || fail "bad --progress=json output in $1"
import json, sys
path, nondirs, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = open(path, encoding="utf-8").read().splitlines()
assert lines, "no progress lines"
keys = ("percent", "files_done", "files_total", "bytes_done", "bytes_total",
        "elapsed_s", "scanning", "done")
last = -1.0
for n, line in enumerate(lines, 1):
    obj = json.loads(line)
    assert isinstance(obj, dict), f"line {n} is not an object"
    for k in keys:
        assert k in obj, f"line {n}: no key {k}: {line}"
    p = obj["percent"]
    assert 0 <= p <= 100, f"line {n}: percent {p} out of range"
    assert p >= last, f"line {n}: percent went down {last} -> {p}"
    last = p
    assert obj["files_done"] <= obj["files_total"] or obj["scanning"], f"line {n}: {line}"
    if n < len(lines):
        assert obj["done"] is False, f"line {n}: done before the last line"
        assert p < 100 or obj["files_done"] == nondirs, f"line {n}: 100% before the end"
final = json.loads(lines[-1])
# Totals are final once "scanning" is false: every later line repeats them.
for n, line in enumerate(lines, 1):
    obj = json.loads(line)
    if not obj["scanning"]:
        for k in ("files_total", "bytes_total"):
            assert obj[k] == final[k], f"line {n}: {k} {obj[k]} != final {final[k]} after scanning:false"
if final["elapsed_s"] >= 3:
    assert len(lines) >= 2, f"one line in {final['elapsed_s']} s (once a second?)"
assert final["done"] is True, f"last line not done: {lines[-1]}"
assert final["percent"] == 100, f"last percent {final['percent']}"
assert final["scanning"] is False, "still scanning at the end"
assert final["files_total"] == nondirs, f"files_total {final['files_total']} != {nondirs}"
assert final["files_done"] == nondirs, f"files_done {final['files_done']} != {nondirs}"
assert final["bytes_total"] == nbytes, f"bytes_total {final['bytes_total']} != {nbytes}"
assert final["bytes_done"] == nbytes, f"bytes_done {final['bytes_done']} != {nbytes}"
PY
}

for mode in thread process; do
	pcopy_ok --mode="$mode" -j 4 --progress=json "$src" "$W/json-$mode"
	treecmp "$src" "$W/json-$mode"
	cp "$T/err" "$T/progress-$mode.json"
	check_json "$T/progress-$mode.json"
	assert_empty "$T/out"
	rm -rf "$W/json-$mode"
done
# a single worker and a queue of one: still monotonic
pcopy_ok -j 1 --queue=1 --progress=json "$src" "$W/json-1"
cp "$T/err" "$T/progress-1.json"
check_json "$T/progress-1.json"
rm -rf "$W/json-1"

# a copy slowed down (a sleep before each open of a source file) so that
# progress lines come before the end; same checks
if [ -f "${FAULTSHIM:-}" ]; then
	for mode in thread process; do
		LD_PRELOAD=$FAULTSHIM FAULT_OP=open FAULT_DELAY_US=20000 \
			pcopy_ok --mode="$mode" -j 2 --progress=json "$src" "$W/slow-$mode"
		treecmp "$src" "$W/slow-$mode"
		cp "$T/err" "$T/progress-slow-$mode.json"
		check_json "$T/progress-slow-$mode.json"
		log "slowed $mode copy: $(wc -l <"$T/err") progress lines"
		rm -rf "$W/slow-$mode"
	done
	# without hard links kept, the walk waits for the workers' stats all the same
	LD_PRELOAD=$FAULTSHIM FAULT_OP=open FAULT_DELAY_US=20000 \
		pcopy_ok -j 2 --no-preserve=links --progress=json "$src" "$W/slow-nolinks"
	cp "$T/err" "$T/progress-slow-nolinks.json"
	check_json "$T/progress-slow-nolinks.json"
	rm -rf "$W/slow-nolinks"
	LD_PRELOAD=$FAULTSHIM FAULT_OP=open FAULT_DELAY_US=20000 \
		pcopy_ok -j 2 --progress=plain "$src" "$W/slow-plain"
	if LC_ALL=C grep -q $'[\r\x1b]' "$T/err"; then
		fail "--progress=plain output has \\r or ESC"
	fi
	log "slowed plain copy: $(wc -l <"$T/err") progress lines"
	rm -rf "$W/slow-plain"
	# With progress on, the counting scan reads each directory and the
	# walker takes its listings (lookahead.h) instead of reading them again:
	# the slowed copy makes about as many getdents64 calls as without
	# progress, not twice as many.
	if command -v strace >/dev/null 2>&1; then
		dirs=$(find "$src" -type d | wc -l)
		for p in none json; do
			# (LeakSanitizer cannot run under ptrace)
			strace -f -qq -e trace=getdents64 -o "$T/getdents-$p" \
				-E ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
				-E LD_PRELOAD="$FAULTSHIM" -E FAULT_OP=open -E FAULT_DELAY_US=2000 \
				"$PCOPY" -j 1 --queue=1 --progress="$p" "$src" "$W/gd-$p" \
				2>"$T/err" || fail "pcopy --progress=$p under strace failed"
			treecmp "$src" "$W/gd-$p"
			rm -rf "$W/gd-$p"
		done
		n_none=$(grep -c getdents64 "$T/getdents-none")
		n_json=$(grep -c getdents64 "$T/getdents-json")
		log "getdents64 calls: $n_none without progress, $n_json with ($dirs directories)"
		[ "$n_none" -ge "$dirs" ] || fail "only $n_none getdents64 calls for $dirs directories"
		[ $((2 * n_json)) -lt $((3 * n_none)) ] ||
			fail "with progress every directory was read twice ($n_json calls, $n_none without)"
	else
		log "no strace: not counting directory reads"
	fi
else
	log "no faultshim: skipping the slowed copies"
fi

# plain: at least the final line, no carriage return, no escape sequence
pcopy_ok --progress=plain "$src" "$W/plain"
treecmp "$src" "$W/plain"
[ -s "$T/err" ] || fail "--progress=plain printed nothing"
if LC_ALL=C grep -q $'[\r\x1b]' "$T/err"; then
	fail "--progress=plain output has \\r or ESC"
fi
assert_grep "$T/err" "100"
rm -rf "$W/plain"

# bar and -P on a non-tty still copy
pcopy_ok -P "$src" "$W/bar-P"
treecmp "$src" "$W/bar-P"
pcopy_ok --progress=bar "$src" "$W/bar"
treecmp "$src" "$W/bar"
rm -rf "$W/bar-P" "$W/bar"

# default off a terminal, and --progress=none: nothing on stderr
pcopy_ok "$src" "$W/quiet"
assert_empty "$T/err"
assert_empty "$T/out"
pcopy_ok --progress=none "$src" "$W/none"
assert_empty "$T/err"
rm -rf "$W/quiet" "$W/none"

# default on a terminal is the bar: redrawn with \r, ends at 100%
if command -v script >/dev/null 2>&1; then
	script -qec "$(printf '%q ' "$PCOPY" "$src" "$W/tty")" "$T/typescript" >/dev/null </dev/null ||
		fail "pcopy on a terminal failed"
	treecmp "$src" "$W/tty"
	grep -q $'\r' "$T/typescript" || fail "bar on a terminal has no \\r"
	assert_grep "$T/typescript" "100"
fi
exit 0
