#!/bin/bash
# Issue 10, item 9: --no-preserve=mode, xattr and ownership mean what they
# mean to cp.  ACLs belong to the mode: --no-preserve=mode drops them and
# --no-preserve=xattr keeps them.  Each result is compared with what
# `cp -a --no-preserve=ITEM` makes of the same source (modes, owners, ACLs
# via getfacl, xattrs via getfattr), into a plain directory and into one
# with a default ACL.  One deliberate difference: a set-id bit survives
# only where the copy's owner (set-uid) or group (set-gid) is the
# source's, which cp does not check when it is not preserving ownership.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_root
need_cmd cp setfacl getfacl setfattr getfattr
use_tmpfs 64m
src=$W/src
mkdir "$src"
setfacl -m u:1000:r "$src" 2>/dev/null && setfattr -n user.probe -v 1 "$src" 2>/dev/null ||
	skip "no ACLs or xattrs on tmpfs here"
setfacl -b "$src"
setfattr -x user.probe "$src"

umask 022
echo plain >"$src/plain"
echo acl >"$src/acl"
chmod 0640 "$src/acl"
setfacl -m u:1000:rwx "$src/acl"
echo xa >"$src/xattr-acl"
setfattr -n user.x -v 1 "$src/xattr-acl"
setfacl -m g:1000:r "$src/xattr-acl"
echo su >"$src/suid-root"
chmod 4755 "$src/suid-root"
echo su >"$src/suid-1000"
chown 1000:1000 "$src/suid-1000"
chmod 6755 "$src/suid-1000"
echo sg >"$src/sgid-g1000"
chown 0:1000 "$src/sgid-g1000"
chmod 2755 "$src/sgid-g1000"
echo su >"$src/suid-u1000-g0"
chown 1000:0 "$src/suid-u1000-g0"
chmod 6755 "$src/suid-u1000-g0"
mkdir "$src/dir"
echo inner >"$src/dir/inner"
setfacl -m u:1000:rx "$src/dir"
setfacl -d -m u:1000:rwx "$src/dir"
setfattr -n user.d -v 1 "$src/dir"
# The copy of these is owned by root: their set-id bits must go (cp keeps them).
differs_from_cp="./sgid-g1000 ./suid-1000 ./suid-u1000-g0"

# one line per entry of the tree $1, sorted by name: type and mode, owner,
# the ACLs (getfacl) and every extended attribute (getfattr)
fingerprint() {
	local p skip
	(
		cd "$1" || exit 1
		find . | sort | while IFS= read -r p; do
			for skip in $differs_from_cp; do
				[ "$p" = "$skip" ] && continue 2
			done
			printf '%s %s acl[%s] xattr[%s]\n' "$p" "$(stat -c '%A %u:%g' "$p")" \
				"$(getfacl -c -p -n "$p" 2>/dev/null | grep . | tr '\n' ' ')" \
				"$(getfattr -h -d -m - -e hex "$p" 2>/dev/null | grep -v '^#' |
					grep . | sort | tr '\n' ' ')"
		done
	)
}

# parent directories of the copies: a plain one, one with a default ACL
mkdir "$W/plain" "$W/defacl"
setfacl -d -m u:1001:rwx,g:1001:rx "$W/defacl"

for item in mode xattr ownership; do
	for parent in plain defacl; do
		cp -a --no-preserve="$item" "$src" "$W/$parent/cp-$item" ||
			fail "cp -a --no-preserve=$item failed"
		fingerprint "$W/$parent/cp-$item" >"$T/cp.fp"
		for mode in thread process; do
			dst=$W/$parent/pc-$item-$mode
			pcopy_ok --mode="$mode" --no-preserve="$item" "$src" "$dst"
			assert_empty "$T/err"
			fingerprint "$dst" >"$T/pc.fp"
			diff "$T/cp.fp" "$T/pc.fp" >&2 ||
				fail "--no-preserve=$item into $parent ($mode) differs from cp (< cp, > pcopy)"
			if [ "$item" = ownership ]; then
				# owned by root now: set-uid dropped; set-gid only where the group is kept
				assert_eq "$(stat -c '%a %u:%g' "$dst/suid-1000")" "755 0:0" "suid-1000 ($mode)"
				assert_eq "$(stat -c '%a %u:%g' "$dst/sgid-g1000")" "755 0:0" "sgid-g1000 ($mode)"
				assert_eq "$(stat -c '%a %u:%g' "$dst/suid-u1000-g0")" "2755 0:0" \
					"suid-u1000-g0 ($mode)"
				assert_eq "$(stat -c '%a %u:%g' "$dst/suid-root")" "4755 0:0" "suid-root ($mode)"
			fi
		done
	done
done
# the heart of it, spelled out: ACLs go with the mode, not with the xattrs
getfacl -c -p -n "$W/plain/pc-xattr-thread/acl" | grep -q '^user:1000:rwx' ||
	fail "--no-preserve=xattr dropped the ACL"
getfacl -c -p -n "$W/plain/pc-mode-thread/acl" | grep -q '^user:1000' &&
	fail "--no-preserve=mode kept the ACL"
getfattr -h -n user.x "$W/plain/pc-mode-thread/xattr-acl" >/dev/null 2>&1 ||
	fail "--no-preserve=mode dropped user.x"

# ---- a set-gid directory gives the copy another group: no set-gid bit then ----
mkdir "$W/sgdir"
chown 0:1000 "$W/sgdir"
chmod 2775 "$W/sgdir"
mkdir "$W/sg-src"
echo sg >"$W/sg-src/sgid-root"
chmod 2755 "$W/sg-src/sgid-root"
for mode in thread process; do
	pcopy_ok --mode="$mode" --no-preserve=ownership "$W/sg-src" "$W/sgdir/copy-$mode"
	assert_eq "$(stat -c '%a %u:%g' "$W/sgdir/copy-$mode/sgid-root")" "755 0:1000" \
		"a set-gid file copied into a set-gid directory of another group ($mode)"
done

# ---- a user copying their own set-uid file keeps the bit ----
if command -v setpriv >/dev/null 2>&1; then
	chmod o+x "$T" "$W"
	mkdir -m 0777 "$W/user"
	setpriv --reuid=1000 --regid=1000 --clear-groups bash -c '
		umask 022 && mkdir "$1/src" && echo x >"$1/src/own" && chmod 6755 "$1/src/own" &&
		cp -a --no-preserve=ownership "$1/src" "$1/cp" &&
		"$2" --no-preserve=ownership "$1/src" "$1/pc"' _ "$W/user" "$PCOPY" ||
		fail "copy as uid 1000 failed"
	assert_eq "$(stat -c '%a %u:%g' "$W/user/pc/own")" "$(stat -c '%a %u:%g' "$W/user/cp/own")" \
		"own set-uid file copied by its owner"
	assert_eq "$(stat -c '%a' "$W/user/pc/own")" 6755 "own set-uid file copied by its owner"
else
	log "note: no setpriv; a user's own set-uid file not checked"
fi
exit 0
