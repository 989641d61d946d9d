#!/bin/bash
# pcopy-mpi's listers judge the regular files of an incremental run against
# DST as they list them (walk/broker.h): a file whose copy is up to date is
# only counted by rank 0, never sent as a job.
#   - after changes of every kind to SRC (new data and mtime, same size; a
#     mode; an mtime alone; a file added, one removed; a file turned into a
#     directory; a hard-link pair; a symbolic link retargeted; an extended
#     attribute), --update=changed --delete -i gives thread mode's tree,
#     -i lines and counters, with the listers judging and with
#     PCOPY_FORCE=workers_judge;
#   - a no-op re-run changes nothing in DST (inodes, modes, times, xattrs),
#     prints nothing, counts every entry unchanged; ranks > 0 judged files
#     (rank 0 never does), none with workers_judge;
#   - judged only where a worker would just look: not under --update=all
#     (the default), -c or -n.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_cmd python3
mpi_usable || skip "pcopy-mpi cannot run here"

W=$T/w
src=$W/src
mkdir -p "$src"
# Enough directories that the other ranks list most of them (rank 0's
# walker reads a directory itself when none has it yet).
for d in $(seq -w 1 24); do
	mkdir "$src/d$d"
	for f in $(seq -w 1 12); do
		printf 'file %s/%s\n' "$d" "$f" >"$src/d$d/f$f"
	done
done
ln "$src/d01/f01" "$src/d02/link"
ln -s ../d01/f02 "$src/d03/sym"
mkdir "$src/d04/gone-dir"
printf 'soon a directory\n' >"$src/d05/turns"
have_xattr=0
setfattr -n user.k -v one "$src/d06/f01" 2>/dev/null && have_xattr=1

# judged STATS: the files ranks > 0 judged (rank 0 must have judged none)
judged() {
	python3 - "$1" <<'PY' || fail "rank 0 judged files in $1"
import json, sys
per = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][0]["per_rank"]
assert per[0]["judged"] == 0, per
print(sum(r["judged"] for r in per))
PY
}

kind_ok thread "$src" "$W/thread"
kind_ok mpi "$src" "$W/mpi"
kind_ok mpi "$src" "$W/mpi-w"

# Change SRC in every way an incremental run must notice.
sleep 0.01
printf 'FILE 07/03\n' >"$src/d07/f03"        # same size, new data, new mtime
chmod 600 "$src/d08/f04"                      # mode only
touch -d '2001-02-03 04:05:06' "$src/d09/f05" # mtime only
printf 'new\n' >"$src/d10/new"                # added
rm "$src/d11/f06" "$src/d04/gone-dir" -r      # removed
rm "$src/d05/turns" && mkdir "$src/d05/turns" # a file turned into a directory
printf 'inside\n' >"$src/d05/turns/in"
ln -f "$src/d12/f07" "$src/d12/f08"           # a new hard-link pair
ln -sf ../d01/f03 "$src/d03/sym"              # a link retargeted
[ "$have_xattr" = 1 ] && setfattr -n user.k -v two "$src/d06/f01"

opts=(-i --stats=json --update=changed --delete -T)
kind_ok thread "${opts[@]}" "$src" "$W/thread"
grep -v '^{' "$T/out" | sed "s|$W/thread|DST|" | sort >"$T/lines-thread"
cp "$T/out" "$T/stats-thread"
treecmp "$src" "$W/thread"
[ -s "$T/lines-thread" ] || fail "thread mode printed no -i lines"

kind_ok mpi "${opts[@]}" "$src" "$W/mpi"
grep -v '^{' "$T/out" | sed "s|$W/mpi|DST|" | sort >"$T/lines-mpi"
cp "$T/out" "$T/stats-mpi"
PCOPY_FORCE=workers_judge kind_ok mpi "${opts[@]}" "$src" "$W/mpi-w"
grep -v '^{' "$T/out" | sed "s|$W/mpi-w|DST|" | sort >"$T/lines-mpi-w"
cp "$T/out" "$T/stats-mpi-w"

for v in mpi mpi-w; do
	treecmp "$src" "$W/$v"
	no_temporaries "$W/$v"
	diff "$T/lines-thread" "$T/lines-$v" >&2 || fail "$v: -i lines differ from thread mode's"
	python3 - "$T/stats-$v" "$T/stats-thread" "$v" <<'PY' || fail "$v: counters differ from thread mode's"
import json, sys
mine, theirs = (json.loads(next(l for l in open(f) if l.startswith("{"))) for f in sys.argv[1:3])
for k in ("files", "dirs", "symlinks", "hardlinks", "created", "updated", "meta_updated",
          "unchanged", "deleted", "bytes", "bytes_copied", "errors", "vanished"):
    assert mine[k] == theirs[k], f"{sys.argv[3]} {k}: {mine[k]}, thread {theirs[k]}"
PY
done
n=$(judged "$T/stats-mpi")
[ "$n" -gt 0 ] || fail "the incremental run judged no file"
assert_eq "$(judged "$T/stats-mpi-w")" 0 "files judged with workers_judge"

# A no-op re-run: nothing changes, nothing is printed, everything is unchanged.
entries=$(($(find "$src" -mindepth 1 ! -type d | wc -l)))
for v in mpi mpi-w; do
	save_state "$T/state" "$W/$v"
	force=
	[ "$v" = mpi-w ] && force=workers_judge
	PCOPY_FORCE=$force kind_ok mpi "${opts[@]}" "$src" "$W/$v"
	state_unchanged "$T/state" "$v: a no-op re-run" "$W/$v"
	grep -v '^{' "$T/out" >"$T/lines"
	assert_empty "$T/lines"
	python3 - "$T/out" "$entries" <<'PY' || fail "$v: a no-op re-run did not count every entry unchanged"
import json, sys
st = json.loads(next(l for l in open(sys.argv[1]) if l.startswith("{")))
assert st["unchanged"] == int(sys.argv[2]), (st["unchanged"], sys.argv[2])
assert st["created"] + st["updated"] + st["meta_updated"] + st["deleted"] == 0, st
PY
	cp "$T/out" "$T/stats-noop-$v"
done
n=$(judged "$T/stats-noop-mpi")
log "no-op: ranks > 0 judged $n of $entries entries"
[ "$n" -gt 0 ] || fail "a no-op re-run judged no file"
assert_eq "$(judged "$T/stats-noop-mpi-w")" 0 "files judged with workers_judge (no-op)"

# Judged only where a worker would just look at DST.
for args in "--stats=json -T" "--stats=json -c --update=changed -T" \
	"--stats=json -n --update=changed -T"; do
	# shellcheck disable=SC2086 # the options are words
	kind_ok mpi $args "$src" "$W/mpi"
	assert_eq "$(judged "$T/out")" 0 "files judged with $args"
done
treecmp "$src" "$W/mpi"
