#!/bin/bash
# Copies over ssh, both ends on this machine: `pcopy -e tests/tools/lsh.sh
# --remote-pcopy=PCOPY SRC lo:DST` (push) and `... lo:SRC DST` (pull),
# lsh.sh standing in for ssh (the far end starts in $LSH_HOME, in a
# session of its own).  A local pcopy of the same tree with the same
# options is the oracle throughout.
#   - the full-fidelity tree pushed and pulled (default streams, 1 and 4):
#     identical to SRC entry by entry and to the local copy; a re-run with
#     -i --update=changed prints nothing and changes no inode, mtime or
#     ctime; the far end asked for is "HOST REMOTE-PCOPY --server";
#   - how the rsh is chosen and called: -e words split, PCOPY_RSH, the
#     default `ssh` from PATH, USER@HOST passed as given, --remote-pcopy;
#   - operands: into an existing directory, -T, a trailing slash, several
#     sources, HOST: alone (the far home), a relative far path, ./a:b and
#     /x/a:b local, [::1]:path (the host given to the rsh is ::1);
#   - refusals, exit 2 and one line: remote to remote (a:x b:y, and one
#     host twice), a missing far SRC (the status and message local pcopy
#     gives), a missing DST parent, a directory onto a file, --streams out
#     of 1..64;
#   - a changed SRC (data keeping size and mtime, a mode, a file removed,
#     files and a tree added, a file grown, a symlink retargeted) brought
#     over with --update=changed [-c] [--delete] [--exclude
#     --delete-excluded], both ways: -n -i prints the lines of the real run
#     and writes nothing, the -i lines and the resulting tree are those of
#     the local run, a re-run has nothing to do; -i=json, -v and
#     --stats=json ("mode":"ssh", the counts of the local run) too;
#   - -n onto a new DST writes nothing; --progress=json ends at 100;
#     --fsync; --link-dest (a directory on DST's machine); --files-from
#     read on the client (relative to its working directory); -L; -x
#     (root); --no-preserve=mode with a umask; a per-entry failure as an
#     unprivileged user (root) exits 1 as locally.
# After every remote run: no far end left running, nothing left in the
# TMPDIR of either end, no temporaries in DST.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 1g
remote_init
root=0
[ "$(id -u)" -eq 0 ] && root=1

# path, type, size, mode, owner, mtime, ctime, inode and links of every
# entry under $1
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %U:%G %T@ %C@ %i %n\n' | sort)
}

# the lines of file $1, the JSON objects (stats) left out, with the paths
# given as SRC $2 and DST $3 (alone or after "lo:") written SRC and DST,
# sorted: what the local run and a remote one must print alike
norm() {
	grep -v '^{' "$1" | awk -v s="$2" -v d="$3" '
		function sub_all(line, from, to,   i, out) {
			out = ""
			while ((i = index(line, from)) > 0) {
				out = out substr(line, 1, i - 1) to
				line = substr(line, i + length(from))
			}
			return out line
		}
		{
			$0 = sub_all($0, "lo:" d, "DST"); $0 = sub_all($0, "lo:" s, "SRC")
			$0 = sub_all($0, d, "DST"); $0 = sub_all($0, s, "SRC")
			print
		}' | sort
}

# xfer SIDE WANT SRC DST ARGS...: pcopy ARGS SRC DST must exit WANT, run
# locally (SIDE local), with DST on the far side (push) or SRC (pull);
# stdout in $T/out, stderr in $T/err; after a remote run, remote_clean
xfer() {
	local side=$1 want=$2 s=$3 d=$4
	shift 4
	case $side in
	local) assert_exit "$want" "$PCOPY" "$@" "$s" "$d" ;;
	push)
		assert_exit "$want" rpcopy "$@" "$s" "lo:$d"
		remote_clean "push $*"
		;;
	pull)
		assert_exit "$want" rpcopy "$@" "lo:$s" "$d"
		remote_clean "pull $*"
		;;
	esac
}

# overwrite the first bytes of file $1 with $2, keeping its size and times
same_size_and_time() {
	touch -r "$1" "$T/ref"
	printf '%s' "$2" | dd of="$1" conv=notrunc status=none || fail "cannot change $1"
	touch -r "$T/ref" "$1"
}

# a field (host, user, opts or cmd) of the first connection lsh.sh logged
conn() {
	head -n 1 "$LSH_LOG" | awk -F '\t' -v f="$1" '{ for (i = 1; i <= NF; i++) if (index($i, f "=") == 1) print substr($i, length(f) + 2) }'
}

