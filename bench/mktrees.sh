#!/bin/bash
# mktrees.sh DIR [TREE...] -- generate the benchmark source trees under DIR.
#
#   small  50,000 files of 0-64 KiB in 500 directories, ~416 MB
#          (10,000 files in 100 directories, ~83 MB, when QUICK=1)
#   big    4 files of 512 MiB (256 MiB when QUICK=1)
#   real   a copy of /usr/share (/usr/share/doc when QUICK=1), made with cp -a
#   walk   500,000 empty files in 5,000 directories (50 of 100), for the
#          walk-only rows (-n): all metadata, no data (50,000 in 500 when QUICK=1)
#
# The trees are deterministic: the small-tree file sizes come from a
# Park-Miller generator with a fixed seed, drawn from an exponential
# distribution of mean 8320 bytes truncated at 64 KiB, so most files are a
# few KiB and a few are large, as in real source trees.  Needs only bash,
# coreutils and awk.
#
# A tree that already exists with the same parameters (a marker file
# DIR/.TREE.done records them) is not generated again.
#
# Environment: QUICK=1, SMALL_FILES, SMALL_DIRS, BIG_FILES, BIG_MIB, REAL_SRC,
# WALK_FILES, WALK_DIRS (a multiple of 50).

set -u

usage() {
	echo "usage: $0 DIR [small|big|real|walk]..." >&2
	exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
trees=${*:-small big real}

case ${QUICK:-0} in
'' | 0 | no | false) quick=0 ;;
*) quick=1 ;;
esac

if [ "$quick" = 1 ]; then
	small_files=${SMALL_FILES:-10000}
	small_dirs=${SMALL_DIRS:-100}
	big_mib=${BIG_MIB:-256}
	real_src=${REAL_SRC:-/usr/share/doc}
	walk_files=${WALK_FILES:-50000}
	walk_dirs=${WALK_DIRS:-500}
else
	small_files=${SMALL_FILES:-50000}
	small_dirs=${SMALL_DIRS:-500}
	big_mib=${BIG_MIB:-512}
	real_src=${REAL_SRC:-/usr/share}
	walk_files=${WALK_FILES:-500000}
	walk_dirs=${WALK_DIRS:-5000}
fi
big_files=${BIG_FILES:-4}

mkdir -p "$dir" || exit 1

# tree_is_current TREE PARAMS: true, saying so, when TREE was made with PARAMS.
tree_is_current() {
	[ -d "$dir/$1" ] && [ -f "$dir/.$1.done" ] &&
		[ "$(cat "$dir/.$1.done")" = "$2" ] &&
		echo "mktrees: $1: up to date ($2)"
}

# now_ms: milliseconds since the epoch, for generation times only.
now_ms() {
	date +%s%3N
}

# The small-tree generator: one awk process (mawk or gawk) writes every file,
# which is faster than one process per file and than python3's start-up.
# Integer arithmetic stays below 2^53, so every awk draws the same numbers.
read -r -d '' gen_small_awk <<'AWK'
function draw() { x = (x * 48271) % 2147483647; return x }
BEGIN {
	M = 2147483647; x = 20260101
	unit = ""
	for (k = 0; k < 256; k++) unit = unit sprintf("%c", 33 + draw() % 94)
	block = unit
	for (k = 0; k < 8; k++) block = block block        # 64 KiB
	block = block substr(block, 1, 4096)
	total = 0
	for (i = 0; i < nfiles; i++) {
		do { size = int(-8320.0 * log(draw() / M)) } while (size > 65536)
		off = (i * 7919) % 4096
		path = sprintf("%s/d%03d/f%05d", root, i % ndirs, i)
		printf "%s", substr(block, off + 1, size) > path
		close(path)
		total += size
	}
	printf "%.0f\n", total
}
AWK

