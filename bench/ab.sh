# shellcheck shell=bash
# ab.sh -- two pcopy binaries, A and B, on the same cells: to show that a
# change (a refactor) left the speed alone.
#
#   PCOPY_B=/path/to/other/pcopy make bench [QUICK=1]   A is ./pcopy (PCOPY)
#   bash bench/ab.sh OLD NEW                            A is OLD, B is NEW
#
# For each mode of AB_MODES ("thread process") and each tree of AB_TREES
# ("small big", made by mktrees.sh as for the main table, QUICK's when
# QUICK=1), at each -j of AB_JOBS ("default": no -j), AB_PAIRS pairs of A
# and B, which runs first alternating from pair to pair (QUICK 20, else 30;
# PAIRS when set).  Each binary's first copy is checked.  Prints both
# medians, B/A and the 95% interval of the per-pair ratios, and whether the
# medians are within AB_TOLERANCE percent (3).  Runs go to the runs CSV as
# TREE,pcopy A|B,JOBS,MODE,PAIR,SECONDS.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ab_main() {
	local a_bin=$pcopy b_bin=${PCOPY_B:-} tree mode j src dst w sig
	local ab_trees=${AB_TREES:-small big} ab_modes=${AB_MODES:-thread process}
	local ab_jobs=${AB_JOBS:-default} tol=${AB_TOLERANCE:-3} verdict all=yes
	local pair_rounds=${AB_PAIRS:-${PAIRS:-$(qf 20 30)}}
	local ab_a=() ab_b=()
	[ -x "$a_bin" ] || die "A: $a_bin is not an executable (PCOPY, or bash bench/ab.sh OLD NEW)"
	[ -x "$b_bin" ] || die "B: '$b_bin' is not an executable (PCOPY_B, or bash bench/ab.sh OLD NEW)"
	a_bin=$(readlink -f "$a_bin") b_bin=$(readlink -f "$b_bin")
	trees=$ab_trees
	bench_start
	say "A/B: generating trees: $ab_trees"
	# shellcheck disable=SC2086 # a list of words
	make_trees $ab_trees || die "tree generation failed"
	{
		print_machine "A against B"
		echo "A: $a_bin ($(pcopy_version "$a_bin"))"
		echo "B: $b_bin ($(pcopy_version "$b_bin"))"
		echo
		echo "A against B, $pair_rounds pairs per row, which runs first alternating:"
		printf '  %-8s %-6s %-8s %9s %9s %7s  %-22s %s\n' mode tree jobs "A med s" \
			"B med s" "B/A" "per pair [95%]" "within ${tol}%"
	} >"$table"
	for mode in $ab_modes; do
		for tree in $ab_trees; do
			src=$work/src/$tree dst=$work/dst/$tree
			[ -d "$src" ] || { say "A/B: no tree $tree"; continue; }
			sig=$(signature "$src")
			for j in $ab_jobs; do
				ab_a=("$a_bin" --mode="$mode" --progress=none)
				[ "$j" = default ] || ab_a+=(-j "$j")
				ab_b=("$b_bin" "${ab_a[@]:1}")
				# one untimed copy by each, checked
				for w in a b; do
					rm -rf "$dst"
					if [ "$w" = a ]; then time_cmd "${ab_a[@]}" "$src" "$dst"; else time_cmd "${ab_b[@]}" "$src" "$dst"; fi
					((rc == 0)) && [ "$(signature "$dst")" = "$sig" ] && continue
					say "A/B: ${w^^} $mode $tree -j $j: exit $rc or incomplete copy (see $log)"
				done
				say "A/B: $mode $tree -j $j: $pair_rounds pairs"
				pairs "$tree" "$src" "$dst" "pcopy A,$j,$mode" "pcopy B,$j,$mode" ab_a ab_b
				# within the tolerance; else "no", with * when the
				# interval of the per-pair ratios still holds 1
				verdict=$(awk -v r="$pair_ratio" -v t="$tol" -v ci="$pair_ci" 'BEGIN {
					d = (r - 1) * 100; if (d < 0) d = -d
					split(ci, c, /[][, ]+/)
					print (r != "" && d <= t) ? "yes" : (c[2] <= 1 && c[3] >= 1) ? "no*" : "no" }')
				[ "$verdict" = yes ] || all=no
				printf '  %-8s %-6s %-8s %9.3f %9.3f %7.3f  %-22s %s\n' "$mode" "$tree" "$j" \
					"$pair_a" "$pair_b" "$pair_ratio" "$pair_ci" "$verdict" >>"$table"
			done
		done
	done
	{
		echo "  (medians of the runs; B/A of the medians; per pair: the median of the"
		echo "   per-pair ratios B/A and a 95% interval for it, from order statistics)"
		echo "  * the interval holds 1: the difference may be noise (more pairs: AB_PAIRS)"
		echo "every median within ${tol}%: $all"
		echo "runs: $csv"
	} >>"$table"
	cat "$table"
	say "done; table: $table"
}

# Run alone: bash bench/ab.sh OLD NEW.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	[ $# = 2 ] || { echo "usage: bash bench/ab.sh OLD-PCOPY NEW-PCOPY" >&2; exit 2; }
	pcopy=$1 PCOPY_B=$2
	ab_main
fi
