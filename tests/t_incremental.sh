#!/bin/bash
# An incremental run, `pcopy -T --update=changed --delete [-c]`, over a
# copy whose source then changed in every way: data keeping size and mtime,
# size, mtime only, mode only, owner only (root), type (file->dir,
# dir->file, file->symlink, symlink->dir, symlink->file), entries new and
# removed at depths 1, 2 and 4 (files, symlinks, directory trees),
# hard-link groups split and joined, a symlink retargeted keeping its
# length and mtime.  The result equals SRC by treecmp (times to the ns,
# directories and symlinks included), but for the data change that keeps
# size and mtime, which only -c copies; its entries, types, modes, owners,
# symlink targets and contents are those `rsync -aH --delete [-c]` makes
# from the same start (times are compared with SRC, not with rsync); the
# -i lines are exactly the changes made, -n -i prints them first and writes
# nothing, --stats=json counts them (bytes_copied: the files copied); every entry SRC did not change keeps its inode, ctime and mtime;
# a re-run has nothing to do.  An xattr-only change follows the man page.
# Lighter passes: --update=older, none and all against their documented
# meaning, and against GNU cp -a -u, -n, plain, and rsync -aH
# --ignore-existing, -I, from the same start.  Both worker modes, -j 1
# and -j 8.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 256m

have_rsync=0
have_cmd rsync "the comparisons with rsync -aH --delete" && have_rsync=1
root=0
[ "$(id -u)" -eq 0 ] && root=1

# path, type, size, mode, owner, mtime, ctime and inode of every entry under $1
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %U:%G %T@ %C@ %i\n' | sort)
}

# the -i lines of file $1 (no stats), sorted
items() {
	grep -v '^{' "$1" | sort
}

# the stats object's value of key $2 in file $1
stat_of() {
	grep '^{' "$1" | sed -E "s/.*\"$2\":([0-9]+).*/\\1/"
}

# overwrite the first bytes of file $1 with $2, keeping its size and times
same_size_and_time() {
	touch -r "$1" "$T/ref"
	printf '%s' "$2" | dd of="$1" conv=notrunc status=none || fail "cannot change $1"
	touch -r "$T/ref" "$1"
}

# the starting tree: something of every kind at depths 1 to 4, some of
# which the mutations below change; keep/ and the keep* files never change
make_src() {
	local s=$1 d
	mkdir -p "$s"/{a/b/c/d,keep/x/y/z,keep/empty,meta/dirmode,t/d2f/in,t/keep-dir,h,links}
	for d in . a a/b a/b/c a/b/c/d keep keep/x keep/x/y/z; do
		echo "unchanged in $d" >"$s/$d/keep-file"
	done
	head -c 200000 /dev/urandom >"$s/keep/x/big"
	ln -s ../keep-file "$s/keep/x/y/z/keep-link"
	ln -s ../../x/big "$s/keep/x/y/keep-link"
	mkfifo "$s/keep/x/fifo"
	ln "$s/keep/x/big" "$s/keep/x/y/z/big-again"
	# data changes that keep size and mtime, at depths 1, 2 and 4
	echo "same size, same time: 1" >"$s/same1"
	echo "same size, same time: 2" >"$s/a/same2"
	head -c 70000 /dev/urandom >"$s/a/b/c/d/same4"
	# size, mtime
	echo "size" >"$s/a/size2"
	echo "mtime" >"$s/a/b/mtime3"
	# metadata only (in meta/, which changes in nothing else)
	echo mode >"$s/meta/mode"
	echo owner >"$s/meta/owner"
	# types
	echo "to become a dir" >"$s/t/f2d"
	echo "in a dir to become a file" >"$s/t/d2f/in/f"
	echo "to become a symlink" >"$s/t/f2l"
	ln -s nowhere "$s/t/l2d"
	ln -s ../keep-file "$s/t/l2f"
	# to be removed, at depths 1, 2 and 4
	echo gone >"$s/gone1"
	echo gone >"$s/a/gone2"
	ln -s ../keep-file "$s/a/gone-link2"
	echo gone >"$s/a/b/c/d/gone4"
	mkdir -p "$s/a/b/c/d/gone-dir4/x/y"
	echo gone >"$s/a/b/c/d/gone-dir4/x/y/f"
	mkfifo "$s/a/b/c/d/gone-dir4/fifo"
	mkdir -p "$s/gone-dir1/in"
	echo gone >"$s/gone-dir1/in/f"
	# hard-link groups: one inode to split, two files to join
	echo "one inode, two names" >"$s/h/pair1"
	ln "$s/h/pair1" "$s/h/pair2"
	echo "twins" >"$s/h/twin1"
	echo "twins" >"$s/h/twin2"
	touch -r "$s/h/twin1" "$s/h/twin2"
	echo "first of two" >"$s/h/sep1"
	echo "second of two, longer" >"$s/h/sep2"
	# a symlink to retarget keeping its length and mtime
	ln -s target-A "$s/links/retarget"
	ln -s target-B "$s/links/keep-link"
	# a directory time that differs from now
	touch -d '2011-02-03 04:05:06.123456789' "$s/keep/empty" "$s/meta/dirmode"
}

