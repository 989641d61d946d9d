# shellcheck shell=bash
# incremental.sh -- the backup rows, after the small-tree extras: runs on
# the small tree against an existing DST, commands alternating within each
# of RUNS rounds, medians.  BENCH_INCREMENTAL: 0 skips them, else a list of
# scenarios (QUICK: "no-op", else "no-op 1% snapshot -c"):
#
#   no-op     DST already up to date: pcopy -T --update=changed --delete,
#             cp -au SRC/. DST/, rsync -a --delete SRC/ DST/, and with the
#             MPI rows (mpi.sh) pcopy-mpi -np 3 beside dsync -D -np 3
#   1%        the changed tree (mktrees.sh) into DST as it was before, put
#             back untimed before every run: pcopy, rsync -a --delete, and
#             cp -au (it deletes nothing; for reference)
#   snapshot  a new snapshot of an unchanged tree: pcopy --update=changed
#             --link-dest=PREV, cp -al PREV, rsync -a --link-dest=PREV
#   -c        DST up to date, contents compared: pcopy -c, rsync -a -c
#
# then the peak RSS of the pcopy no-op on the tree and on a tenth of it.  A
# pcopy row whose option the binary lacks, and every rsync row without
# rsync, is skipped with a message.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -A inc_med
inc_rss='' inc_rss_tenth=''

# inc_has OPTION: does this pcopy know OPTION (from its --help)?
inc_has() {
	"$pcopy" --help 2>/dev/null | grep -q -- "$1"
}

