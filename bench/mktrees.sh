#!/bin/bash
# mktrees.sh DIR [TREE...] -- make the benchmark's source trees under DIR;
# the one place where trees are made.  mktrees.sh --kib TREE... prints the
# KiB each would take ("TREE KIB" lines), for sizing a tmpfs or an image;
# mktrees.sh --status DIR TREE... prints "TREE KIB INODES MADE" lines, MADE
# 1 when DIR holds TREE made with the same parameters (it would be kept),
# so that a suite can tell whether the tree and a copy of it fit.
#
#   small    50,000 files of 0-64 KiB in 500 directories, ~416 MB
#            (QUICK: 10,000 files in 100 directories, ~83 MB)
#   many     300,000 files of 0-64 KiB in 3,000 directories, ~2.5 GB: the
#            small tree's generator with six times its counts, for the
#            scale rows (the same in QUICK, which runs them only if asked)
#   big      4 files of 512 MiB (QUICK: 2 of 256 MiB)
#   real     a copy of /usr/share (QUICK: /usr/share/doc), made with cp -a
#   walk     500,000 empty files in 5,000 directories (50 of 100), for the
#            walk-only rows: all metadata, no data (QUICK: 50,000 in 500)
#   tenth    the first tenth of small's directories (DIR/small must exist)
#   changed  small after a 1% change: every 100th file rewritten, 100
#            removed, 100 added (DIR/small must exist)
#
# Deterministic: the small files' sizes come from a Park-Miller generator
# with a fixed seed, drawn from an exponential distribution of mean 8320
# bytes truncated at 64 KiB, so most files are a few KiB and a few are
# large, as in real source trees.  A tree already made with the same
# parameters (recorded in DIR/.TREE.done) is kept: this is the cache, which
# lasts as long as DIR (BENCH_DIR keeps it between runs).  Needs bash,
# coreutils and awk.
#
# Environment: QUICK=1, SMALL_FILES, SMALL_DIRS, MANY_FILES, MANY_DIRS,
# BIG_FILES, BIG_MIB, REAL_SRC, WALK_FILES, WALK_DIRS (a multiple of 50).

set -u

usage() {
	echo "usage: $0 DIR [small|many|big|real|walk|tenth|changed]..." \
		"| --kib TREE... | --status DIR TREE..." >&2
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
qf() { if [ "$quick" = 1 ]; then echo "$1"; else echo "$2"; fi; }

small_files=${SMALL_FILES:-$(qf 10000 50000)}
small_dirs=${SMALL_DIRS:-$(qf 100 500)}
many_files=${MANY_FILES:-300000}
many_dirs=${MANY_DIRS:-3000}
big_files=${BIG_FILES:-$(qf 2 4)}
big_mib=${BIG_MIB:-$(qf 256 512)}
real_src=${REAL_SRC:-$(qf /usr/share/doc /usr/share)}
walk_files=${WALK_FILES:-$(qf 50000 500000)}
walk_dirs=${WALK_DIRS:-$(qf 500 5000)}

# params TREE: what TREE is made from, recorded in DIR/.TREE.done; a tree
# recorded with other parameters is made again.
params() {
	case $1 in
	small) echo "files=$small_files dirs=$small_dirs v1" ;;
	many) echo "files=$many_files dirs=$many_dirs v1" ;;
	big) echo "files=$big_files mib=$big_mib v1" ;;
	real) echo "src=$real_src v1" ;;
	walk) echo "files=$walk_files dirs=$walk_dirs v1" ;;
	tenth | changed) echo "of small $(params small)" ;;
	*) usage ;;
	esac
}

# kib_of TREE: an upper bound of its size in KiB (a generated file takes
# its 8.3 KiB mean plus the tail of its last block; 12 covers both).
kib_of() {
	local kib
	case $1 in
	small | changed) kib=$((small_files * 12)) ;;
	many) kib=$((many_files * 12)) ;;
	tenth) kib=$((small_files * 12 / 10)) ;;
	big) kib=$((big_files * big_mib * 1024)) ;;
	real) kib=$(du -sk "$real_src" 2>/dev/null | cut -f1) ;;
	walk) kib=$((walk_files / 4)) ;;
	*) usage ;;
	esac
	echo "${kib:-0}"
}

# inodes_of TREE: its entries, the top directory included.
inodes_of() {
	case $1 in
	small | changed) echo $((small_files + small_dirs + 1)) ;;
	many) echo $((many_files + many_dirs + 1)) ;;
	tenth) echo $(((small_files + small_dirs) / 10 + 1)) ;;
	big) echo $((big_files + 1)) ;;
	real) find "$real_src" 2>/dev/null | wc -l ;;
	walk) echo $((walk_files + walk_dirs + 51)) ;;
	*) usage ;;
	esac
}

# is_current TREE: was TREE made in DIR with its present parameters?
is_current() {
	[ -d "$dir/$1" ] && [ -f "$dir/.$1.done" ] &&
		[ "$(cat "$dir/.$1.done")" = "$(params "$1")" ]
}

# known TREE...: stop at a name that is no tree (before any $(kib_of), whose
# usage would only leave its subshell).
known() {
	local t
	for t in "$@"; do
		case $t in
		small | many | big | real | walk | tenth | changed) ;;
		*) usage ;;
		esac
	done
}

if [ "$dir" = --kib ]; then
	# shellcheck disable=SC2086 # a list of words
	known $trees
	for t in $trees; do
		echo "$t $(kib_of "$t")"
	done
	exit 0
