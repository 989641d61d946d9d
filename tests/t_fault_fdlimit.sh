#!/bin/bash
# Resource limits, both worker modes:
#   - a tree 300 directories deep, with files at several levels, copied under
#     `ulimit -n 64`: exit 0 and an identical copy (file descriptors are not
#     held per level);
#   - the same tree copied with 1100 inherited open file descriptors (fd
#     numbers above 1024, after raising ulimit -n): exit 0 and an identical copy.
. "$(dirname "$0")/lib.sh"
need_pcopy

src=$W/src
mkdir "$src"
(
	cd "$src" || exit 1
	for level in $(seq 1 300); do
		mkdir "level$level"
		cd "level$level" || exit 1
		case $level in
		1 | 2 | 50 | 100 | 150 | 200 | 250 | 299 | 300)
			echo "file at level $level" >"file$level"
			mkdir "side$level"
			echo "side file at level $level" >"side$level/s"
			;;
		esac
	done
) || fail "cannot build the deep tree"
echo top >"$src/top"
many_fds=yes
(ulimit -n 4096) 2>/dev/null || many_fds=no

for mode in thread process; do
	for jobs in 1 4; do
		what="$mode -j $jobs"
		dst=$W/dst
		rc=0
		(
			ulimit -n 64
			exec timeout -k 5 60 "$PCOPY" --mode="$mode" -j "$jobs" "$src" "$dst"
		) >"$T/out" 2>"$T/err" || rc=$?
		if [ "$rc" -ne 0 ]; then
			head -n 20 "$T/err" >&2
			fail "$what, ulimit -n 64: exit status $rc, expected 0"
		fi
		treecmp "$src" "$dst"
		rm -rf "$dst"
	done

	what="$mode, 1100 inherited fds"
	if [ "$many_fds" = no ]; then
		log "note: cannot raise ulimit -n to 4096; $what not checked"
		continue
	fi
	rc=0
	(
		ulimit -n 4096
		for i in $(seq 1100); do
			exec {fd}<"$src/top" || exit 98
		done
		[ "$fd" -gt 1024 ] || exit 98
		exec timeout -k 5 60 "$PCOPY" --mode="$mode" "$src" "$dst"
	) >"$T/out" 2>"$T/err" || rc=$?
	case $rc in
	98) fail "$what: the test could not open 1100 file descriptors" ;;
	0) ;;
	*)
		head -n 20 "$T/err" >&2
		fail "$what: exit status $rc, expected 0"
		;;
	esac
	treecmp "$src" "$dst"
	rm -rf "$dst"
done
exit 0