# ---- the full-fidelity tree, pushed and pulled ----
src=$W/src
make_fidelity_tree "$src"
# (its tree deeper than PATH_MAX goes on its own, at the end)
mkdir "$W/deep-src"
mv "$src/deep" "$W/deep-src/deep"
pcopy_ok "$src" "$W/local"
treecmp "$src" "$W/local"

for streams in "" 1 4; do
	tag="streams=${streams:-default}"
	sopt=(${streams:+"--streams=$streams"})
	: >"$LSH_LOG"
	xfer push 0 "$src" "$W/push" "${sopt[@]}"
	treecmp "$src" "$W/push"
	treecmp "$W/local" "$W/push"
	no_temporaries "$W/push"
	# the first connection: the host as given, then "REMOTE-PCOPY --server"
	# (quotes around a word allowed: the far shell takes them off)
	assert_eq "$(conn host) $(conn opts)" "lo " "$tag: host and options given to the rsh"
	case $(conn cmd | tr -d "'") in
	"$RPCOPY --server" | "$RPCOPY --server "*) ;;
	*) fail "$tag: the far command was '$(conn cmd)', expected '$RPCOPY --server'" ;;
	esac
	[ "$streams" = 1 ] && assert_eq "$(wc -l <"$LSH_LOG")" 1 "$tag: connections opened"

	xfer pull 0 "$src" "$W/pull" "${sopt[@]}"
	treecmp "$src" "$W/pull"
	treecmp "$W/local" "$W/pull"
	no_temporaries "$W/pull"

	# nothing changed: nothing said, nothing written, either way
	for side in push pull; do
		before=$(snapshot "$W/$side")
		sleep 0.02 # a rewrite would move a ctime visibly
		xfer "$side" 0 "$src" "$W/$side" "${sopt[@]}" -T -i --update=changed
		assert_empty "$T/out"
		assert_eq "$(snapshot "$W/$side")" "$before" "$tag: $side DST after a re-run"
	done
	remove_tree "$W/push"
	remove_tree "$W/pull"
done

# the far program named as the issue does, no wrapper around it
assert_exit 0 "$PCOPY" -e "$LSH" --remote-pcopy="$PCOPY" "$src" "lo:$W/direct"
treecmp "$src" "$W/direct"
remove_tree "$W/direct"
remove_tree "$W/local"
remove_tree "$src"

# ---- how the rsh is run ----
small=$W/small
mkdir -p "$small/sub/deeper"
echo one >"$small/one"
echo two >"$small/sub/two"
echo three >"$small/sub/deeper/three"
ln -s one "$small/link"
file=$W/file
echo "a file" >"$file"

: >"$LSH_LOG"
assert_exit 0 "$PCOPY" -e "$LSH -o BatchMode=yes -p 2222" --remote-pcopy="$RPCOPY" \
	"$file" "someone@lo:$W/e-words"
remote_clean "-e with words"
cmp -s "$file" "$W/e-words" || fail "-e with words: not copied"
assert_eq "$(conn host)" someone@lo "USER@HOST given to the rsh"
assert_eq "$(conn opts)" "-o BatchMode=yes -p 2222" "-e split into words"

: >"$LSH_LOG"
assert_exit 0 env PCOPY_RSH="$LSH -o FromEnv=yes" "$PCOPY" --remote-pcopy="$RPCOPY" \
	"$file" "lo:$W/from-env"
remote_clean PCOPY_RSH
cmp -s "$file" "$W/from-env" || fail "PCOPY_RSH: not copied"
assert_eq "$(conn opts)" "-o FromEnv=yes" "the rsh from PCOPY_RSH"

: >"$LSH_LOG"
assert_exit 0 env PCOPY_RSH=/bin/false "$PCOPY" -e "$LSH -o FromE=yes" --remote-pcopy="$RPCOPY" \
	"$file" "lo:$W/e-wins"
remote_clean "-e over PCOPY_RSH"
assert_eq "$(conn opts)" "-o FromE=yes" "-e over PCOPY_RSH"

# without either: `ssh`, found in PATH
mkdir "$T/bin"
ln -s "$LSH" "$T/bin/ssh"
: >"$LSH_LOG"
assert_exit 0 env -u PCOPY_RSH PATH="$T/bin:$PATH" "$PCOPY" --remote-pcopy="$RPCOPY" \
	"$file" "lo:$W/default-ssh"
remote_clean "default ssh"
cmp -s "$file" "$W/default-ssh" || fail "default rsh: not copied"
assert_eq "$(conn host)" lo "the default rsh (ssh in PATH) was not run"

