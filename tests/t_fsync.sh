#!/bin/bash
# --fsync: exit 0 means everything written is on stable storage.
#   - strace (-f -y) shows each regular file fsync'ed, in the thread that
#     copies it, right before its link (O_TMPFILE) or rename (named
#     temporary, PCOPY_FORCE=no_tmpfile) into place, and one syncfs of DST's
#     file system after the last of them; both worker modes; the copy
#     compares equal;
#   - without --fsync there is no fsync, fdatasync or syncfs at all;
#   - a file whose fsync fails (fault shim, EIO) is an error of that entry
#     (exit 1, one line) and nothing stands under its name; the rest is
#     copied; no temporaries;
#   - a file system mounted inside DST gets its own syncfs (root only);
#   - a failed syncfs at the end is an error of the copy (exit 1).
. "$(dirname "$0")/lib.sh"
need_pcopy
need_faultshim
need_cmd strace
strace -f -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
# LeakSanitizer cannot run under ptrace: without it for the traced runs
traced=(env "ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0" strace -f)

src=$W/src
mkdir -p "$src/sub/deep" "$src/empty"
for i in 1 2 3 4 5; do
	head -c $((i * 7000)) /dev/urandom >"$src/f$i"
	head -c $((i * 100)) /dev/urandom >"$src/sub/g$i"
done
: >"$src/zero"
echo deep >"$src/sub/deep/h"
echo linked >"$src/hl-a"
ln "$src/hl-a" "$src/sub/hl-b"
ln -s f1 "$src/link"
mkfifo "$src/fifo"
# regular files installed from a temporary: all names but hl-b, a hard link
nfiles=$(($(find "$src" -type f | wc -l) - 1))

