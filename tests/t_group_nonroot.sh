#!/bin/bash
# Run by a user who is not root (uid 1000 in groups 1000 and 1001), the group
# is compared like the rest of the metadata, so that no access widens:
#   - --link-dest: src/d/g (mode 640, group 1000) and snap1/d/g with the same
#     bytes and times but group 1001 are not "the same": d/g is copied (group
#     1000, its own inode), not linked; snap1 is not changed; a file equal in
#     group too is still linked; a re-run says nothing and changes nothing;
#   - --update=changed: after chgrp 1001 on the copy, the run reports the entry
#     (-i) and sets the group back to 1000; a re-run says nothing and changes
#     nothing.
# Thread and process mode, and pcopy-mpi on 3 ranks when it is built.
# Root only (setpriv to become uid 1000).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_root
need_cmd setpriv
use_tmpfs 64m

# shellcheck disable=SC2054 # the commas are setpriv's
RUN_AS=(setpriv --reuid=1000 --regid=1000 --groups=1000,1001)
chmod 0755 "$T" "$W"
"${RUN_AS[@]}" test -x "$W" || skip "uid 1000 cannot reach $W (set TMPDIR to a world-searchable dir)"
"${RUN_AS[@]}" "$PCOPY" --version >/dev/null 2>&1 || skip "uid 1000 cannot run $PCOPY"
# Open MPI's shared memory, where uid 1000 may write
MPI_SHM=$T/shm
mkdir -m 1777 "$MPI_SHM"

# as_user CMD...: run CMD as uid 1000, groups 1000 and 1001
as_user() {
	"${RUN_AS[@]}" "$@"
}

# the -i lines of the last run, with $1/ cut, sorted
items() {
	grep -v '^{' "$T/out" | sed "s|$1/||" | sort
}

set_kinds default
for kind in "${KINDS[@]}"; do
	top=$W/$kind
	mkdir "$top"
	chown 1000:1000 "$top"
	src=$top/src
	as_user mkdir -p "$src/d" "$top/snap1/d"
	# shellcheck disable=SC2016 # $1 is the inner shell's
	as_user sh -c 'echo "group-private data" >"$1/d/g" && echo "same all through" >"$1/d/same" &&
		chmod 640 "$1/d/g" "$1/d/same"' sh "$src"
	for f in g same; do
		as_user cp -a "$src/d/$f" "$top/snap1/d/$f"
	done
	as_user chgrp 1001 "$top/snap1/d/g"
	as_user touch -r "$src/d/g" "$top/snap1/d/g"
	assert_eq "$(stat -c '%s %Y %y %a %u' "$top/snap1/d/g")" "$(stat -c '%s %Y %y %a %u' "$src/d/g")" \
		"$kind: snap1/d/g as src/d/g but for the group (setup)"
	assert_eq "$(stat -c %g "$top/snap1/d/g")" 1001 "$kind: snap1/d/g group (setup)"
	save_state "$T/snap1.before" "$top/snap1"

	# ---- --link-dest: a file that differs in group only is copied ----
	kind_ok "$kind" -i --link-dest=../snap1 "$src" "$top/snap2"
	cp "$T/out" "$T/out.link"
	state_unchanged "$T/snap1.before" "$kind: snap1 after --link-dest" "$top/snap1"
	[ "$top/snap2/d/g" -ef "$top/snap1/d/g" ] &&
		fail "$kind: snap2/d/g linked to snap1/d/g, whose group (1001) differs: $(cat "$T/out.link")"
	assert_eq "$(stat -c %g "$top/snap2/d/g")" 1000 "$kind: snap2/d/g group"
	cmp -s "$src/d/g" "$top/snap2/d/g" || fail "$kind: snap2/d/g content"
	grep -Eq "^[^L]f $(re_quote "$top/snap2/d/g")\$" "$T/out.link" ||
		fail "$kind: -i does not say snap2/d/g was copied: $(cat "$T/out.link")"
	[ "$top/snap2/d/same" -ef "$top/snap1/d/same" ] ||
		fail "$kind: snap2/d/same, equal in everything, not linked from snap1"
	treecmp "$src" "$top/snap2"
	no_temporaries "$top/snap2"
	# settled
	save_state "$T/both.before" "$top/snap1" "$top/snap2"
	kind_ok "$kind" -T -i --update=changed --link-dest=../snap1 "$src" "$top/snap2"
	assert_eq "$(items "$top/snap2")" "" "$kind: -i of a --link-dest re-run"
	state_unchanged "$T/both.before" "$kind: snap1 and snap2 after a --link-dest re-run" \
		"$top/snap1" "$top/snap2"

	# ---- --update=changed: a group changed in DST is set back ----
	kind_ok "$kind" -T "$src" "$top/up"
	as_user chgrp 1001 "$top/up/d/g"
	kind_ok "$kind" -T -i --update=changed "$src" "$top/up"
	assert_eq "$(stat -c %g "$top/up/d/g")" 1000 "$kind: up/d/g group after --update=changed"
	grep -Eq " $(re_quote "$top/up/d/g")\$" "$T/out" ||
		fail "$kind: -i does not report up/d/g, whose group was wrong: '$(cat "$T/out")'"
	treecmp "$src" "$top/up"
	save_state "$T/up.before" "$top/up"
	kind_ok "$kind" -T -i --update=changed "$src" "$top/up"
	assert_eq "$(items "$top/up")" "" "$kind: -i of an --update=changed re-run"
	state_unchanged "$T/up.before" "$kind: up after an --update=changed re-run" "$top/up"
	remove_tree "$top"
done
exit 0
