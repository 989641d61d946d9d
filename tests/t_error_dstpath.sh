#!/bin/bash
# An error on the DST side names the DST path, not the SRC path: run as uid
# 65534 over a readable SRC into a DST it owns, but for DST's sub/ (root's,
# mode 755, otherwise as SRC's sub/): making sub/f fails with "Permission
# denied".  pcopy exits 1 with one line for it, naming DST/sub/f, and no
# line naming a SRC path (SRC is readable: every failure here is DST's);
# every other file is copied.  Thread and process mode, and pcopy-mpi on 3 ranks when it
# is built.  Root only (setpriv to become uid 65534).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_root
need_cmd setpriv
use_tmpfs 16m
chmod 0755 "$T" "$W"
can_be_nobody "this test" || skip "uid 65534 cannot run pcopy here"
as_nobody test -x "$W" || skip "uid 65534 cannot reach $W (set TMPDIR to a world-searchable dir)"
RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
MPI_SHM=$T/shm
mkdir -m 1777 "$MPI_SHM"

src=$W/src
mkdir -p "$src/sub"
echo inside >"$src/sub/f"
echo top >"$src/g"
chown -R 65534:65534 "$src"

set_kinds default
for kind in "${KINDS[@]}"; do
	dst=$W/dst-$kind
	mkdir -p "$dst/sub"
	chown 65534:65534 "$dst"
	chmod 755 "$dst/sub"
	touch -r "$src/sub" "$dst/sub"
	touch -r "$src" "$dst"
	qd=$(re_quote "$dst")
	assert_exit 1 run_kind "$kind" -T --update=changed "$src" "$dst"
	# mpirun's own report of a failed job: a block between lines of dashes
	awk '/^-----/ { inside = !inside; next } !inside' "$T/err" >"$T/err-pcopy"
	# SRC is readable all through: no error is SRC's
	if grep -qF "'$src" "$T/err-pcopy"; then
		fail "$kind: an error names a SRC path: $(cat "$T/err-pcopy")"
	fi
	assert_grep "$T/err-pcopy" "^pcopy: '$qd/sub/f': Permission denied$"
	# that one line alone: sub, not ours, is otherwise as SRC's and left be
	assert_eq "$(grep -c . "$T/err-pcopy")" 1 "$kind: error lines: $(cat "$T/err-pcopy")"
	[ ! -e "$dst/sub/f" ] || fail "$kind: sub/f was made in DST's root-owned sub"
	cmp -s "$src/g" "$dst/g" || fail "$kind: g not copied"
	no_temporaries "$dst"
done
exit 0