# mutate SRC $1 in every way; write the paths changed (replaced, created or
# removed) to $T/mutated, those whose metadata only changed to $T/meta, and
# those changed keeping size and mtime to $T/same
mutate() {
	local s=$1
	same_size_and_time "$s/same1" "SAME"
	same_size_and_time "$s/a/same2" "SAME"
	same_size_and_time "$s/a/b/c/d/same4" "SAME"
	printf '%s\n' same1 a/same2 a/b/c/d/same4 >"$T/same"
	echo "a longer line than before" >>"$s/a/size2"
	touch -d '2020-01-01 00:00:00.5' "$s/a/b/mtime3"
	chmod 0600 "$s/meta/mode"
	chmod 0700 "$s/meta/dirmode"
	printf '%s\n' meta/mode meta/dirmode >"$T/meta"
	if [ "$root" = 1 ]; then
		chown 1000:1000 "$s/meta/owner"
		echo meta/owner >>"$T/meta"
	fi
	rm "$s/t/f2d" && mkdir -p "$s/t/f2d/sub" && echo "now in a dir" >"$s/t/f2d/sub/f"
	rm -r "$s/t/d2f" && echo "now a file" >"$s/t/d2f"
	rm "$s/t/f2l" && ln -s ../keep-file "$s/t/f2l"
	rm "$s/t/l2d" && mkdir "$s/t/l2d" && echo "in l2d" >"$s/t/l2d/f"
	rm "$s/t/l2f" && echo "now a file" >"$s/t/l2f"
	echo new >"$s/new1"
	echo new >"$s/a/new2"
	ln -s keep-file "$s/a/new-link2"
	echo new >"$s/a/b/c/d/new4"
	mkdir -p "$s/a/b/c/d/new-dir4/x" && echo new >"$s/a/b/c/d/new-dir4/x/f"
	mkdir -p "$s/new-dir1/in/deeper" && mkfifo "$s/new-dir1/in/fifo"
	rm -r "$s/gone1" "$s/a/gone2" "$s/a/gone-link2" "$s/a/b/c/d/gone4" \
		"$s/a/b/c/d/gone-dir4" "$s/gone-dir1"
	# the pair split (pair2 a copy of its own, cp gives it a new mtime; a
	# split keeping data and times is not made: each name passes the quick
	# check, and pcopy leaves them linked in DST, as rsync -H does);
	# twins joined into one inode (same data and times: only the link
	# changes); sep2 joined to sep1 (data differs)
	rm "$s/h/pair2" && cp "$s/h/pair1" "$s/h/pair2"
	ln -f "$s/h/twin1" "$s/h/twin2"
	ln -f "$s/h/sep1" "$s/h/sep2"
	touch -h -r "$s/links/retarget" "$T/ref"
	ln -sfn target-C "$s/links/retarget"
	touch -h -r "$T/ref" "$s/links/retarget"
	printf '%s\n' a/size2 a/b/mtime3 t/f2d t/d2f t/f2l t/l2d t/l2f new1 a/new2 a/new-link2 \
		a/b/c/d/new4 a/b/c/d/new-dir4 new-dir1 gone1 a/gone2 a/gone-link2 a/b/c/d/gone4 \
		a/b/c/d/gone-dir4 gone-dir1 h/pair1 h/pair2 h/twin1 h/twin2 h/sep1 h/sep2 \
		links/retarget >"$T/mutated"
}

