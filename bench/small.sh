# shellcheck shell=bash
# small.sh -- the small-tree extras, after the main table: peak RSS of cp -a
# and pcopy -j2 in each mode (also on a tenth of the tree), system calls
# per file (strace; QUICK counts on the tenth), and the paired comparisons
# that bound effects of a few percent, smaller than the run-to-run spread:
# --progress=json against none, process against thread mode at each -j,
# -j8 against -j2, and the default against -j2.  Fills ex_* for the targets
# (copy.sh).

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -A ex_rss ex_calls ex_modes
ex_rss_tenth='' ex_progress='' ex_scaling='' ex_default=''

# small_pair NAME "A OPTIONS" "B OPTIONS": one paired comparison of pcopy
# with A's options against B's on the small tree, printed; sets pair_ratio.
small_pair() {
	local name=$1 a b
	# shellcheck disable=SC2206,SC2034 # the options are words; pairs reads a, b
	a=("$pcopy" $2) b=("$pcopy" $3)
	pairs small "$work/src/small" "$work/dst/small" "pcopy $name A,," "pcopy $name B,," a b
	printf '  %-10s A %-36s %.3f s\n%13sB %-36s %.3f s\n' "$name" "$2" "$pair_a" "" "$3" "$pair_b"
	printf '%13sB/A %.3f; per pair %s; %d pairs\n' "" "$pair_ratio" "$pair_ci" "$pair_rounds"
}

small_extras() {
	local src=$work/src/small dst=$work/dst/small tenth=$work/src/tenth i kib calls
	local st_src st_files j idx=(0)
	make_trees tenth
	echo
	echo "small tree extras (${tree_entries[small]} files):"
	for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
		[ "${cmd_jobs[$i]}" = 2 ] && idx+=("$i")
	done
	for i in "${idx[@]}"; do
		rss_ok || break
		rm -rf "$dst"
		cmd_argv "$i" "$src" "$dst"
		kib=$(peak_rss_kib "${argv[@]}")
		ex_rss[${cmd_label[$i]}]=$kib
		printf '  peak RSS   %-20s %s\n' "${cmd_label[$i]}" "$(mib "$kib")"
	done
	i=$(index_of thread 2)
	if [ -n "$i" ] && rss_ok; then
		rm -rf "$dst"
		cmd_argv "$i" "$tenth" "$dst"
		ex_rss_tenth=$(peak_rss_kib "${argv[@]}")
		printf '  peak RSS   %-20s %s on a tenth of the tree (%s files)\n' \
			"${cmd_label[$i]}" "$(mib "$ex_rss_tenth")" \
			"$(find "$tenth" -mindepth 1 ! -type d | wc -l)"
	fi
	rss_ok && echo "  (GNU time %M; in process mode, the largest single process)" ||
		echo "  skipped peak RSS: GNU time (/usr/bin/time) not installed"
	if command -v strace >/dev/null 2>&1; then
		# strace makes each system call cost tens of microseconds; QUICK
		# counts on a tenth of the tree (calls per file barely change).
		st_src=$(qf "$tenth" "$src")
		st_files=$(find "$st_src" -mindepth 1 ! -type d | wc -l)
		for i in "${idx[@]}"; do
			rm -rf "$dst"
			cmd_argv "$i" "$st_src" "$dst"
			calls=$(syscalls "${argv[@]}")
			[ -n "$calls" ] && ex_calls[${cmd_label[$i]}]=$(awk -v c="$calls" \
				-v f="$st_files" 'BEGIN { printf "%.2f", c / f }')
			printf '  syscalls   %-20s %s\n' "${cmd_label[$i]}" \
				"$([ -n "$calls" ] && echo "${ex_calls[${cmd_label[$i]}]} per file ($calls in all)" || echo unknown)"
		done
		echo "  (strace -c -f, copying $st_files files of the small tree)"
	else
		say "skipped system calls: strace not installed"
		echo "  skipped system calls: strace not installed"
	fi
	rm -rf "$dst"
	[ -x "$pcopy" ] || return 0
	small_pair progress "--mode=thread -j 2 --progress=none" "--mode=thread -j 2 --progress=json"
	ex_progress=$(awk -v r="$pair_ratio" 'BEGIN { printf "%.1f", (r - 1) * 100 }')
	tail -n 1 "$work/tmp/pair.b" | grep -q '"done":true' ||
		echo "  warning: the last --progress=json line is not \"done\":true"
	for j in $jobs_list; do
		small_pair "modes -j$j" "--mode=thread -j $j" "--mode=process -j $j"
		ex_modes[$j]=$pair_ratio
	done
	if [[ " $jobs_list " == *" 2 "* && " $jobs_list " == *" 8 "* ]]; then
		small_pair scaling "--mode=thread -j 2" "--mode=thread -j 8"
		ex_scaling=$pair_ratio
	fi
	# the default, which may grow its pool, must cost nothing where copying
	# is CPU work, against one worker per CPU
	small_pair default "--mode=thread -j 2" "--mode=thread"
	ex_default=$pair_ratio
	echo "  (pairs alternate which runs first; the range is a 95% interval for"
	echo "   the median of the per-pair ratios, from order statistics)"
}
