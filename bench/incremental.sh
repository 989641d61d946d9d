# shellcheck shell=bash
# incremental.sh -- the backup rows of `make bench` (issue 11), sourced by
# run.sh after the main table: incremental runs on the small-file tree,
# each command against the same starting DST, commands alternating within
# each of $runs rounds, medians.
#
#   no-op     DST already up to date: pcopy -T --update=changed --delete,
#             cp -au SRC/. DST/, rsync -a --delete SRC/ DST/, and when
#             built the same with pcopy-mpi -np 3 beside mpiFileUtils'
#             dsync -D -np 3 (BENCH_DSYNC or BENCH_DCP)
#   1%        500 files rewritten, 100 added, 100 removed since DST was
#             made: pcopy -T --update=changed --delete, rsync -a --delete,
#             cp -au (it deletes nothing; for reference)
#   snapshot  a new dated snapshot of an unchanged tree: pcopy
#             --update=changed --link-dest=PREV, cp -al PREV, rsync -a
#             --link-dest=PREV
#   -c        DST up to date, contents compared: pcopy -T --update=changed
#             -c, rsync -a -c
#
# plus the peak RSS of the pcopy no-op run on the tree and on a tenth of
# it.  A pcopy row whose option the binary lacks, and every rsync row
# without rsync, is skipped with a message.  Uses run.sh's time_cmd,
# median, ratio, target, say, peak_rss_kib, small_tenth and mib.

declare -A inc_med
inc_rss=
inc_rss_tenth=

# inc_has OPTION: does this pcopy know OPTION (from its --help)?
inc_has() {
	"$pcopy" --help 2>/dev/null | grep -q -- "$1"
}

# inc_mutate DIR: the 1% change, the same every time: rewrite every 100th
# file, add 100, remove 100 (of those not rewritten).
inc_mutate() {
	local dir=$1 n=0 f
	while IFS= read -r f; do
		n=$((n + 1))
		if ((n % 100 == 0)); then
			printf 'rewritten %d\n' "$n" >>"$f"
		elif ((n % 100 == 50 && n / 100 < 100)); then
			rm -f "$f"
		fi
	done < <(find "$dir" -type f | sort)
	for ((n = 0; n < 100; n++)); do
		printf 'added %d\n' "$n" >"$dir/added-$n"
	done
}