# the stats in file $1 count what its -i lines say was done; bytes_copied
# is the size in SRC $3 of each regular file copied to DST $2
stats_match_items() {
	local out=$1 dst=$2 s=$3 what=$4 key letters n bytes
	for key in created:+ updated:'>!' meta_updated:. deleted:- hardlinks:h linked:L; do
		letters=${key#*:} key=${key%%:*}
		n=$(grep -v '^{' "$out" | cut -c1 | grep -c "[$letters]")
		assert_eq "$(stat_of "$out" "$key")" "$n" "$what: $key vs the -i lines"
	done
	bytes=$(grep -E '^[+>!]f ' "$out" | cut -c4- | sed "s|^$dst/||" |
		(cd "$s" && xargs -r -d '\n' stat -c %s) | awk '{ b += $1 } END { print b + 0 }')
	assert_eq "$(stat_of "$out" bytes_copied)" "$bytes" "$what: bytes_copied"
	assert_eq "$(stat_of "$out" errors)" 0 "$what: errors"
}

# the paths under DST $1 that no change in SRC concerns: not in the lists
# given as files $2..., not below one of them, and not a directory above
# one of the first list's (entries replaced, made or removed, which change
# the directory they are in)
unchanged_paths() {
	local dst=$1
	shift
	(cd "$dst" && find . -mindepth 1 -printf '%P\n') >"$T/all-paths"
	awk -v first="$1" -v all="$T/all-paths" '
		FILENAME != all { m[$0] = 1; if (FILENAME == first) mut[$0] = 1; next }
		{
			p = $0
			if (p in m) next
			for (x in m) if (index(p, x "/") == 1) next
			for (x in mut) if (index(x, p "/") == 1) next
			print p
		}' "$@" "$T/all-paths" | sort
}

# inode, ctime and mtime of the paths under $1 listed in file $2
times_of() {
	(cd "$1" && find . -mindepth 1 -printf '%P\t%i %C@ %T@\n') |
		awk -F '\t' 'NR == FNR { want[$0] = 1; next } $1 in want' "$2" - | sort
}

# the -i lines a run over the mutated tree must print, DST $1, with -c or
# not; the joined groups of h/ apart (their lines depend on readdir's order)
expected_items() {
	local d=$1 c=$2
	{
		printf "+f $d/%s\n" new1 a/new2 a/b/c/d/new4 a/b/c/d/new-dir4/x/f t/f2d/sub/f t/l2d/f
		printf "+d $d/%s\n" a/b/c/d/new-dir4 a/b/c/d/new-dir4/x new-dir1 new-dir1/in \
			new-dir1/in/deeper t/f2d t/f2d/sub t/l2d
		printf "+l $d/%s\n" a/new-link2
		printf "+s $d/%s\n" new-dir1/in/fifo
		printf "%s $d/%s\n" "-f" gone1 "-f" a/gone2 "-l" a/gone-link2 "-f" a/b/c/d/gone4 \
			"-f" a/b/c/d/gone-dir4/x/y/f "-d" a/b/c/d/gone-dir4/x/y "-d" a/b/c/d/gone-dir4/x \
			"-s" a/b/c/d/gone-dir4/fifo "-d" a/b/c/d/gone-dir4 "-f" gone-dir1/in/f \
			"-d" gone-dir1/in "-d" gone-dir1
		# type changes: the old entry deleted, the new one made
		printf "%s $d/%s\n" "-f" t/f2d "-f" t/d2f/in/f "-d" t/d2f/in "-d" t/d2f "+f" t/d2f \
			"-l" t/l2d "!l" t/f2l "!f" t/l2f
		printf ">f $d/%s\n" a/size2 a/b/mtime3 h/pair2
		printf ">l $d/%s\n" links/retarget
		printf ".f $d/%s\n" meta/mode
		[ "$root" = 1 ] && printf ".f $d/%s\n" meta/owner
		# (a/b's mtime moves in DST only, as mtime3 is replaced in it: restored
		# but not itemized, it did not differ before the run)
		printf ".d $d/%s\n" meta/dirmode a a/b/c/d t h links
		[ -n "$c" ] && printf ">f $d/%s\n" same1 a/same2 a/b/c/d/same4
	} | sort
}

src0=$W/src0
make_src "$src0"
pcopy_ok -T "$src0" "$W/dst0"
treecmp "$src0" "$W/dst0"
src=$W/src
cp -a "$src0" "$src"
sleep 0.05 # so that a rewrite in DST would move a ctime visibly
mutate "$src"

for c in "" -c; do
	for mode in thread process; do
		for j in 1 8; do
			tag="${c:-quick check} $mode -j$j"
			dst=$W/dst
			rm -rf "$dst" "$W/start"
			cp -a "$W/dst0" "$dst"
			cp -a "$W/dst0" "$W/start"
			treecmp "$src0" "$dst"
			run=(--mode="$mode" -j "$j" -T --update=changed --delete ${c:+"$c"})

			# the dry run: the same lines, nothing written
			before=$(snapshot "$dst")
			unchanged_paths "$dst" "$T/mutated" "$T/meta" ${c:+"$T/same"} >"$T/unchanged"
			times_of "$dst" "$T/unchanged" >"$T/times-before"
			inodes=$(cd "$dst" && xargs stat -c '%n %i' <"$T/meta")
			pcopy_ok "${run[@]}" -n -i --stats=json "$src" "$dst"
			cp "$T/out" "$T/dry"
			assert_eq "$(snapshot "$dst")" "$before" "$tag: DST after -n -i"
			same_contents "$dst" "$W/start" "$tag: DST after -n -i"

			pcopy_ok "${run[@]}" -i --stats=json "$src" "$dst"
			no_temporaries "$dst"
			assert_eq "$(items "$T/dry")" "$(items "$T/out")" "$tag: -n -i vs the real run"
			stats_match_items "$T/out" "$dst" "$src" "$tag"
			assert_eq "$(stats_counts "$T/dry")" "$(stats_counts "$T/out")" "$tag: stats of -n vs the real run"
			assert_eq "$(items "$T/out" | grep -Ev "/h/(twin|sep)")" \
				"$(expected_items "$dst" "$c")" "$tag: -i lines"
			# twins: the one met second linked to the other; sep1 and sep2:
			# sep1 met first is left and sep2 linked to it, or sep2 met first
			# is copied and sep1 linked to it
			case $(items "$T/out" | grep -E "/h/twin" | sed "s|$dst/||" | tr '\n' ' ') in
			"hf h/twin1 " | "hf h/twin2 ") ;;
			*) fail "$tag: -i lines of the joined twins: $(grep /h/twin "$T/out")" ;;
			esac
			case $(items "$T/out" | grep -E "/h/sep" | sed "s|$dst/||" | tr '\n' ' ') in
			"hf h/sep2 " | ">f h/sep2 hf h/sep1 ") ;;
			*) fail "$tag: -i lines of the joined sep1, sep2: $(grep /h/sep "$T/out")" ;;
			esac

			# equal to SRC; without -c, but for the data that kept size and time
			if [ -n "$c" ]; then
				treecmp "$src" "$dst"
			else
				rm -rf "$W/expected"
				cp -a "$src" "$W/expected"
				while IFS= read -r rel; do
					cmp -s "$src0/$rel" "$dst/$rel" ||
						fail "$tag: $rel, changed keeping size and mtime, copied without -c"
					touch -r "$W/expected/$rel" "$T/ref"
					cat "$src0/$rel" >"$W/expected/$rel"
					touch -r "$T/ref" "$W/expected/$rel"
				done <"$T/same"
				treecmp "$W/expected" "$dst"
			fi

			# what SRC did not change, DST did not either
			[ "$(wc -l <"$T/unchanged")" -ge 20 ] || fail "$tag: too few unchanged paths: $(cat "$T/unchanged")"
			times_of "$dst" "$T/unchanged" >"$T/times-after"
			diff "$T/times-before" "$T/times-after" >&2 ||
				fail "$tag: entries SRC did not change were written"
			# what changed in its metadata only was fixed in place
			assert_eq "$(cd "$dst" && xargs stat -c '%n %i' <"$T/meta")" "$inodes" \
				"$tag: inodes of the entries fixed in place"

			# what rsync -aH --delete makes from the same start
			if [ "$have_rsync" = 1 ]; then
				rsync -aH --delete ${c:+"$c"} "$src/" "$W/start/" || fail "$tag: rsync failed"
				assert_eq "$(agreed_entries "$dst")" "$(agreed_entries "$W/start")" "$tag: entries vs rsync's"
				same_contents "$dst" "$W/start" "$tag: vs rsync"
			fi

			# nothing left to do: nothing said, nothing written
			before=$(snapshot "$dst")
			pcopy_ok "${run[@]}" -i --stats=json "$src" "$dst"
			assert_eq "$(items "$T/out")" "" "$tag: -i of a re-run"
			for k in created updated meta_updated deleted linked hardlinks bytes_copied; do
				assert_eq "$(stat_of "$T/out" $k)" 0 "$tag: $k of a re-run"
			done
			assert_eq "$(snapshot "$dst")" "$before" "$tag: DST after a re-run"
		done
	done
