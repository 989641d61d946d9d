#!/bin/bash
# --stats=json names its "target" losslessly (issue 10, item 2), both modes:
# a tree copied to a destination whose name holds a newline, a tab, ESC, a
# quote, a backslash and the byte 0xff that is not UTF-8 (and a single file
# so named, copied into a directory) prints one JSON line, and Python's
# json.loads + str.encode("utf-8", "surrogateescape") gives back the exact
# bytes of the path.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
command -v python3 >/dev/null 2>&1 || skip "needs python3 to decode the JSON"
use_tmpfs 64m
src=$W/$'src\nx'
mkdir -p "$src/d"
echo one >"$src/d/"$'file\t\033\377'

# the "target" of the JSON line in $T/out must be the bytes of $1
check_target() {
	printf '%s' "$1" >"$T/want"
	python3 - "$T/out" "$T/want" <<'PY' || fail "bad \"target\" in: $(cat -A "$T/out")"
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert len(lines) == 2 and lines[1] == b"", f"{len(lines) - 1} lines, want 1"
# bytes in: json.loads decodes them as strict UTF-8, so the line must be UTF-8
got = json.loads(lines[0])["target"].encode("utf-8", "surrogateescape")
want = open(sys.argv[2], "rb").read()
assert got == want, f"target {got!r}, want {want!r}"
PY
	! grep -q $'\033' "$T/out" || fail "a raw ESC in the JSON line"
}

for mode in thread process; do
	dst=$W/$'copy \n\t\033"\\\'\377-'$mode
	pcopy_ok --mode="$mode" --stats=json "$src" "$dst"
	treecmp "$src" "$dst"
	check_target "$dst"
	mkdir "$W/into-$mode"
	pcopy_ok --mode="$mode" --stats=json "$src/d/"$'file\t\033\377' "$W/into-$mode"
	check_target "$W/into-$mode/"$'file\t\033\377'
done
exit 0