# inc_scenario NAME RESET LABEL ARGV... [-- LABEL ARGV...]...: one
# scenario; RESET runs (untimed) before every run; medians in
# inc_med[NAME/LABEL].
inc_scenario() {
	local i
	inc_name=$1 inc_reset=$2
	shift 2
	inc_labels=() inc_cmds=()
	while [ $# -gt 0 ]; do
		inc_labels+=("$1")
		shift
		local cur=()
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			cur+=("$(printf '%q' "$1")")
			shift
		done
		[ $# -gt 0 ] && shift
		inc_cmds+=("${cur[*]}")
	done
	rounds "$inc_name" "${#inc_labels[@]}" "$runs" inc
	for ((i = 0; i < ${#inc_labels[@]}; i++)); do
		inc_med[$inc_name/${inc_labels[$i]}]=${med[$inc_name/$i]}
		printf '  %-9s %-44s %8.3f s\n' "$inc_name" "${inc_labels[$i]}" "${med[$inc_name/$i]}"
	done
}
inc_prep() {
	"$inc_reset"
	eval "argv=(${inc_cmds[$1]})"
	row="small,$inc_name ${inc_labels[$1]},,"
}
inc_check() {
	((rc == 0)) || say "$inc_name: ${inc_labels[$1]} exited $rc (see $log)"
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
	local src=$work/src/small changed=$work/src/changed tenth=$work/src/tenth
	local which have_rsync=0 rows
	which=${BENCH_INCREMENTAL:-1}
	[ "$which" = 1 ] && which=$(qf "no-op" "no-op 1% snapshot -c")
	inc_up=$work/dst/inc-up inc_d=$work/dst/inc-d inc_snap=$work/dst/inc-snap
	command -v rsync >/dev/null 2>&1 && have_rsync=1
	[ "$have_rsync" = 1 ] || say "incremental: rsync not installed: its rows skipped"
	# shellcheck disable=SC2046 # one word or none
	make_trees tenth $([[ " $which " == *" 1% "* ]] && echo changed)
	echo
	echo "incremental runs on the small tree (${tree_entries[small]} files), medians of $runs:"
	rm -rf "$inc_up"
	cp -a "$src" "$inc_up"
	rows=("$pcopy" -T --update=changed --progress=none)
	if inc_has --delete; then
		rows+=(--delete)
	else
		say "incremental: pcopy has no --delete: its rows run without it"
	fi
	if [[ " $which " == *" no-op "* ]]; then
		local noop=("pcopy -T --update=changed --delete" "${rows[@]}" "$src" "$inc_up" --
			"cp -au" cp -au "$src/." "$inc_up/")
		[ "$have_rsync" = 1 ] && noop+=(-- "rsync -a --delete" rsync -a --delete "$src/" "$inc_up/")
		if [ "$bench_mpi" = 1 ]; then
			noop+=(-- "pcopy-mpi -np3 -T --update=changed --delete" mpirun --oversubscribe
				-np 3 "$pcopy_mpi" -T --update=changed --delete --progress=none
				"$src" "$inc_up")
			if [ -n "$bench_dsync" ] && [ -x "$bench_dsync" ]; then
				noop+=(-- "dsync -D -np3" mpirun --oversubscribe -np 3 "$bench_dsync" -D
					"$src" "$inc_up")
			else
				say "incremental: dsync rows skipped (set BENCH_DSYNC or BENCH_DCP)"
			fi
		fi
		inc_scenario no-op inc_reset_none "${noop[@]}"
	fi
	if [[ " $which " == *" 1% "* ]]; then
		local one=("pcopy -T --update=changed --delete" "${rows[@]}" "$changed" "$inc_d" --
			"cp -au" cp -au "$changed/." "$inc_d/")
		[ "$have_rsync" = 1 ] && one+=(-- "rsync -a --delete" rsync -a --delete "$changed/" "$inc_d/")
		inc_scenario 1% inc_reset_old "${one[@]}"
	fi
	if [[ " $which " == *" snapshot "* ]] && ! inc_has --link-dest; then
		say "incremental: pcopy has no --link-dest: snapshot rows skipped"
	elif [[ " $which " == *" snapshot "* ]]; then
		local snap=("pcopy --update=changed --link-dest" "$pcopy" --update=changed
			--progress=none --link-dest="$inc_up" "$src" "$inc_snap" --
			"cp -al" cp -al "$inc_up" "$inc_snap")
		[ "$have_rsync" = 1 ] && snap+=(-- "rsync -a --link-dest" rsync -a
			--link-dest="$inc_up" "$src/" "$inc_snap/")
		inc_scenario snapshot inc_reset_snap "${snap[@]}"
	fi
	if [[ " $which " == *" -c "* ]] && ! inc_has --checksum; then
		say "incremental: pcopy has no --checksum: -c rows skipped"
	elif [[ " $which " == *" -c "* ]]; then
		local chk=("pcopy -T --update=changed -c" "$pcopy" -T --update=changed -c
			--progress=none "$src" "$inc_up")
		[ "$have_rsync" = 1 ] && chk+=(-- "rsync -a -c" rsync -a -c "$src/" "$inc_up/")
		inc_scenario -c inc_reset_none "${chk[@]}"
	fi
	# memory of the no-op run: the whole tree and a tenth of it
	rm -rf "$inc_d"
	cp -a "$tenth" "$inc_d"
	if rss_ok; then
		inc_rss=$(peak_rss_kib "${rows[@]}" "$src" "$inc_up")
		inc_rss_tenth=$(peak_rss_kib "${rows[@]}" "$tenth" "$inc_d")
		printf '  peak RSS  no-op pcopy: %s on the tree, %s on a tenth\n' \
			"$(mib "$inc_rss")" "$(mib "$inc_rss_tenth")"
	fi
	rm -rf "$inc_up" "$inc_d" "$inc_snap"
}

# The backup targets beside what this run measured: a no-op at most 0.6 x
# cp -au and 0.4 x rsync, a 1% change at most 0.5 x rsync, and so on.
print_incremental_targets() {
	local p="pcopy -T --update=changed --delete" l="pcopy --update=changed --link-dest"
	[ -n "${inc_med[no-op/cp -au]:-}" ] || return 0
	target "no-op: pcopy / cp -au" "$(ratio "${inc_med[no-op/$p]}" "${inc_med[no-op/cp -au]}")" 0.60
	target "no-op: pcopy / rsync -a --delete" \
		"$(ratio "${inc_med[no-op/$p]}" "${inc_med[no-op/rsync -a --delete]:-}")" 0.40
	target "1%: pcopy / rsync -a --delete" \
		"$(ratio "${inc_med[1%/$p]:-}" "${inc_med[1%/rsync -a --delete]:-}")" 0.50
	target "no-op: pcopy-mpi -np3 / dsync -D -np3" \
		"$(ratio "${inc_med[no-op/pcopy-mpi -np3 -T --update=changed --delete]:-}" \
			"${inc_med[no-op/dsync -D -np3]:-}")" 0.40
	target "snapshot: pcopy / cp -al" \
		"$(ratio "${inc_med[snapshot/$l]:-}" "${inc_med[snapshot/cp -al]:-}")" 1.00
	target "snapshot: pcopy / rsync -a --link-dest" \
		"$(ratio "${inc_med[snapshot/$l]:-}" "${inc_med[snapshot/rsync -a --link-dest]:-}")" 0.50
	target "-c: pcopy / rsync -a -c" \
		"$(ratio "${inc_med[-c/pcopy -T --update=changed -c]:-}" "${inc_med[-c/rsync -a -c]:-}")" 0.60
	[ -n "$inc_rss" ] && target "no-op: peak RSS of pcopy, MiB" \
		"$(awk -v k="$inc_rss" 'BEGIN { printf "%.2f", k / 1024 }')" 32
	target "no-op: peak RSS, whole tree / a tenth" "$(ratio "$inc_rss" "$inc_rss_tenth")" 1.50
}
