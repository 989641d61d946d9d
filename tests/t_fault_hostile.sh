#!/bin/bash
# Hostile destinations and refusals, both worker modes:
#   - -T into a DST holding, where a source file goes, a symlink to a file
#     outside DST (also one level down), and where a source directory goes, a
#     symlink to a directory outside DST: exit 0, the outside file and
#     directory untouched, DST gets the real file and directory;
#   - `pcopy f f`, and f onto a hard link or a symlink to itself: exit 2, f intact;
#   - SRC into a path inside SRC, directly or through a symlink, and -T onto
#     a symlink to SRC: exit 2, nothing written;
#   - SRC dir onto an existing non-directory DST (with and without -T): exit 2,
#     DST intact.
# Every exit-2 case prints "pcopy: ..." on stderr.
. "$(dirname "$0")/lib.sh"
need_pcopy

# a listing of a tree with contents, modes and times, to prove nothing changed
snapshot() {
	(cd "$1" && find . -printf '%p %y %m %s %T@ %l\n' | sort &&
		find . -type f -exec cksum {} + | sort)
}

# refuse WHAT ARGS...: pcopy ARGS exits 2 with a "pcopy: " message
refuse() {
	local what=$1
	shift
	assert_exit 2 timeout -k 5 30 "$PCOPY" "$@"
	assert_grep "$T/err" "^pcopy: "
	[ ! -s "$T/out" ] || fail "$what: output on stdout: $(head -n 3 "$T/out")"
}

src=$W/src
mkdir -p "$src/d" "$src/deep/er"
echo "real f" >"$src/f"
echo "real x" >"$src/d/x"
echo "real g" >"$src/deep/er/g"
mkdir -p "$W/outside/dir"
echo "outside file" >"$W/outside/file"
echo "outside dir's y" >"$W/outside/dir/y"
chmod 0640 "$W/outside/file"
touch -d '2001-02-03 04:05:06' "$W/outside/file" "$W/outside/dir/y" "$W/outside/dir"
ln -s "$src/d" "$W/src-d-link"
ln -s "$W/outside/dir" "$W/outside-link"
before=$(snapshot "$W/outside")
src_before=$(snapshot "$src")

for mode in thread process; do
	# planted symlinks in DST
	dst=$W/dst-$mode
	mkdir -p "$dst/deep/er"
	ln -s "$W/outside/file" "$dst/f"
	ln -s "$W/outside/file" "$dst/deep/er/g"
	ln -s "$W/outside/dir" "$dst/d"
	assert_exit 0 timeout -k 5 30 "$PCOPY" --mode="$mode" -T "$src" "$dst"
	[ "$(snapshot "$W/outside")" = "$before" ] || fail "$mode: written through a planted symlink"
	for e in f deep/er/g d/x; do
		[ -f "$dst/$e" ] && [ ! -L "$dst/$e" ] || fail "$mode: $e in DST is not a regular file"
	done
	[ -d "$dst/d" ] && [ ! -L "$dst/d" ] || fail "$mode: d in DST is not a real directory"
	treecmp "$src" "$dst"

	# the same file
	cp "$src/f" "$W/f"
	cp "$src/f" "$W/f.orig"
	refuse "$mode: f f" --mode="$mode" "$W/f" "$W/f"
	ln "$W/f" "$W/f.hard"
	refuse "$mode: f onto its hard link" --mode="$mode" "$W/f" "$W/f.hard"
	ln -s f "$W/f.sym"
	refuse "$mode: f onto a symlink to it" --mode="$mode" "$W/f" "$W/f.sym"
	cmp -s "$W/f" "$W/f.orig" || fail "$mode: f changed"
	[ "$(stat -c %h "$W/f")" -eq 2 ] || fail "$mode: f's links changed"
	rm -f "$W/f" "$W/f.orig" "$W/f.hard" "$W/f.sym"

	# DST inside SRC
	ln -s "$src" "$W/src-link"
	refuse "$mode: into SRC" --mode="$mode" "$src" "$src/copy"
	refuse "$mode: into SRC via a symlink" --mode="$mode" "$src" "$W/src-link/copy"
	refuse "$mode: into SRC's subdir via a symlink" --mode="$mode" "$src" "$W/src-link/d/copy"
	refuse "$mode: -T onto a symlink to SRC" --mode="$mode" -T "$src" "$W/src-link"
	# the copy's own path a symlink into SRC: following it would recurse forever
	refuse "$mode: -T onto a symlink to SRC's subdir" --mode="$mode" -T "$src" "$W/src-d-link"
	refuse "$mode: -T onto a symlink to an outside dir" --mode="$mode" -T "$src" "$W/outside-link"
	[ "$(snapshot "$src")" = "$src_before" ] || fail "$mode: SRC changed by a refused copy"
	rm -f "$W/src-link"

	# SRC dir onto a non-directory
	echo "not a dir" >"$W/plain"
	refuse "$mode: dir onto a file" --mode="$mode" "$src" "$W/plain"
	refuse "$mode: dir onto a file, -T" --mode="$mode" -T "$src" "$W/plain"
	[ "$(cat "$W/plain")" = "not a dir" ] || fail "$mode: the non-directory DST changed"
	rm -f "$W/plain"
done
[ "$(snapshot "$W/outside")" = "$before" ] || fail "outside tree changed"
exit 0