done

# an xattr-only change: the quick check compares extended attributes or
# not as the man page says; --update=all copies them anyway
touch "$W/probe"
if ! command -v setfattr >/dev/null 2>&1 || ! command -v getfattr >/dev/null 2>&1; then
	log "no setfattr/getfattr: skipping the xattr-only change"
elif ! setfattr -n user.t -v 1 "$W/probe" 2>/dev/null; then
	log "$W takes no user xattrs: skipping the xattr-only change"
else
	xattrs_compared=1
	tr '\n' ' ' <"$SRCDIR/man/pcopy.1" | grep -q 'nor are extended attributes' &&
		xattrs_compared=0
	mkdir -p "$W/xsrc0/in"
	echo data >"$W/xsrc0/in/f"
	setfattr -n user.x -v old "$W/xsrc0/in/f"
	pcopy_ok -T "$W/xsrc0" "$W/xdst0"
	for c in "" -c; do
		for mode in thread process; do
			for j in 1 8; do
				tag="xattr only${c:+ $c} $mode -j$j"
				xd=$W/xdst
				rm -rf "$xd" "$W/xsrc" && cp -a "$W/xdst0" "$xd"
				# SRC changed after DST was written, as in use (the quick
				# check may go by the change times)
				cp -a "$W/xsrc0" "$W/xsrc"
				setfattr -n user.x -v new "$W/xsrc/in/f"
				before=$(snapshot "$xd")
				ino=$(stat -c %i "$xd/in/f")
				pcopy_ok --mode="$mode" -j "$j" -T --update=changed --delete -i ${c:+"$c"} \
					"$W/xsrc" "$xd"
				if [ "$xattrs_compared" = 1 ]; then
					treecmp "$W/xsrc" "$xd"
					assert_eq "$(items "$T/out")" ".f $xd/in/f" "$tag: -i"
					assert_eq "$(stat -c %i "$xd/in/f")" "$ino" "$tag: inode after an xattr fix"
				else
					# (the man page: "nor are extended attributes" compared)
					assert_eq "$(getfattr --absolute-names --only-values -n user.x "$xd/in/f")" old "$tag: user.x"
					assert_empty "$T/out"
					assert_eq "$(snapshot "$xd")" "$before" "$tag: DST"
				fi
				pcopy_ok --mode="$mode" -j "$j" -T --update=all "$W/xsrc" "$xd"
				treecmp "$W/xsrc" "$xd"
			done
		done
	done