fi
if [ "$dir" = --status ]; then
	[ $# -ge 2 ] || usage
	dir=$1
	shift
	known "$@"
	for t in "$@"; do
		echo "$t $(kib_of "$t") $(inodes_of "$t") $(is_current "$t" && echo 1 || echo 0)"
	done
	exit 0
fi

mkdir -p "$dir" || exit 1

# fresh TREE: unless current (then saying so), remove TREE and start
# timing it.
fresh() {
	if is_current "$1"; then
		echo "mktrees: $1: up to date ($(params "$1"))"
		return 1
	fi
	rm -rf "${dir:?}/$1" "$dir/.$1.done"
	t0=$(date +%s%3N)
}

# made TREE WHAT: record TREE as made with its parameters and say WHAT.
made() {
	params "$1" >"$dir/.$1.done"
	echo "mktrees: $1: $2 ($(($(date +%s%3N) - t0)) ms)"
}

# The generator of small and many: one awk process (mawk or gawk) writes
# every file, which is faster than one process per file and than python3's
# start-up.
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

# make_generated TREE FILES DIRS: small or many, FILES files dealt out over
# DIRS directories; only the counts tell them apart.
make_generated() {
	local t=$1 files=$2 dirs=$3 bytes
	fresh "$t" || return 0
	mkdir "$dir/$t" || return 1
	awk -v r="$dir/$t" -v n="$dirs" \
		'BEGIN { for (d = 0; d < n; d++) printf "%s/d%03d\n", r, d }' | xargs mkdir || return 1
	bytes=$(LC_ALL=C awk -v root="$dir/$t" -v nfiles="$files" \
		-v ndirs="$dirs" "$gen_small_awk") || return 1
	made "$t" "$files files in $dirs directories, $bytes bytes"
}
make_small() { make_generated small "$small_files" "$small_dirs"; }

make_big() {
	local i line
	fresh big || return 0
	mkdir "$dir/big" || return 1
	for ((i = 0; i < big_files; i++)); do
		# A long, file-specific line repeated: cheap to write at GB/s,
		# and not zeros, so no layer can treat the data specially.
		line=$(printf 'pcopy bench big file %d %0200d' "$i" "$((i * 7919))")
		yes "$line" | head -c "$((big_mib * 1024 * 1024))" >"$dir/big/big$i" || return 1
	done
	made big "$big_files files of $big_mib MiB"
}

make_real() {
	if [ ! -d "$real_src" ]; then
		echo "mktrees: real: skipped: $real_src does not exist"
		return 0
	fi
	fresh real || return 0
	# Not root: some files may be unreadable; copy what can be read.
	if ! cp -a "$real_src" "$dir/real" 2>"$dir/.real.err"; then
		echo "mktrees: real: cp -a $real_src reported" \
			"$(wc -l <"$dir/.real.err") errors; using what was copied"
		find "$dir/real" ! -readable -prune -exec rm -rf {} + 2>/dev/null
	fi
	rm -f "$dir/.real.err"
	made real "copy of $real_src, $(find "$dir/real" | wc -l) entries"
}

# The walk tree: 50 top directories, each with walk_dirs/50 below it, the
# files dealt out evenly; one awk prints the paths and xargs makes them, a
# few hundred mkdir and touch processes in all.
make_walk() {
	fresh walk || return 0
	mkdir "$dir/walk" || return 1
	awk -v root="$dir/walk" -v ndirs="$walk_dirs" 'BEGIN {
		for (t = 0; t < 50; t++) print root "/t" t
		for (d = 0; d < ndirs; d++) print root "/t" (d % 50) "/d" d
	}' | xargs mkdir || return 1
	awk -v root="$dir/walk" -v nfiles="$walk_files" -v ndirs="$walk_dirs" 'BEGIN {
		for (i = 0; i < nfiles; i++) { d = i % ndirs; print root "/t" (d % 50) "/d" d "/f" i }
	}' | xargs touch || return 1
	made walk "$walk_files empty files in $walk_dirs directories"
}

# tenth: a copy of the first tenth of small's directories, for the
# memory-flatness checks and (QUICK) the system-call counts.
make_tenth() {
	local d n k=0
	[ -d "$dir/small" ] || make_small || return 1
	fresh tenth || return 0
	n=$(find "$dir/small" -mindepth 1 -maxdepth 1 -type d | wc -l)
	n=$(((n + 9) / 10))
	mkdir "$dir/tenth" || return 1
	for d in "$dir"/small/*/; do
		((k++ < n)) || break
		cp -a "${d%/}" "$dir/tenth/" || return 1
	done
	made tenth "the first $n directories of small"
}

# changed: the same 1% change every time: every 100th file (in sorted
# order) rewritten, 100 others removed, 100 added.
make_changed() {
	local n=0 f
	[ -d "$dir/small" ] || make_small || return 1
	fresh changed || return 0
	cp -a "$dir/small" "$dir/changed" || return 1
	while IFS= read -r f; do
		n=$((n + 1))
		if ((n % 100 == 0)); then
			printf 'rewritten %d\n' "$n" >>"$f"
		elif ((n % 100 == 50 && n / 100 < 100)); then
			rm -f "$f"
		fi
	done < <(find "$dir/changed" -type f | sort)
	for ((n = 0; n < 100; n++)); do
		printf 'added %d\n' "$n" >"$dir/changed/added-$n"
	done
	made changed "small with 1% of its files rewritten, added or removed"
}

status=0
for t in $trees; do
	case $t in
	small) make_small || status=1 ;;
	many) make_generated many "$many_files" "$many_dirs" || status=1 ;;
	big) make_big || status=1 ;;
	real) make_real || status=1 ;;
	walk) make_walk || status=1 ;;
	tenth) make_tenth || status=1 ;;
	changed) make_changed || status=1 ;;
	*) usage ;;
	esac
done
exit $status