# ---- operands and target rules, as for a local copy ----
mkdir "$W/into-push" "$W/into-pull"
xfer push 0 "$small" "$W/into-push"
treecmp "$small" "$W/into-push/small"
xfer pull 0 "$small" "$W/into-pull"
treecmp "$small" "$W/into-pull/small"
# -T merges; a trailing slash on SRC changes nothing
for side in push pull; do
	xfer "$side" 0 "$small" "$W/into-$side" -T
	treecmp "$small/sub" "$W/into-$side/sub"
	cmp -s "$small/one" "$W/into-$side/one" || fail "$side -T: one not merged"
	assert_eq "$(readlink "$W/into-$side/link")" one "$side -T: link"
done
mkdir "$W/slash-push" "$W/slash-pull"
xfer push 0 "$small/" "$W/slash-push"
treecmp "$small" "$W/slash-push/small"
xfer pull 0 "$small/" "$W/slash-pull"
treecmp "$small" "$W/slash-pull/small"
# several sources into a directory
mkdir "$W/multi-push" "$W/multi-pull"
assert_exit 0 rpcopy "$small" "$file" "lo:$W/multi-push"
remote_clean "push of two sources"
treecmp "$small" "$W/multi-push/small"
cmp -s "$file" "$W/multi-push/file" || fail "push of two sources: file"
assert_exit 0 rpcopy "lo:$small" "lo:$file" "$W/multi-pull"
remote_clean "pull of two sources"
treecmp "$small" "$W/multi-pull/small"
cmp -s "$file" "$W/multi-pull/file" || fail "pull of two sources: file"
# a trailing slash on a missing DST: a directory is made, a file refused
for side in local push pull; do
	xfer "$side" 0 "$small" "$W/slash-new-$side/"
	treecmp "$small" "$W/slash-new-$side"
done
xfer local 2 "$file" "$W/nodir-local/"
for side in push pull; do
	xfer "$side" 2 "$file" "$W/nodir-$side/"
	[ ! -e "$W/nodir-$side" ] || fail "$side: a file onto a missing DST/ made something"
done

# HOST: alone is the far home; a relative far path starts there
: >"$LSH_LOG"
assert_exit 0 rpcopy "$file" lo:
remote_clean "push to lo:"
cmp -s "$file" "$LSH_HOME/file" || fail "push to lo: did not land in the far home"
mkdir "$LSH_HOME/rel"
assert_exit 0 rpcopy "$small" lo:rel/small
remote_clean "push to lo:rel/small"
treecmp "$small" "$LSH_HOME/rel/small"
assert_exit 0 rpcopy lo:rel/small "$W/rel-pull"
remote_clean "pull of lo:rel/small"
treecmp "$small" "$W/rel-pull"
assert_exit 0 rpcopy lo: "$W/home-pull"
remote_clean "pull of lo:"
treecmp "$LSH_HOME" "$W/home-pull"

# a colon after a slash: local, no rsh run
mkdir "$W/a:b"
echo "in a:b" >"$W/a:b/f"
: >"$LSH_LOG"
(cd "$W" && assert_exit 0 rpcopy ./a:b ./ab-copy) || exit 1
treecmp "$W/a:b" "$W/ab-copy"
(cd "$W" && assert_exit 0 rpcopy "$small" ./a:b) || exit 1
treecmp "$small" "$W/a:b/small"
assert_exit 0 rpcopy "$W/a:b" "$W/ab-abs"
treecmp "$W/a:b" "$W/ab-abs"
assert_empty "$LSH_LOG"

# [::1]:path: the host is ::1
: >"$LSH_LOG"
assert_exit 0 rpcopy "$small" "[::1]:$W/v6-push"
remote_clean "push to [::1]:"
treecmp "$small" "$W/v6-push"
assert_eq "$(conn host)" "::1" "the host of [::1]:path"
assert_exit 0 rpcopy "[::1]:$small" "$W/v6-pull"
remote_clean "pull from [::1]:"
treecmp "$small" "$W/v6-pull"

# ---- refusals ----
: >"$LSH_LOG"
assert_exit 2 rpcopy a:x b:y
one_message "$T/err" "remote to remote"
assert_exit 2 rpcopy "lo:$small" "lo:$W/rr"
one_message "$T/err" "remote to remote, one host"
[ ! -e "$W/rr" ] || fail "remote to remote made its DST"
assert_empty "$LSH_LOG"
servers_gone 1 "remote to remote"

# a missing SRC: what local pcopy says and exits with
want=0
"$PCOPY" "$W/missing" "$W/missing-local" >"$T/out" 2>"$T/err" || want=$?
[ "$want" -ne 0 ] || fail "local pcopy of a missing SRC exited 0"
xfer pull "$want" "$W/missing" "$W/missing-pull"
assert_grep "$T/err" "No such file or directory"
assert_grep "$T/err" "$(re_quote "$W/missing")"
[ ! -e "$W/missing-pull" ] || fail "a missing far SRC made the local DST"
# a missing DST parent, a directory onto a file
for side in push pull; do
	xfer "$side" 2 "$small" "$W/no-such-dir/dst"