fi
rm -f "$W/probe"

# lighter passes: older (replace only what SRC has newer, to the ns), none
# (never replace), all (replace everything) on a tree with changes of
# data, time and mode, a DST file newer than SRC's, new and (without
# --delete, kept) removed entries; cp -a and rsync -aH with the equivalent
# options agree
l0=$W/lsrc0
mkdir -p "$l0/d/e" "$l0/keep/sub"
for f in newer src-older dst-newer same mode gone d/e/newer d/e/gone keep/f keep/sub/f; do
	echo "old $f" >"$l0/$f"
done
touch -d '2015-06-07 08:09:10.111111111' "$l0"/* "$l0"/d/e/* 2>/dev/null
pcopy_ok -T "$l0" "$W/ldst0"
touch -d '2035-01-01 00:00:00.25' "$W/ldst0/dst-newer"
l=$W/lsrc
cp -a "$l0" "$l"
echo "new newer" >"$l/newer"
echo "new d/e/newer" >"$l/d/e/newer"
echo "new, but older" >"$l/src-older"
touch -d '2001-01-01' "$l/src-older"
echo "new dst-newer" >"$l/dst-newer"
same_size_and_time "$l/same" NEW
chmod 0600 "$l/mode"
chmod 0700 "$l/d"
rm "$l/gone" "$l/d/e/gone"
echo new >"$l/new"
mkdir -p "$l/new-dir/in" && echo new >"$l/new-dir/in/f"

# $1: the update mode, then "path old|new" for each regular file expected
# in the result (old: as in DST at the start, new: as in SRC now)
check_light() {
	local um=$1 rel v want
	shift
	for rel in "$@"; do
		v=${rel##* } rel=${rel% *}
		want=$l/$rel
		[ "$v" = old ] && want=$W/ldst0/$rel
		cmp -s "$want" "$ldst/$rel" || fail "$tag: $rel is not its $v version"
		# (the times and mode go with the data that is kept or replaced)
		assert_eq "$(stat -c '%a %y' "$ldst/$rel")" "$(stat -c '%a %y' "$want")" \
			"$tag: mode and mtime of $rel"
	done
	assert_eq "$(cd "$ldst" && find . -type f | sort | tr '\n' ' ')" \
		"$(printf './%s\n' "${@% *}" | sort | tr '\n' ' ')" "$tag: the files in DST"
}

for um in older none all; do
	for mode in thread process; do
		for j in 1 8; do
			tag="--update=$um $mode -j$j"
			ldst=$W/ldst
			rm -rf "$ldst" && cp -a "$W/ldst0" "$ldst"
			keep_before=$(snapshot "$ldst/keep")
			pcopy_ok --mode="$mode" -j "$j" -T --update="$um" "$l" "$ldst"
			no_temporaries "$ldst"
			case $um in
			older)
				check_light older "newer new" "d/e/newer new" "src-older old" "dst-newer old" \
					"same old" "mode old" "gone old" "d/e/gone old" "new new" "new-dir/in/f new" \
					"keep/f old" "keep/sub/f old"
				;;
			none)
				check_light none "newer old" "d/e/newer old" "src-older old" "dst-newer old" \
					"same old" "mode old" "gone old" "d/e/gone old" "new new" "new-dir/in/f new" \
					"keep/f old" "keep/sub/f old"
				;;
			all)
				check_light all "newer new" "d/e/newer new" "src-older new" "dst-newer new" \
					"same new" "mode new" "gone old" "d/e/gone old" "new new" "new-dir/in/f new" \
					"keep/f new" "keep/sub/f new"
				[ "$(stat -c %i "$ldst/keep/f")" != "$(stat -c %i "$W/ldst0/keep/f")" ] ||
					fail "$tag: an unchanged file was not copied anew"
				;;
			esac
			assert_eq "$(stat -c %a "$ldst/d")" 700 "$tag: the mode of a merged directory"
			[ "$um" = all ] ||
				assert_eq "$(snapshot "$ldst/keep")" "$keep_before" "$tag: DST's keep/"
			# what cp -a and rsync -aH make of the same start with the
			# equivalent option (older has no rsync one: rsync -u copies
			# what differs in size at equal mtimes, and fixes modes)
			case $um in
			older) refs=("cp -a -u") ;;
			none) refs=("cp -a -n" "rsync -aH --ignore-existing") ;;
			all) refs=("cp -a" "rsync -aH -I") ;;
			esac
			for ref in "${refs[@]}"; do
				[ "$have_rsync" = 0 ] && [ "${ref%% *}" = rsync ] && continue
				rm -rf "$W/ref" && cp -a "$W/ldst0" "$W/ref"
				# (cp -n exits 1 for what it skips in some coreutils versions)
				$ref "$l/." "$W/ref/" 2>/dev/null || [ "$ref" = "cp -a -n" ] ||
					fail "$tag: $ref failed"
				assert_eq "$(agreed_entries "$ldst")" "$(agreed_entries "$W/ref")" "$tag: entries vs $ref"
				same_contents "$ldst" "$W/ref" "$tag: vs $ref"
			done
		done
	done
done
exit 0
