#!/bin/bash
# Differential test on a real system tree: /usr/share/doc copied by cp -a and
# by pcopy (both modes, -j 8 and -j 16 --queue=1); each pcopy copy must be
# identical to the source (as root) and to cp's copy.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
doc=${DIFF_TREE:-/usr/share/doc}
if [ ! -d "$doc" ] || [ -z "$(ls -A "$doc")" ]; then
	skip "$doc missing or empty"
fi
use_tmpfs 2g
cp -a "$doc" "$W/cp" >"$T/cp.err" 2>&1 || {
	cat "$T/cp.err" >&2
	skip "cp -a cannot copy $doc here"
}
# without root, owners cannot be kept: compare with cp's copy only
is_root=false
[ "$(id -u)" -eq 0 ] && is_root=true
$is_root && treecmp "$doc" "$W/cp"

for mode in thread process; do
	for opts in "-j 8" "-j 16 --queue=1"; do
		# shellcheck disable=SC2086 # opts holds two words on purpose
		pcopy_ok --mode="$mode" $opts "$doc" "$W/pcopy"
		$is_root && treecmp "$doc" "$W/pcopy"
		treecmp "$W/cp" "$W/pcopy"
		no_temporaries "$W/pcopy"
		rm -rf "$W/pcopy"
	done
done
exit 0