done
echo plain >"$W/plain"
for side in push pull; do
	xfer "$side" 2 "$small" "$W/plain"
	assert_eq "$(cat "$W/plain")" plain "$side: a directory onto a file changed it"
done
# --streams takes 1..64
for n in 0 65 x; do
	assert_exit 2 rpcopy --streams=$n "$small" "lo:$W/streams-bad"
	[ ! -e "$W/streams-bad" ] || fail "--streams=$n made DST"
done
xfer push 0 "$small" "$W/streams-64" --streams=64
treecmp "$small" "$W/streams-64"

# ---- a changed SRC, brought over with the incremental options ----
make_mut() {
	local s=$1
	mkdir -p "$s/a/b" "$s/keep/sub" "$s/links"
	echo "same size, same time" >"$s/same"
	echo "mode" >"$s/mode"
	echo "to be removed" >"$s/gone"
	echo "grows" >"$s/a/b/grows"
	echo "kept" >"$s/keep/k"
	echo "kept deeper" >"$s/keep/sub/k2"
	echo "linked" >"$s/keep/h1"
	ln "$s/keep/h1" "$s/keep/h2"
	ln -s ../keep/k "$s/links/retarget"
	ln -s ../keep/sub "$s/links/keep-link"
	mkfifo "$s/keep/fifo"
	echo "scratch" >"$s/x.tmp"
	find "$s" -depth -exec touch -h -d '2011-02-03 04:05:06.123456789' {} +
}
msrc0=$W/msrc0 msrc=$W/msrc mdst0=$W/mdst0
make_mut "$msrc0"
pcopy_ok -T "$msrc0" "$mdst0"
echo "only in DST" >"$mdst0/extra"
echo "excluded in DST" >"$mdst0/dst.tmp"
rm "$mdst0/x.tmp"
cp -a "$msrc0" "$msrc"
sleep 0.02
same_size_and_time "$msrc/same" "SAME"
chmod 0600 "$msrc/mode"
rm "$msrc/gone"
echo "grows, now longer" >"$msrc/a/b/grows"
echo new >"$msrc/new"
mkdir -p "$msrc/new-dir/x" && echo new >"$msrc/new-dir/x/f"
touch -h -r "$msrc/links/retarget" "$T/ref"
ln -sfn ../keep/h1 "$msrc/links/retarget"
touch -h -r "$T/ref" "$msrc/links/retarget"

sets=("--update=changed" "--update=changed -c" "--update=changed --delete"
	"--update=changed -c --delete --exclude=*.tmp"
	"--update=changed --delete --exclude=*.tmp --delete-excluded")
for set in "${sets[@]}"; do
	read -r -a opts <<<"$set"
	for side in local push pull; do
		d=$W/m-$side
		rm -rf "$d"
		cp -a "$mdst0" "$d"
		tag="$set ($side)"
		before=$(snapshot "$d")
		xfer "$side" 0 "$msrc" "$d" -T "${opts[@]}" -n -i
		norm "$T/out" "$msrc" "$d" >"$T/dry-$side"
		assert_eq "$(snapshot "$d")" "$before" "$tag: DST after -n -i"
		xfer "$side" 0 "$msrc" "$d" -T "${opts[@]}" -i
		norm "$T/out" "$msrc" "$d" >"$T/items-$side"
		no_temporaries "$d"
		assert_eq "$(cat "$T/dry-$side")" "$(cat "$T/items-$side")" "$tag: -n -i vs the real run"
		# what the options mean, not only what the oracle does
		case " $set " in
		*" -c "*) cmp -s "$msrc/same" "$d/same" || fail "$tag: -c missed same-size-same-mtime data" ;;
		*) cmp -s "$msrc0/same" "$d/same" || fail "$tag: same-size-same-mtime data copied without -c" ;;
		esac
		case " $set " in
		*" --delete "*) if [ -e "$d/gone" ] || [ -e "$d/extra" ]; then fail "$tag: --delete left gone or extra"; fi ;;
		*) if [ ! -e "$d/gone" ] || [ ! -e "$d/extra" ]; then fail "$tag: removed without --delete"; fi ;;
		esac
		case " $set " in
		*" --delete-excluded "*) [ ! -e "$d/dst.tmp" ] || fail "$tag: --delete-excluded kept dst.tmp" ;;
		*" --exclude="*) [ -e "$d/dst.tmp" ] || fail "$tag: --exclude: dst.tmp removed" ;;
		esac
		case " $set " in
		*" --exclude="*) [ ! -e "$d/x.tmp" ] || fail "$tag: --exclude: x.tmp copied" ;;
		*) cmp -s "$msrc/x.tmp" "$d/x.tmp" || fail "$tag: x.tmp not copied" ;;
		esac
		assert_eq "$(stat -c %a "$d/mode")" 600 "$tag: the changed mode"
		cmp -s "$msrc/new-dir/x/f" "$d/new-dir/x/f" || fail "$tag: new-dir/x/f"
		assert_eq "$(readlink "$d/links/retarget")" ../keep/h1 "$tag: the retargeted symlink"
		# then nothing to do
		before=$(snapshot "$d")
		sleep 0.02
		xfer "$side" 0 "$msrc" "$d" -T "${opts[@]}" -i
		assert_empty "$T/out"
		assert_eq "$(snapshot "$d")" "$before" "$tag: DST after a re-run"
	done
	for side in push pull; do
		assert_eq "$(cat "$T/items-$side")" "$(cat "$T/items-local")" "$set: -i lines, $side vs local"
		assert_eq "$(cat "$T/dry-$side")" "$(cat "$T/dry-local")" "$set: -n -i lines, $side vs local"
		treecmp "$W/m-local" "$W/m-$side"
	done