make_small() {
	local params="files=$small_files dirs=$small_dirs v1" t0 bytes d
	tree_is_current small "$params" && return 0
	rm -rf "$dir/small" "$dir/.small.done"
	mkdir "$dir/small" || return 1
	t0=$(now_ms)
	for ((d = 0; d < small_dirs; d++)); do
		printf '%s/small/d%03d\n' "$dir" "$d"
	done | xargs mkdir || return 1
	bytes=$(LC_ALL=C awk -v root="$dir/small" -v nfiles="$small_files" \
		-v ndirs="$small_dirs" "$gen_small_awk") || return 1
	echo "$params" >"$dir/.small.done"
	echo "mktrees: small: $small_files files in $small_dirs directories," \
		"$bytes bytes ($(($(now_ms) - t0)) ms)"
}

make_big() {
	local params="files=$big_files mib=$big_mib v1" t0 i line
	tree_is_current big "$params" && return 0
	rm -rf "$dir/big" "$dir/.big.done"
	mkdir "$dir/big" || return 1
	t0=$(now_ms)
	for ((i = 0; i < big_files; i++)); do
		# A long, file-specific line repeated: cheap to write at GB/s,
		# and not zeros, so no layer can treat the data specially.
		line=$(printf 'pcopy bench big file %d %0200d' "$i" "$((i * 7919))")
		yes "$line" | head -c "$((big_mib * 1024 * 1024))" >"$dir/big/big$i" ||
			return 1
	done
	echo "$params" >"$dir/.big.done"
	echo "mktrees: big: $big_files files of $big_mib MiB" \
		"($(($(now_ms) - t0)) ms)"
}

make_real() {
	local params="src=$real_src v1" t0
	tree_is_current real "$params" && return 0
	if [ ! -d "$real_src" ]; then
		echo "mktrees: real: skipped: $real_src does not exist"
		return 0
	fi
	rm -rf "$dir/real" "$dir/.real.done"
	t0=$(now_ms)
	# Not root: some files may be unreadable; copy what can be read.
	if ! cp -a "$real_src" "$dir/real" 2>"$dir/.real.err"; then
		echo "mktrees: real: cp -a $real_src reported" \
			"$(wc -l <"$dir/.real.err") errors; using what was copied"
		find "$dir/real" ! -readable -prune -exec rm -rf {} + 2>/dev/null
	fi
	rm -f "$dir/.real.err"
	echo "$params" >"$dir/.real.done"
	echo "mktrees: real: copy of $real_src," \
		"$(find "$dir/real" | wc -l) entries ($(($(now_ms) - t0)) ms)"
}

# The walk tree: 50 top directories, each with walk_dirs/50 below it, the
# files dealt out evenly; one awk prints the paths and xargs makes them, a
# few hundred mkdir and touch processes in all.
make_walk() {
	local params="files=$walk_files dirs=$walk_dirs v1" t0
	tree_is_current walk "$params" && return 0
	rm -rf "$dir/walk" "$dir/.walk.done"
	mkdir "$dir/walk" || return 1
	t0=$(now_ms)
	awk -v root="$dir/walk" -v ndirs="$walk_dirs" 'BEGIN {
		for (t = 0; t < 50; t++) print root "/t" t
		for (d = 0; d < ndirs; d++) print root "/t" (d % 50) "/d" d
	}' | xargs mkdir || return 1
	awk -v root="$dir/walk" -v nfiles="$walk_files" -v ndirs="$walk_dirs" 'BEGIN {
		for (i = 0; i < nfiles; i++) { d = i % ndirs; print root "/t" (d % 50) "/d" d "/f" i }
	}' | xargs touch || return 1
	echo "$params" >"$dir/.walk.done"
	echo "mktrees: walk: $walk_files empty files in $walk_dirs directories" \
		"($(($(now_ms) - t0)) ms)"
}

status=0
for t in $trees; do
	case $t in
	small) make_small || status=1 ;;
	big) make_big || status=1 ;;
	real) make_real || status=1 ;;
	walk) make_walk || status=1 ;;
	*) usage ;;
	esac
done
exit $status
