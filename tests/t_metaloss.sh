#!/bin/bash
# Issue 10, item 4: metadata that was asked for and cannot be kept is an
# error of its entry (one line naming the path and what was lost, exit 1),
# the copy goes on, and an ACL that cannot be written never leaves a mode
# wider than the ACL granted.  The destination is a ramfs, which takes no
# xattrs and no ACLs; owner and times failures are injected with strace.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_root
need_cmd setfacl setfattr getfattr
use_tmpfs 64m
src=$W/src
mkdir "$src" "$T/ram"
mount_ramfs "$T/ram"
R=$T/ram

# The ramfs must refuse what this test relies on it refusing.
echo probe >"$R/probe"
if setfattr -n user.probe -v 1 "$R/probe" 2>/dev/null ||
	setfacl -m u:1000:r "$R/probe" 2>/dev/null; then
	skip "ramfs accepts xattrs or ACLs on this kernel"
fi
rm -f "$R/probe"
# ... and the source must take them.
echo probe >"$src/probe"
setfattr -n user.probe -v 1 "$src/probe" 2>/dev/null &&
	setfacl -m u:1000:r "$src/probe" 2>/dev/null ||
	skip "the source tmpfs takes no xattrs or ACLs"
rm -f "$src/probe"

# ---- the tree: one entry of each kind that loses something, and plain ones ----
umask 022
echo plain >"$src/plain"
echo acl >"$src/acl-file"
setfacl -m u:1000:rwx "$src/acl-file" # -rw-r--r-- becomes -rw-rwxr--+
echo nogroup >"$src/acl-nogroup"
chmod 0604 "$src/acl-nogroup"
setfacl -m g:1000:rw "$src/acl-nogroup" # group::--- behind mask rw-
echo x >"$src/xattr-file"
setfattr -n user.x -v 1 "$src/xattr-file"
mkdir "$src/acl-dir" "$src/def-dir"
echo inner >"$src/acl-dir/inner"
setfacl -m u:1000:rwx "$src/acl-dir"   # drwxr-xr-x becomes drwxrwxr-x+
setfacl -d -m u:1000:rwx "$src/def-dir" # a default ACL only: mode unchanged
mkfifo -m 0600 "$src/acl-fifo"
setfacl -m u:1000:rw "$src/acl-fifo" # prw------- becomes prw-rw----+
ln -s plain "$src/xattr-link"
setfattr -h -n trusted.x -v 1 "$src/xattr-link"
[ "$(stat -c %A "$src/acl-file")" = -rw-rwxr-- ] || fail "setfacl did not widen the group bits"

# the expected error lines for the tree at $1 (as named on the command line)
expected_errors() {
	local p=$1 ns="Operation not supported"
	printf "pcopy: '%s': %s\n" \
		"$p/acl-file" "cannot preserve ACL: $ns" \
		"$p/acl-nogroup" "cannot preserve ACL: $ns" \
		"$p/xattr-file" "cannot preserve extended attribute 'user.x': $ns" \
		"$p/acl-dir" "cannot preserve ACL: $ns" \
		"$p/def-dir" "cannot preserve default ACL: $ns" \
		"$p/acl-fifo" "cannot preserve ACL: $ns" \
		"$p/xattr-link" "cannot preserve extended attribute 'trusted.x': $ns" | sort
}

# the mode (as ls shows it) of $1, failing unless it is $2
assert_mode() {
	assert_eq "$(stat -c %A "$1")" "$2" "mode of $1"
}