# inc_scenario NAME RESET LABEL ARGV... [-- LABEL ARGV...]...: one scenario;
# each round runs every command once, in a rotating order, after calling
# RESET (untimed); medians go to inc_med[NAME/LABEL].
inc_scenario() {
	local name=$1 reset=$2 r k i n
	shift 2
	local labels=() cmds=() cur=()
	while [ $# -gt 0 ]; do
		labels+=("$1")
		shift
		cur=()
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			cur+=("$(printf '%q' "$1")")
			shift
		done
		[ $# -gt 0 ] && shift
		cmds+=("${cur[*]}")
	done
	n=${#labels[@]}
	for ((r = 0; r < runs; r++)); do
		for ((k = 0; k < n; k++)); do
			i=$(((k + r) % n))
			"$reset"
			eval "time_cmd ${cmds[$i]}"
			((rc == 0)) || say "$name: ${labels[$i]} exited $rc (see $log)"
			echo "small,$name ${labels[$i]},,,$((r + 1)),$elapsed" >>"$csv"
		done
	done
	for ((i = 0; i < n; i++)); do
		inc_med[$name/${labels[$i]}]=$(awk -F, -v c="$name ${labels[$i]}" \
			'$1 == "small" && $2 == c { print $6 }' "$csv" | median)
		printf '  %-9s %-44s %8.3f s\n' "$name" "${labels[$i]}" "${inc_med[$name/${labels[$i]}]}"
	done
}

inc_reset_none() { :; }
inc_reset_old() {
	rm -rf "$inc_d"
	cp -a "$inc_up" "$inc_d"
}
inc_reset_snap() {
	rm -rf "$inc_snap"
}

bench_incremental() {
	local src=$work/src/small tenth have_rsync=0
	inc_up=$work/dst/inc-up inc_d=$work/dst/inc-d inc_snap=$work/dst/inc-snap
	local src1=$work/dst/inc-src1
	command -v rsync >/dev/null 2>&1 && have_rsync=1
	[ "$have_rsync" = 1 ] || say "incremental: rsync not installed: its rows skipped"
	echo
	echo "incremental runs on the small tree (${tree_entries[small]} files), medians of $runs:"
	rm -rf "$inc_up" "$src1"
	cp -a "$src" "$inc_up"
	cp -a "$src" "$src1"
	inc_mutate "$src1"
	local rows=("$pcopy" -T --update=changed --progress=none)
	if inc_has --delete; then
		rows+=(--delete)
	else
		say "incremental: pcopy has no --delete: its rows run without it"
	fi
	# no-op: DST up to date
	local noop=("pcopy -T --update=changed --delete" "${rows[@]}" "$src" "$inc_up" --
		"cp -au" cp -au "$src/." "$inc_up/")
	[ "$have_rsync" = 1 ] && noop+=(-- "rsync -a --delete" rsync -a --delete "$src/" "$inc_up/")
	# and across ranks (issue 13), with mpiFileUtils' dsync when given
	if command -v mpirun >/dev/null 2>&1 && [ -x "$pcopy_mpi" ]; then
		noop+=(-- "pcopy-mpi -np3 -T --update=changed --delete" mpirun --oversubscribe
			-np 3 "$pcopy_mpi" -T --update=changed --delete --progress=none
			"$src" "$inc_up")
		if [ -n "${bench_dsync:-}" ] && [ -x "$bench_dsync" ]; then
			noop+=(-- "dsync -D -np3" mpirun --oversubscribe -np 3 "$bench_dsync" -D
				"$src" "$inc_up")
		else
			say "incremental: dsync rows skipped (set BENCH_DSYNC or BENCH_DCP)"
		fi
	fi
	inc_scenario no-op inc_reset_none "${noop[@]}"
	# 1%: from the old state each time
	local one=("pcopy -T --update=changed --delete" "${rows[@]}" "$src1" "$inc_d" --
		"cp -au" cp -au "$src1/." "$inc_d/")
	[ "$have_rsync" = 1 ] && one+=(-- "rsync -a --delete" rsync -a --delete "$src1/" "$inc_d/")
	inc_scenario 1% inc_reset_old "${one[@]}"
	# a snapshot of an unchanged tree
	if inc_has --link-dest; then
		local snap=("pcopy --update=changed --link-dest" "$pcopy" --update=changed
			--progress=none --link-dest="$inc_up" "$src" "$inc_snap" --
			"cp -al" cp -al "$inc_up" "$inc_snap")
		[ "$have_rsync" = 1 ] && snap+=(-- "rsync -a --link-dest" rsync -a
			--link-dest="$inc_up" "$src/" "$inc_snap/")
		inc_scenario snapshot inc_reset_snap "${snap[@]}"
	else
		say "incremental: pcopy has no --link-dest: snapshot rows skipped"
	fi
	# -c: contents compared on an up-to-date DST
	if inc_has --checksum; then
		local sum=("pcopy -T --update=changed -c" "$pcopy" -T --update=changed -c
			--progress=none "$src" "$inc_up")
		[ "$have_rsync" = 1 ] && sum+=(-- "rsync -a -c" rsync -a -c "$src/" "$inc_up/")
		inc_scenario -c inc_reset_none "${sum[@]}"
	else
		say "incremental: pcopy has no --checksum: -c rows skipped"
	fi
	# memory of the no-op run: the whole tree and a tenth of it
	tenth=$(small_tenth)
	rm -rf "$inc_d"
	cp -a "$tenth" "$inc_d"
	inc_rss=$(peak_rss_kib "${rows[@]}" "$src" "$inc_up")
	inc_rss_tenth=$(peak_rss_kib "${rows[@]}" "$tenth" "$inc_d")
	printf '  peak RSS  no-op pcopy: %s on the tree, %s on a tenth\n' \
		"$(mib "$inc_rss")" "$(mib "$inc_rss_tenth")"
	rm -rf "$inc_up" "$inc_d" "$inc_snap" "$src1"
}

# The backup targets (issue 11) beside what this run measured.
print_incremental_targets() {
	local p
	[ -n "${inc_med[no-op/cp -au]:-}" ] || return 0
	p="pcopy -T --update=changed --delete"
	target "no-op: pcopy / cp -au" "$(ratio "${inc_med[no-op/$p]}" "${inc_med[no-op/cp -au]}")" 0.60
	target "no-op: pcopy / rsync -a --delete" \
		"$(ratio "${inc_med[no-op/$p]}" "${inc_med[no-op/rsync -a --delete]:-}")" 0.40
	target "1%: pcopy / rsync -a --delete" \
		"$(ratio "${inc_med[1%/$p]}" "${inc_med[1%/rsync -a --delete]:-}")" 0.50
	target "no-op: pcopy-mpi -np3 / dsync -D -np3" \
		"$(ratio "${inc_med[no-op/pcopy-mpi -np3 -T --update=changed --delete]:-}" \
			"${inc_med[no-op/dsync -D -np3]:-}")" 0.40
	p="pcopy --update=changed --link-dest"
	target "snapshot: pcopy / cp -al" \
		"$(ratio "${inc_med[snapshot/$p]:-}" "${inc_med[snapshot/cp -al]:-}")" 1.00
	target "snapshot: pcopy / rsync -a --link-dest" \
		"$(ratio "${inc_med[snapshot/$p]:-}" "${inc_med[snapshot/rsync -a --link-dest]:-}")" 0.50
	target "-c: pcopy / rsync -a -c" \
		"$(ratio "${inc_med[-c/pcopy -T --update=changed -c]:-}" "${inc_med[-c/rsync -a -c]:-}")" 0.60
	[ -n "$inc_rss" ] && target "no-op: peak RSS of pcopy, MiB" \
		"$(awk -v k="$inc_rss" 'BEGIN { printf "%.2f", k / 1024 }')" 32
	target "no-op: peak RSS, whole tree / a tenth" "$(ratio "$inc_rss" "$inc_rss_tenth")" 1.50
}