# check_trace FILE: every install of a regular file follows an fsync of that
# file in the same thread; a syncfs comes after the last install.  Sets
# INSTALLS, SYNCFS.
check_trace() {
	local out
	out=$(awk '
	{
		# strace pads the pid: "1234  call(...)"
		pid = $1
		line = $0
		sub(/^[0-9]+ +/, "", line)
		# a call split by another thread: join its two halves
		if (line ~ / <unfinished \.\.\.>$/) {
			sub(/ <unfinished \.\.\.>$/, "", line)
			part[pid] = line
			next
		}
		if (line ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
			sub(/^<\.\.\. [a-z0-9_]+ resumed>/, "", line)
			line = part[pid] line
		}
		if (line !~ / = 0$/)
			next
		if (line ~ /^(fsync|fdatasync)\(/) {
			fd = line
			sub(/^[a-z]+\(/, "", fd)
			path = fd
			sub(/<.*/, "", fd)
			sub(/^[0-9]+</, "", path)
			sub(/>.*/, "", path)
			synced_fd[pid] = fd
			synced_path[pid] = path
		} else if (line ~ /^linkat\(.*AT_EMPTY_PATH/) {
			fd = line
			sub(/^linkat\(/, "", fd)
			sub(/<.*/, "", fd)
			if (synced_fd[pid] != fd)
				print "not synced before its link: " line
			delete synced_fd[pid]
			installs++
			last = NR
		} else if (line ~ /^renameat2?\(.*"\.pcopy-tmp\./) {
			name = line
			sub(/^[^"]*"/, "", name)
			sub(/".*/, "", name)
			n = length(synced_path[pid]) - length(name)
			if (n < 1 || substr(synced_path[pid], n) != "/" name)
				print "not synced before its rename: " line
			delete synced_path[pid]
			installs++
			last = NR
		} else if (line ~ /^syncfs\(/) {
			syncfs++
			syncfs_at = NR
		}
	}
	END {
		if (syncfs_at <= last)
			print "no syncfs after the last install"
		printf "INSTALLS=%d SYNCFS=%d\n", installs, syncfs
	}' "$1")
	if grep -v '^INSTALLS=' <<<"$out" | grep -q .; then
		log "$out"
		fail "$what: $(grep -v '^INSTALLS=' <<<"$out" | head -n 1)"
	fi
	eval "$(grep '^INSTALLS=' <<<"$out")"
}

for mode in thread process; do
	for force in "" no_tmpfile; do
		what="$mode${force:+ $force}"
		rm -rf "$W/dst"
		assert_exit 0 env PCOPY_FORCE="$force" "${traced[@]}" -y -o "$T/trace" \
			-e trace=fsync,fdatasync,syncfs,renameat2,renameat,rename,linkat,link \
			"$PCOPY" --fsync --mode="$mode" -j 4 "$src" "$W/dst"
		check_trace "$T/trace"
		assert_eq "$INSTALLS" "$nfiles" "$what: files installed after an fsync"
		assert_eq "$SYNCFS" 1 "$what: syncfs calls"
		treecmp "$src" "$W/dst"
		no_temporaries "$W/dst"
	done

	# a single file: synced, then linked, then its directory's file system
	what="$mode single file"
	rm -f "$W/single-copy"
	assert_exit 0 "${traced[@]}" -y -o "$T/trace" -e trace=fsync,fdatasync,syncfs,renameat2,renameat,linkat \
		"$PCOPY" --fsync --mode="$mode" "$src/f3" "$W/single-copy"
	check_trace "$T/trace"
	assert_eq "$INSTALLS/$SYNCFS" 1/1 "$what: installs/syncfs"
	cmp -s "$src/f3" "$W/single-copy" || fail "$what: copy differs"

	# without --fsync: not one sync call
	rm -rf "$W/dst"
	assert_exit 0 "${traced[@]}" -o "$T/trace" -e trace=fsync,fdatasync,syncfs,sync,sync_file_range \
		"$PCOPY" --mode="$mode" "$src" "$W/dst"
	if grep -Eq '(fsync|fdatasync|syncfs|sync|sync_file_range)\(' "$T/trace"; then
		grep -E 'sync' "$T/trace" | head -n 5 >&2
		fail "$mode: sync calls without --fsync"
	fi
	treecmp "$src" "$W/dst"
done

# a file system mounted inside DST is synced too: one syncfs for each
if [ "$(id -u)" -eq 0 ]; then
	rm -rf "$W/dst" "$W/msrc"
	mkdir -p "$W/dst/sub" "$W/msrc/sub"
	echo inner >"$W/msrc/sub/inner"
	echo outer >"$W/msrc/outer"
	mount_tmpfs "$W/dst/sub" 1m
	assert_exit 0 "${traced[@]}" -y -o "$T/trace" -e trace=fsync,syncfs,renameat2,renameat,linkat \
		"$PCOPY" --fsync -T "$W/msrc" "$W/dst"
	check_trace "$T/trace"
	assert_eq "$INSTALLS/$SYNCFS" 2/2 "mount inside DST: installs/syncfs"
	grep -q "^[0-9]* *syncfs([0-9]*<$W/dst/sub>" "$T/trace" || fail "mount inside DST: not synced"
	umount "$W/dst/sub"
fi

# an fsync that fails: that file is an error, named in DST, and is not installed
for mode in thread process; do
	for force in "" no_tmpfile; do
		for j in 1 4; do
			what="$mode -j$j${force:+ $force}: fsync fails"
			rm -rf "$W/dst"
			rc=0
			env PCOPY_FORCE="$force" LD_PRELOAD="$FAULTSHIM" FAULT_OP=fsync FAULT_NTH=3 \
				FAULT_ERRNO=EIO FAULT_LOG="$T/shim.log" "$PCOPY" --fsync --mode="$mode" \
				-j "$j" "$src" "$W/dst" >"$T/out" 2>"$T/err" || rc=$?
			[ "$rc" -eq 1 ] || {
				cat "$T/err" >&2
				fail "$what: exit status $rc, expected 1"
			}
			check_messages "$T/err"
			[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$what: not one error line: $(cat "$T/err")"
			assert_grep "$T/err" "^pcopy: '$(re_quote "$W/dst")/.+': Input/output error$"
			bad=$(sed -n "s|^pcopy: '$W/dst/\(.*\)': Input/output error\$|\1|p" "$T/err")
			[ ! -e "$W/dst/$bad" ] || fail "$what: $bad was installed although its fsync failed"
			[ -p "$W/dst/fifo" ] || fail "$what: the FIFO was not made"
			rm "$W/dst/fifo" # check_subset knows files, links and directories
			check_subset "$src" "$W/dst"
			assert_eq "$NFILES" "$(($(find "$src" -type f | wc -l) - 1))" "$what: files copied"
			no_process_left
		done
	done
done

# a syncfs that fails at the end (the one fsync-like call on a directory,
# the last of them): an error of the copy
rm -rf "$W/dst"
rc=0
LD_PRELOAD="$FAULTSHIM" FAULT_OP=fsync FAULT_ANY_FD=1 FAULT_NTH=$((nfiles + 1)) FAULT_ERRNO=EIO \
	FAULT_LOG="$T/shim.log" "$PCOPY" --fsync "$src" "$W/dst" >"$T/out" 2>"$T/err" || rc=$?
grep -q "syncfs" "$T/shim.log" || fail "syncfs fault: the shim did not fail the syncfs"
[ "$rc" -eq 1 ] || fail "syncfs fault: exit status $rc, expected 1"
assert_grep "$T/err" "^pcopy: '$(re_quote "$W/dst")': cannot sync to stable storage: Input/output error$"
exit 0
