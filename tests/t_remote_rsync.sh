#!/bin/bash
# Remote copies against rsync: the same start and the same mutations,
# pushed and pulled by pcopy (-T --update=changed --delete, and with -c)
# and by `rsync -aH --delete [-c] -e RSH`, both through the rsh stand-in;
# the two copies must agree on every entry (path, type, mode, owner, size,
# link target) and every file's contents, and pcopy's must be SRC's.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
have_cmd rsync "the comparison with rsync" || skip "rsync missing"
use_tmpfs 256m
LSH=$SRCDIR/tests/tools/lsh.sh

make_start() {
	local s=$1
	mkdir -p "$s"/{a/b/c,keep/x,gone/deep,t/d2f,h,links}
	for d in . a a/b a/b/c keep keep/x gone gone/deep; do
		echo "in $d" >"$s/$d/file"
	done
	head -c 300000 /dev/urandom >"$s/keep/x/big"
	ln "$s/keep/x/big" "$s/h/big-again"
	ln -s ../file "$s/links/rel"
	ln -s /nowhere "$s/links/abs"
	echo same >"$s/a/same-size"
	echo "will be a dir" >"$s/t/f2d"
	echo x >"$s/t/d2f/in"
	chmod 640 "$s/a/b/file"
	touch -d '2020-02-02' "$s/a/same-size"
}

# the same changes every time: contents at the same size and time, new
# and removed entries, a mode, a link target, types swapped
mutate() {
	local s=$1
	touch -r "$s/a/same-size" "$T/ref"
	printf 'SAME' | dd of="$s/a/same-size" conv=notrunc status=none
	touch -r "$T/ref" "$s/a/same-size"
	echo new >"$s/a/b/c/new"
	rm -rf "$s/gone"
	chmod 600 "$s/a/b/file"
	ln -sfn ../keep "$s/links/rel"
	rm "$s/t/f2d" && mkdir "$s/t/f2d" && echo in >"$s/t/f2d/in"
	rm -r "$s/t/d2f" && echo now-a-file >"$s/t/d2f"
	head -c 1000 /dev/urandom >>"$s/keep/x/big"
}

for side in push pull; do
	for c in "" -c; do
		tag="$side${c:+ $c}"
		src=$W/src dp=$W/pcopy dr=$W/rsync
		rm -rf "$src" "$dp" "$dr"
		make_start "$src"
		cp -a "$src" "$dp"
		cp -a "$src" "$dr"
		mutate "$src"
		case $side in
		push)
			assert_exit 0 env TMPDIR="$W" "$PCOPY" -e "$LSH" --remote-pcopy="$PCOPY" \
				-T --update=changed --delete $c "$src" "lo:$dp"
			rsync -aH --delete $c -e "$LSH" "$src/" "lo:$dr/" || fail "$tag: rsync failed"
			;;
		pull)
			assert_exit 0 env TMPDIR="$W" "$PCOPY" -e "$LSH" --remote-pcopy="$PCOPY" \
				-T --update=changed --delete $c "lo:$src" "$dp"
			rsync -aH --delete $c -e "$LSH" "lo:$src/" "$dr/" || fail "$tag: rsync failed"
			;;
		esac
		agreed_entries "$dp" >"$T/pcopy.entries"
		agreed_entries "$dr" >"$T/rsync.entries"
		diff "$T/rsync.entries" "$T/pcopy.entries" >"$T/diff" ||
			fail "$tag: pcopy and rsync disagree: $(head -c 800 "$T/diff")"
		same_contents "$dr" "$dp" "$tag: pcopy against rsync"
		[ "$(id -u)" -eq 0 ] && [ -n "$c" ] && treecmp "$src" "$dp"
		no_temporaries "$dp"
		# -c found the change at the same size and time; without it, both
		# keep the old contents, as rsync's quick check does
		if [ -n "$c" ]; then
			cmp -s "$src/a/same-size" "$dp/a/same-size" || fail "$tag: -c missed a change"
		fi
	done
done
exit 0