done

# -i=json, -v and --stats=json, from the same start
json_items() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
path, s, d = sys.argv[1:]
def norm(p):
    for frm, to in (("lo:" + d, "DST"), ("lo:" + s, "SRC"), (d, "DST"), (s, "SRC")):
        p = p.replace(frm, to)
    return p
out = []
for line in open(path, encoding="utf-8", errors="surrogateescape"):
    o = json.loads(line)
    if "change" in o:
        out.append("%s %s %s" % (o["change"], o["type"], norm(o["path"])))
print("\n".join(sorted(out)))
PY
}
# the counts of the --stats=json object in file $1, its top level only (no
# times, mode, jobs, streams or target), one "key":value a line
stats_numbers() {
	grep '^{' "$1" | sed -E 's/"per_stream":\[[^]]*\],?//' | sed 's/[{},]/\n/g' |
		grep -E '^"(files|dirs|symlinks|specials|hardlinks|created|updated|meta_updated|unchanged|deleted|linked|bytes|bytes_copied|errors|vanished)":' |
		sort
}
run=(-T --update=changed --delete)
for side in local push pull; do
	d=$W/o-$side
	rm -rf "$d" && cp -a "$mdst0" "$d"
	if command -v python3 >/dev/null 2>&1; then
		xfer "$side" 0 "$msrc" "$d" "${run[@]}" -n --itemize-changes=json
		json_items "$T/out" "$msrc" "$d" >"$T/json-$side" || fail "$side: -i=json is not JSON"
	fi
	xfer "$side" 0 "$msrc" "$d" "${run[@]}" -v --stats=json
	norm "$T/out" "$msrc" "$d" >"$T/v-$side"
	stats_numbers "$T/out" >"$T/stats-$side"
	[ "$side" = local ] && continue
	assert_grep "$T/out" '"mode": ?"ssh"'
	assert_eq "$(cat "$T/stats-$side")" "$(cat "$T/stats-local")" "$side: --stats=json counts vs local"
	assert_eq "$(cat "$T/v-$side")" "$(cat "$T/v-local")" "$side: -v lines vs local"
	if command -v python3 >/dev/null 2>&1; then
		assert_eq "$(cat "$T/json-$side")" "$(cat "$T/json-local")" "$side: -i=json vs local"
	fi
done
[ -s "$T/v-local" ] || fail "-v of the local run printed nothing"

# ---- other options ----
# -n onto a new DST: nothing made on either side, the lines of a local -n
xfer local 0 "$msrc" "$W/n-local" -n -i
norm "$T/out" "$msrc" "$W/n-local" >"$T/n-local"
[ ! -e "$W/n-local" ] || fail "local -n made DST"
for side in push pull; do
	xfer "$side" 0 "$msrc" "$W/n-$side" -n -i
	[ ! -e "$W/n-$side" ] || fail "$side -n made DST"
	assert_eq "$(norm "$T/out" "$msrc" "$W/n-$side")" "$(cat "$T/n-local")" "$side -n -i vs local"
done

# --progress=json: JSON lines on stderr, the last one done at 100
for side in push pull; do
	xfer "$side" 0 "$msrc" "$W/prog-$side" --progress=json
	treecmp "$msrc" "$W/prog-$side"
	last=$(grep '^{' "$T/err" | tail -n 1)
	case $last in
	*'"done":true'*'"percent":100'* | *'"percent":100'*'"done":true'*) ;;
	*) fail "$side --progress=json: last line '$last'" ;;
	esac
done