for mode in thread process; do
	dst=$R/copy-$mode
	assert_exit 1 "$PCOPY" --mode="$mode" -j 4 "$src" "$dst"
	sort "$T/err" >"$T/err.sorted"
	expected_errors "$dst" >"$T/err.expected"
	diff "$T/err.expected" "$T/err.sorted" >&2 || fail "error lines differ ($mode)"
	# every entry is there with its data: only metadata was lost
	for f in plain acl-file acl-nogroup xattr-file acl-dir/inner; do
		cmp -s "$src/$f" "$dst/$f" || fail "$f not copied ($mode)"
	done
	[ -p "$dst/acl-fifo" ] || fail "acl-fifo not copied ($mode)"
	assert_eq "$(readlink "$dst/xattr-link")" plain "target of xattr-link ($mode)"
	[ -d "$dst/def-dir" ] || fail "def-dir not copied ($mode)"
	# no group bits wider than the group-owner entry within the mask
	assert_mode "$dst/acl-file" -rw-r--r--
	assert_mode "$dst/acl-nogroup" -rw----r--
	assert_mode "$dst/acl-dir" drwxr-xr-x
	assert_mode "$dst/acl-fifo" prw-------
	assert_mode "$dst/def-dir" drwxr-xr-x
	assert_mode "$dst/plain" -rw-r--r--
	# times are still kept, also where the ACL was lost
	assert_eq "$(stat -c %y "$dst/acl-file")" "$(stat -c %y "$src/acl-file")" "mtime of acl-file"
	no_temporaries "$dst"
done

# ---- no false errors: a tree without xattrs or ACLs copies with exit 0 ----
mkdir -p "$W/plain-src/sub"
echo a >"$W/plain-src/a"
echo b >"$W/plain-src/sub/b"
mkfifo "$W/plain-src/sub/fifo"
ln -s a "$W/plain-src/link"
chmod 0750 "$W/plain-src/sub"
for mode in thread process; do
	pcopy_ok --mode="$mode" "$W/plain-src" "$R/plain-$mode"
	assert_empty "$T/err"
	treecmp "$W/plain-src" "$R/plain-$mode"
done

# ---- SRC a single file: the same error, the same mode ----
assert_exit 1 "$PCOPY" "$src/acl-file" "$R/single"
assert_eq "$(cat "$T/err")" "pcopy: '$R/single': cannot preserve ACL: Operation not supported" \
	"error for a single file"
assert_mode "$R/single" -rw-r--r--
cmp -s "$src/acl-file" "$R/single" || fail "single file not copied"

# ---- nothing asked for, nothing lost ----
for mode in thread process; do
	pcopy_ok --mode="$mode" --no-preserve=mode,xattr "$src" "$R/np-$mode"
	assert_empty "$T/err"
done

# ---- owner and times, as root: a failure is an error (injected with strace) ----
if ! command -v strace >/dev/null 2>&1 || ! strace -qq -o /dev/null true 2>/dev/null; then
	log "note: no usable strace; owner and times failures not injected"
	exit 0
fi
os=$W/owner-src
mkdir "$os"
echo setuid >"$os/suid"
chown 1000:1000 "$os/suid"
chmod 4755 "$os/suid"
# run pcopy ARGS... under strace, failing every call of syscall $1 with EPERM
pcopy_injected() {
	local call=$1 rc=0
	shift
	strace -f -qq -o /dev/null -e trace="$call" -e inject="$call":error=EPERM \
		-E ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		"$PCOPY" "$@" >"$T/out" 2>"$T/err" || rc=$?
	return "$rc"
}
for mode in thread process; do
	rc=0
	pcopy_injected fchown --mode="$mode" "$os" "$W/own-$mode" || rc=$?
	assert_eq "$rc" 1 "exit status with chown failing as root ($mode)"
	assert_grep "$T/err" "^pcopy: '$(re_quote "$W/own-$mode/suid")': cannot preserve ownership: Operation not permitted$"
	cmp -s "$os/suid" "$W/own-$mode/suid" || fail "suid not copied when chown failed ($mode)"
	# owned by root, not by 1000: the set-uid bit must go
	assert_eq "$(stat -c %a:%u "$W/own-$mode/suid")" 755:0 "mode and owner after failed chown"

	rc=0
	pcopy_injected utimensat --mode="$mode" "$os" "$W/times-$mode" || rc=$?
	assert_eq "$rc" 1 "exit status with utimensat failing ($mode)"
	assert_grep "$T/err" "^pcopy: '$(re_quote "$W/times-$mode/suid")': cannot preserve timestamps: Operation not permitted$"
	assert_eq "$(stat -c %a:%u "$W/times-$mode/suid")" 4755:1000 "mode and owner when only times fail"
done
exit 0
