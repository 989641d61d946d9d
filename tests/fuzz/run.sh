#!/bin/sh
# run.sh BINARY... - make fuzz: run each libFuzzer target (build/fuzz/NAME)
# for FUZZ_SECONDS (default 60), or only those whose name holds $FUZZ,
# growing its corpus in build/fuzz/corpus/NAME.  Prints PASS or FAIL per
# target; on a failure, the end of the fuzzer's log (the crash report) and
# where the input that crashed was kept.  Exit 0 only when none failed.
set -u

seconds=${FUZZ_SECONDS:-60}
failed=0 ran=0
for bin in "$@"; do
	name=$(basename "$bin")
	case $name in *"${FUZZ:-}"*) ;; *) continue ;; esac
	ran=$((ran + 1))
	dir=$(dirname "$bin")
	mkdir -p "$dir/corpus/$name" "$dir/crash" || exit 2
	log=$dir/$name.log
	echo "fuzz $name: $seconds s (log: $log)"
	# -max_len past PATH_MAX so that the longest paths are tried;
	# -timeout: one input that takes seconds is a hang, and a failure.
	if "$bin" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$dir/crash/$name-" \
		"$dir/corpus/$name" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		inputs=$(ls "$dir/corpus/$name" | wc -l)
		echo "PASS $name ($runs runs, corpus of $inputs inputs)"
	else
		echo "FAIL $name"
		tail -n 40 "$log" | sed 's/^/    /'
		ls "$dir/crash/$name-"* 2>/dev/null | sed 's/^/    input kept: /'
		echo "    replay: $bin <input>"
		failed=$((failed + 1))
	fi
done
if [ "$ran" -eq 0 ]; then
	echo "make fuzz: no target matches FUZZ=${FUZZ:-}" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