# --fsync
for side in push pull; do
	xfer "$side" 0 "$msrc" "$W/fsync-$side" --fsync
	treecmp "$msrc" "$W/fsync-$side"
done

# --link-dest: a directory on DST's machine; unchanged files linked to it
# (with -c: "same" changed keeping its size and mtime is not)
linked() {
	(cd "$1" && find . -type f -printf '%P %i\n') | while read -r rel ino; do
		[ "$(stat -c %i "$mdst0/$rel" 2>/dev/null)" = "$ino" ] && echo "$rel"
	done | sort
}
for side in local push pull; do
	xfer "$side" 0 "$msrc" "$W/ld-$side" --link-dest="$mdst0" -c
	treecmp "$msrc" "$W/ld-$side"
done
[ -n "$(linked "$W/ld-local")" ] || fail "--link-dest (local) linked nothing"
for side in push pull; do
	assert_eq "$(linked "$W/ld-$side")" "$(linked "$W/ld-local")" "$side --link-dest: files linked"
done

# --files-from: read on the client, relative to its working directory
mkdir "$W/cwd"
printf '%s\n' same a/b/grows links/retarget >"$W/cwd/list"
for side in local push pull; do
	(cd "$W/cwd" && xfer "$side" 0 "$msrc" "$W/ff-$side" --files-from=list) || exit 1
done
cmp -s "$msrc/a/b/grows" "$W/ff-local/a/b/grows" || fail "--files-from (local): a/b/grows"
treecmp "$W/ff-local" "$W/ff-push"
treecmp "$W/ff-local" "$W/ff-pull"

# a long list (3,000 of 6,000 files, in every directory: more than a
# handshake once took as rules), with an --exclude before it
big=$W/ff-many
for d in $(seq 1 30); do
	mkdir -p "$big/d$d"
	for f in $(seq 1 200); do : >"$big/d$d/f$f"; done
done
(cd "$big" && find . -type f | sed 's|^\./||' | awk 'NR % 2 == 0') >"$W/cwd/many"
for side in local push pull; do
	(cd "$W/cwd" && xfer "$side" 0 "$big" "$W/ffm-$side" --files-from=many --exclude=f7) || exit 1
done
[ "$(find "$W/ffm-local" -type f | wc -l)" -gt 2500 ] || fail "--files-from, a long list: too few files"
! find "$W/ffm-local" -name f7 | grep -q . || fail "--files-from, a long list: f7 not excluded"
treecmp "$W/ffm-local" "$W/ffm-push"
treecmp "$W/ffm-local" "$W/ffm-pull"

# listed paths SRC lacks: an error each, by its own path, exit 1, as
# locally (a missing directory on the way, a file on the way, a path
# inside another listed one not looked for); the others copied
gsrc=$W/gsrc
mkdir -p "$gsrc/d" "$gsrc/#x"
echo f >"$gsrc/f"
echo g >"$gsrc/d/g"
echo h >"$gsrc/#x/h"
printf '%s\n' f f/inside nope d/nope gone/x gone/y d/g/sub >"$W/cwd/gaps"
for side in local push pull; do
	(cd "$W/cwd" && xfer "$side" 1 "$gsrc" "$W/ffg-$side" --files-from=gaps) || exit 1
	for gone in nope d/nope gone/x gone/y; do
		assert_grep "$T/err" "^pcopy: '.*/$(re_quote "$gone")': No such file or directory$"
	done
	assert_grep "$T/err" "^pcopy: '.*/d/g/sub': Not a directory$"
	assert_eq "$(grep -c '' "$T/err")" 5 "--files-from with gaps, $side: error lines"
done
treecmp "$W/ffg-local" "$W/ffg-push"
treecmp "$W/ffg-local" "$W/ffg-pull"
# "." is SRC itself, and a name may start with '#' (a comment only as a line)
printf '.\n' >"$W/cwd/dot"
printf './#x\n' >"$W/cwd/hash"
for list in dot hash; do
	for side in local push pull; do
		(cd "$W/cwd" && xfer "$side" 0 "$gsrc" "$W/ff$list-$side" --files-from=$list) || exit 1
	done
	treecmp "$W/ff$list-local" "$W/ff$list-push"
	treecmp "$W/ff$list-local" "$W/ff$list-pull"
done
[ -f "$W/ffdot-push/d/g" ] || fail "--files-from '.': not all of SRC copied"
[ -f "$W/ffhash-pull/#x/h" ] && [ ! -e "$W/ffhash-pull/f" ] || fail "--files-from './#x': wrong copy"

