#!/bin/bash
# -i, --itemize-changes[=text|json]: one line per entry a run changed,
# "XY PATH" (X: + created, > updated, ! type replaced, . metadata only,
# h hard link; Y: f d l s) or one JSON object; -n -i prints exactly what
# the real run then does, and writes nothing (DST's paths, inodes and
# ctimes unchanged); an unchanged re-run with --update=changed prints
# nothing.  Both worker modes, -j 1 and -j 8.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 64m

# path, type, size, mode, mtime, ctime and inode of every entry under $1
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %T@ %C@ %i\n' | sort)
}

# the -i lines of file $1 (no stats), sorted
items() {
	grep -v '^{' "$1" | sort
}

for mode in thread process; do
	for j in 1 8; do
		src=$W/src-$mode-$j dst=$W/dst-$mode-$j
		mkdir -p "$src/a/b" "$src/c"
		echo one >"$src/a/one"
		echo two >"$src/a/b/two"
		ln "$src/a/one" "$src/c/one-again"
		ln -s ../a/one "$src/c/sym"
		mkfifo "$src/c/fifo"
		run=(--mode="$mode" -j "$j" -T)

		# a fresh copy: every entry created, the name of the pair met second
		# (readdir's order) a hard link
		pcopy_ok "${run[@]}" -i "$src" "$dst"
		treecmp "$src" "$dst"
		expected=$(printf '%s\n' "+d $dst/a" "+d $dst/a/b" "+d $dst/c" "+f $dst/a/b/two" \
			"+l $dst/c/sym" "+s $dst/c/fifo" | sort)
		assert_eq "$(items "$T/out" | grep -v one)" "$expected" "$mode -j$j: -i of a fresh copy"
		assert_eq "$(items "$T/out" | grep one | cut -c1-2 | sort | tr '\n' ' ')" "+f hf " \
			"$mode -j$j: -i of a hard-linked pair"

		# changes of every kind
		echo "longer now" >"$src/a/one"  # data: the hard-linked pair
		chmod 0600 "$src/a/b/two"        # metadata only
		touch -d '2001-01-01' "$src/a/b/two"
		rm "$src/c/sym"
		mkdir "$src/c/sym"               # a directory where DST has a symlink
		echo new >"$src/c/new"           # created
		rm -r "$dst/a/b" && mkdir "$dst/a/b" && echo x >"$dst/a/b/two" # stale data
		touch -d '2001-01-01' "$dst/a/b/two"
		for style in text json; do
			before=$(snapshot "$dst")
			pcopy_ok "${run[@]}" -n --itemize-changes=$style --update=changed "$src" "$dst"
			cp "$T/out" "$T/dry-$style"
			assert_eq "$(snapshot "$dst")" "$before" "$mode -j$j: DST after -n -i=$style"
		done
		pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
		treecmp "$src" "$dst"
		assert_eq "$(items "$T/dry-text")" "$(items "$T/out")" "$mode -j$j: -n -i vs the real run"
		expected=$(printf '%s\n' "!d $dst/c/sym" "+f $dst/c/new" ">f $dst/a/b/two" \
			".d $dst/c" ".d $dst/a" ".d $dst/a/b" | sort)
		assert_eq "$(items "$T/out" | grep -v one)" "$expected" "$mode -j$j: -i of the changes"
		# the pair: its first name copied anew, the other linked to it again
		assert_eq "$(items "$T/out" | grep one | cut -c1-2 | sort | tr '\n' ' ')" ">f hf " \
			"$mode -j$j: -i of a changed hard-linked pair"
		# json: the same changes, names decoded back
		if command -v python3 >/dev/null 2>&1; then
			python3 - "$T/dry-json" "$T/out" <<'PY' || fail "$mode -j$j: -i=json differs from -i"
import json, sys
letters = {"created": "+", "updated": ">", "replaced": "!", "metadata": ".",
           "hardlink": "h", "linked": "L", "deleted": "-"}
types = {"file": "f", "dir": "d", "symlink": "l", "special": "s"}
got = sorted(letters[o["change"]] + types[o["type"]] + " " +
             o["path"].encode("utf-8", "surrogateescape").decode("utf-8")
             for o in map(json.loads, open(sys.argv[1])) if "change" in o)
want = sorted(l.rstrip("\n") for l in open(sys.argv[2]) if not l.startswith("{"))
assert got == want, (got, want)
PY
		fi
		# nothing changed: nothing to say, in a dry run or a real one
		pcopy_ok "${run[@]}" -n -i --update=changed "$src" "$dst"
		assert_empty "$T/out"
		pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
		assert_empty "$T/out"
	done
done
exit 0
