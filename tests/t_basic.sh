#!/bin/bash
# Issue 2 acceptance: the basic tree (a few hundred files of 0..3 MB, modes
# 0640/0755, symlinks, empty directories, ns timestamps) copied in thread and
# process mode, with -j 1/2/4/16 and --queue=1/64, and with each fallback
# path forced, is identical to the source (top directory times included).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 256m
src=$W/src
bash "$FIXTURES/mkbasic.sh" "$src" || fail "mkbasic.sh failed"


for mode in thread process; do
	for jobs in 1 2 4 16; do
		for queue in 1 64; do
			copy_and_compare --mode="$mode" -j "$jobs" --queue="$queue"
		done
	done
	for force in no_tmpfile no_copy_file_range no_openat2 walker_stats \
		no_tmpfile,no_copy_file_range,no_openat2; do
		PCOPY_FORCE=$force copy_and_compare --mode="$mode" -j 4
	done
done
# the defaults
copy_and_compare
exit 0