# -L: symlinks followed
lt=$W/ltree
mkdir -p "$lt/real/sub" "$W/outside"
echo file >"$lt/real/file"
echo deeper >"$lt/real/sub/g"
echo outside >"$W/outside/o"
ln -s real/file "$lt/link-file"
ln -s real "$lt/link-dir"
ln -s "$W/outside/o" "$lt/abs-link"
for side in local push pull; do
	xfer "$side" 0 "$lt" "$W/L-$side" -L
done
[ -z "$(find "$W/L-local" -type l)" ] || fail "-L (local) left symlinks"
treecmp "$W/L-local" "$W/L-push"
treecmp "$W/L-local" "$W/L-pull"
# and a link back up: a cycle, an error said as a local copy says it
ln -s .. "$lt/real/sub/up"
for side in local push pull; do
	xfer "$side" 1 "$lt" "$W/Lc-$side" -L
	assert_grep "$T/err" "^pcopy: '.*/real/sub/up': directory cycle, not followed$"
	assert_eq "$(grep -c 'directory cycle' "$T/err")" 2 "-L with a cycle, $side: lines"
done

# -x: a file system mounted inside SRC not entered
if [ "$root" = 1 ]; then
	xs=$W/xsrc
	mkdir -p "$xs/a" "$xs/mnt"
	echo here >"$xs/a/f"
	mount_tmpfs "$xs/mnt" 1m
	echo other-fs >"$xs/mnt/inner"
	for side in local push pull; do
		xfer "$side" 0 "$xs" "$W/x-$side" -x
		[ ! -e "$W/x-$side/mnt/inner" ] || fail "-x ($side) crossed into a mount"
		cmp -s "$xs/a/f" "$W/x-$side/a/f" || fail "-x ($side): a/f"
	done
	treecmp "$W/x-local" "$W/x-push"
	treecmp "$W/x-local" "$W/x-pull"
else
	log "not root: skipping -x (needs a mount)"
fi

# --no-preserve=mode with a umask: what the local run makes
chmod 4755 "$msrc/keep/k"
for side in local push pull; do
	(umask 027 && xfer "$side" 0 "$msrc" "$W/np-$side" --no-preserve=mode) || exit 1
done
assert_eq "$(stat -c %a "$W/np-local/keep/k")" 640 "--no-preserve=mode, umask 027 (local)"
treecmp "$W/np-local" "$W/np-push"
treecmp "$W/np-local" "$W/np-pull"

# a per-entry failure (an unprivileged user, a source file it cannot
# read): exit 1 and the lines of the local run, the rest copied
if can_be_nobody "the per-entry failure"; then
	chmod 0755 "$T" "$W"
	chmod 1777 "$RTMP"
	chmod 0666 "$T/server.pids" "$LSH_LOG"
	mkdir -p "$W/fsrc/open" "$W/fout"
	echo fine >"$W/fsrc/open/f"
	echo secret >"$W/fsrc/secret"
	chown -R 65534:65534 "$W/fsrc" "$W/fout"
	chown 0:0 "$W/fsrc/secret"
	chmod 0600 "$W/fsrc/secret"
	for side in local push pull; do
		case $side in
		local) assert_exit 1 as_nobody "$PCOPY" "$W/fsrc" "$W/fout/local" ;;
		push) assert_exit 1 as_nobody "${RCMD[@]}" "$W/fsrc" "lo:$W/fout/push" ;;
		pull) assert_exit 1 as_nobody "${RCMD[@]}" "lo:$W/fsrc" "$W/fout/pull" ;;
		esac
		[ "$side" = local ] || remote_clean "$side as nobody"
		assert_grep "$T/err" "secret'?: Permission denied"
		norm "$T/err" "$W/fsrc" "$W/fout/$side" >"$T/nobody-$side"
		cmp -s "$W/fsrc/open/f" "$W/fout/$side/open/f" || fail "$side as nobody: open/f not copied"
		[ ! -e "$W/fout/$side/secret" ] || fail "$side as nobody: secret made"
	done
	assert_eq "$(cat "$T/nobody-push")" "$(cat "$T/nobody-local")" "push as nobody: stderr vs local"
	assert_eq "$(cat "$T/nobody-pull")" "$(cat "$T/nobody-local")" "pull as nobody: stderr vs local"
fi

# ---- the fidelity tree's part deeper than PATH_MAX ----
# Copied whole, as locally; or, as src/transport/remote.h has it for now
# (paths cross shorter than PATH_MAX), exit 1 with one "File name too
# long" line, the directories above the limit made and nothing below it
deep=$W/deep-src/deep
for side in push pull; do
	d=$W/deep-$side
	rc=0
	case $side in
	push) timeout -k 5 60 "${RCMD[@]}" "$deep" "lo:$d" >"$T/out" 2>"$T/err" || rc=$? ;;
	pull) timeout -k 5 60 "${RCMD[@]}" "lo:$deep" "$d" >"$T/out" 2>"$T/err" || rc=$? ;;
	esac
	remote_clean "$side of the deep tree"
	case $rc in
	0) treecmp "$deep" "$d" ;;
	1)
		one_message "$T/err" "$side of the deep tree"
		assert_grep "$T/err" "^pcopy: '.*': File name too long$"
		no_temporaries "$d"
		n=$(find "$d" -type d | wc -l)
		if [ "$n" -lt 30 ] || [ "$n" -gt 40 ]; then
			fail "$side of the deep tree: $n directories made"
		fi
		[ -z "$(find "$d" ! -type d -print -quit)" ] || fail "$side of the deep tree: entries below the limit"
		log "note: $side of the deep tree: exit 1, $n of 41 directories (paths cross shorter than PATH_MAX)"
		;;
	*)
		head -c 600 "$T/err" >&2
		fail "$side of the deep tree: exit $rc"
		;;
	esac
done

# --bwlimit: the sending side paces all the file data, in both directions;
# 4 MiB at 2 MiB/s cannot take much less than 2 s, however fast the rest
mkdir -p "$W/bw-src"
head -c 4194304 /dev/urandom >"$W/bw-src/f"
for side in push pull; do
	rm -rf "$W/bw-$side"
	t0=$(date +%s%N)
	case $side in
	push) assert_exit 0 rpcopy --bwlimit=2M "$W/bw-src" "lo:$W/bw-$side" ;;
	pull) assert_exit 0 rpcopy --bwlimit=2048 "lo:$W/bw-src" "$W/bw-$side" ;;
	esac
	took=$((($(date +%s%N) - t0) / 1000000))
	remote_clean "$side with --bwlimit"
	cmp -s "$W/bw-src/f" "$W/bw-$side/f" || fail "$side with --bwlimit: the copy differs"
	[ "$took" -ge 1500 ] || fail "$side with --bwlimit=2M: 4 MiB in ${took} ms"
done
assert_exit 2 "$PCOPY" --bwlimit=fast "$W/bw-src" "lo:$W/bw-x"

# A big file is split across the streams: one 48 MiB file, paced so that
# more streams open while most of it is still to come, arrives whole
# through more than one (--stats' split_files), in both directions; and
# with one stream it is not split
mkdir -p "$W/split-src"
head -c $((48 << 20)) /dev/urandom >"$W/split-src/big"
for side in push pull one; do
	rm -rf "$W/split-$side"
	case $side in
	push) assert_exit 0 rpcopy --streams=4 --bwlimit=24M --stats=json "$W/split-src" \
		"lo:$W/split-$side" ;;
	pull) assert_exit 0 rpcopy --streams=4 --bwlimit=24M --stats=json "lo:$W/split-src" \
		"$W/split-$side" ;;
	one) assert_exit 0 rpcopy --streams=1 --stats=json "$W/split-src" \
		"lo:$W/split-$side" ;;
	esac
	remote_clean "a big file, $side"
	cmp -s "$W/split-src/big" "$W/split-$side/big" || fail "a big file, $side: the copy differs"
	split=$(sed -n 's/.*"split_files":\([0-9]*\).*/\1/p' "$T/out")
	# the file counted once, on a stream (entry 0 is the run's own thread),
	# whose CPU time was counted
	per=$(sed -E 's/.*"per_stream":\[([^]]*)\].*/\1/' "$T/out" | grep -o '"files":[0-9]*' |
		cut -d: -f2 | paste -sd' ')
	case $per in
	"0 1" | "0 1 0"* | "0 0 1"* | "0 0 0 1"*) ;;
	*) fail "a big file, $side: files per stream '$per', expected one on a stream" ;;
	esac
	cpu=$(sed -E 's/.*"per_stream":\[\{[^}]*\},\{[^}]*"cpu_s":([0-9.]+).*/\1/' "$T/out")
	[ "$per" = "${per#0 1}" ] || [ "$cpu" != 0.000 ] ||
		fail "a big file, $side: stream 1 copied it in no CPU time ('$cpu')"
	case $side in
	one)
		[ "$split" = 0 ] || fail "one stream: split_files is '$split', not 0"
		# and as text (on stderr): the run's thread and the stream, one line
		rm -rf "$W/split-$side"
		assert_exit 0 rpcopy --streams=1 --stats "$W/split-src" "lo:$W/split-$side"
		assert_grep "$T/err" '^copied: stream 0 0 files 0 B cpu [0-9.]+ s idle [0-9.]+ s, stream 1 1 files 48\.0 MiB cpu '
		;;
	*) [ "$split" = 1 ] || fail "a big file, $side: split_files is '$split', not 1" ;;
	esac
done
exit 0
