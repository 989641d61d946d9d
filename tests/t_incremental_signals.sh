#!/bin/bash
# An incremental run interrupted: DST an old copy of a tree (300 files of
# 64 to 512 KiB, 3 of 20 MiB, empty ones), SRC since rewritten (every file
# with new contents of another length, some files new, some removed), and
# `pcopy -T --update=changed --delete` stopped mid-run, slowed down by the
# fault shim (a delay on each write, read/write copies):
#   - SIGINT to pcopy, both worker modes: exit 130;
#   - SIGKILL to one process worker: pcopy goes on and exits 1, and only
#     the entries it reports are left undone;
#   - SIGKILL to pcopy itself in process mode: every worker exits
#     (PR_SET_PDEATHSIG).
# Then every regular file of DST is byte for byte its old or its new
# version, never a mix; no .pcopy-tmp* is left (but after the parent's
# SIGKILL, where a worker dies between linking a finished copy under its
# temporary name and renaming it over the old file: that one must be a
# complete new version, and the re-run removes it); no process is left;
# the same command run again completes (exit 0, DST equal to SRC); and a
# third run has nothing to do (-i prints nothing, the stats count no
# change).  -j 1 and -j 8.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
# LeakSanitizer checks at exit from a tracer it clones as a child of
# pcopy; killing "a child of pcopy" could hit that tracer and leave pcopy
# spinning in the check forever.  No leak check here.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

need_pcopy
need_cmd python3 setsid
need_faultshim
use_tmpfs 1g

old=$W/old src=$W/new dst=$W/dst

# the old tree and the new one (SRC): every file in both has other
# contents and another length in each; the 2020 mtimes of the old tree
# make sure that the quick check sees every change
python3 - "$old" "$src" <<'PY' || fail "cannot make the trees"
import os, random, sys
old, new = sys.argv[1:]
rnd = random.Random(11)
blob_old, blob_new = os.urandom(24 << 20), os.urandom(24 << 20)

def put(top, rel, blob, size, off):
    path = os.path.join(top, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob[off:off + size])
    if top == old:
        os.utime(path, (1577880000, 1577880000 + rnd.random()))

files = [f"d{i % 10}/{'s/' if i % 3 == 0 else ''}f{i:03}" for i in range(300)]
sizes = {f: rnd.randint(64 << 10, 512 << 10) for f in files}
for i in range(3):
    sizes[f"big{i}"] = 20 << 20
both = list(sizes)
for rel in both:
    size = sizes[rel]
    put(old, rel, blob_old, size, rnd.randint(0, (24 << 20) - size))
    size = size + rnd.randint(1, 4096) * rnd.choice((1, -1))
    put(new, rel, blob_new, size, rnd.randint(0, (24 << 20) - size))
for rel in ("d1/old-empty", "d2/new-empty"):
    put(old, rel, blob_old, 0 if rel.endswith("old-empty") else 1000, 0)
    put(new, rel, blob_new, 1000 if rel.endswith("old-empty") else 0, 0)
for i in range(10):                   # only in SRC: to be created
    put(new, f"d{i}/added{i}", blob_new, 100000 + i, i)
for i in range(10):                   # only in DST: to be deleted
    put(old, f"d{i}/removed{i}", blob_old, 100000 + i, i)
os.makedirs(f"{old}/gone-dir/in")
put(old, "gone-dir/in/f", blob_old, 5000, 7)
PY

# check_versions WHAT ERRFILE TMPS: every regular file of DST is its old or
# its new version; a file not in its new version (a file of SRC absent
# too) is named in ERRFILE unless ERRFILE is "-"; .pcopy-tmp* files are an
# error unless TMPS=complete-new, where each must be the whole new version
# of a file of its directory.  Prints the counts.
check_versions() {
	python3 - "$old" "$src" "$dst" "$@" <<'PY'
import os, sys
old, new, dst, what, errfile, tmps = sys.argv[1:]
reported = open(errfile, "rb").read() if errfile != "-" else None

def files(top):
    out = {}
    for d, dirs, names in os.walk(top):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, top)] = p
    return out

def read(p):
    with open(p, "rb") as f:
        return f.read()

o, n, d = files(old), files(new), files(dst)
counts = {"old": 0, "new": 0, "absent": 0, "tmp": 0}
bad = []
for rel, p in sorted(d.items()):
    name = os.path.basename(rel)
    if not os.path.isfile(p) or os.path.islink(p):
        bad.append(f"{rel}: not a regular file")
        continue
    data = read(p)
    if name.startswith(".pcopy-tmp"):
        sibs = [read(n[r]) for r in n if os.path.dirname(r) == os.path.dirname(rel)]
        if tmps == "complete-new" and data in sibs:
            counts["tmp"] += 1
        else:
            bad.append(f"{rel}: a temporary left")
    elif rel in n and data == read(n[rel]):
        counts["new"] += 1
    elif rel in o and data == read(o[rel]):
        counts["old"] += 1
        if rel in n and reported is not None and rel.encode() not in reported:
            bad.append(f"{rel}: old version, yet not reported")
    else:
        bad.append(f"{rel}: neither its old nor its new version ({len(data)} bytes)")
for rel in n:
    if rel not in d:
        counts["absent"] += 1
        if rel in o:
            bad.append(f"{rel}: removed, yet in both versions")
        elif reported is not None and rel.encode() not in reported:
            bad.append(f"{rel}: not created, yet not reported")
for b in bad[:20]:
    print(f"{what}: {b}", file=sys.stderr)
print(" ".join(f"{k} {v}" for k, v in counts.items()))
sys.exit(1 if bad else 0)
PY
}

# start MODE J DELAY FORCE: run pcopy over a fresh old DST in the
# background, slowed down by DELAY µs before each write, with PCOPY_FORCE
# FORCE too (no_tmpfile: named temporaries); PID is pcopy's, $T/stamp a
# file older than its first install
start() {
	local mode=$1 j=$2 delay=$3 force=$4
	rm -rf "$dst"
	cp -a "$old" "$dst" || fail "cannot make DST"
	touch "$T/stamp"
	sleep 0.02
	# setsid: pcopy leads its own process group; a background job of a
	# script has SIGINT ignored, env --default-signal undoes that
	setsid env --default-signal=INT PCOPY_FORCE=no_copy_file_range${force:+,$force} LD_PRELOAD="$FAULTSHIM" \
		FAULT_OP=write FAULT_DELAY_US="$delay" "$PCOPY" --mode="$mode" -j "$j" -T \
		--update=changed --delete "$src" "$dst" >"$T/out" 2>"$T/err" &
	PID=$!
}

# wait (up to 20 s) until pcopy has put a first new file in place, then a
# little longer; false if it ended first
mid_run() {
	local tenths=400 comm
	while [ -z "$(find "$dst" -name '.pcopy-tmp*' -prune -o -type f -cnewer "$T/stamp" -print -quit)" ]; do
		alive "$PID" || return 1
		[ "$tenths" -gt 0 ] || fail "no file copied 20 s after the start"
		tenths=$((tenths - 1))
		sleep 0.05
	done
	sleep 0.1
	comm=$(cat "/proc/$PID/comm" 2>/dev/null)
	case $comm in
	setsid | env) fail "pid $PID is $comm, not pcopy (did setsid fork?)" ;;
	esac
	alive "$PID"
}

# then: the same command completes, and the next one has nothing to do
rerun() {
	local what=$1 k
	pcopy_ok --mode="$mode" -j "$j" -T --update=changed --delete "$src" "$dst"
	treecmp "$src" "$dst"
	no_temporaries "$dst"
	pcopy_ok --mode="$mode" -j "$j" -T --update=changed --delete -i --stats=json "$src" "$dst"
	assert_eq "$(grep -v '^{' "$T/out")" "" "$what: -i of the run after the re-run"
	for k in created updated meta_updated deleted; do
		assert_grep "$T/out" "\"$k\":0[,}]"
	done
	no_process_left
}

# interrupt WHAT MODE J HOW [FORCE]: HOW is int (SIGINT to pcopy), worker
# (SIGKILL to one process worker) or parent (SIGKILL to pcopy); slowed
# down more each time the run ends before the signal (a killed worker's
# run goes on to the end: it starts less slow)
interrupt() {
	local what=$1 mode=$2 j=$3 how=$4 force=${5:-} delay delays rc workers w victim counts
	delays="3000 10000 30000"
	[ "$how" = worker ] && [ "$j" = 1 ] && delays="1000 $delays"
	for delay in $delays; do
		start "$mode" "$j" "$delay" "$force"
		if ! mid_run; then
			wait "$PID"
			log "note: $what: the copy ended before the signal (delay $delay µs); slower"
			continue
		fi
		workers=$(pgrep -P "$PID" | tr '\n' ' ')
		case $how in
		int) kill -INT "$PID" ;;
		parent) kill -KILL "$PID" ;;
		worker)
			victim=${workers%% *}
			[ -n "$victim" ] || fail "$what: no worker process"
			kill -KILL "$victim"
			;;
		esac
		reap_signalled "$PID" 60 "$what"
		rc=$RC
		if [ "$rc" -eq 0 ]; then
			# it ended between the last look and the signal: whole, then
			treecmp "$src" "$dst"
			log "note: $what: the copy ended as the signal was sent (delay $delay µs); slower"
			continue
		fi
		case $how in
		int) [ "$rc" -eq 130 ] || fail "$what: exit status $rc, expected 130: $(head -n 5 "$T/err")" ;;
		worker) [ "$rc" -eq 1 ] || fail "$what: exit status $rc, expected 1: $(head -n 5 "$T/err")" ;;
		parent) [ "$rc" -eq 137 ] || fail "$what: exit status $rc, expected 137" ;;
		esac
		for w in $workers; do
			wait_gone "$w" 5 || fail "$what: worker $w alive 5 s after pcopy ended"
		done
		no_process_left
		case $how in
		int)
			check_messages "$T/err"
			counts=$(check_versions "$what" - none) || fail "$what: DST holds wrong files"
			;;
		worker)
			[ -s "$T/err" ] || fail "$what: the killed worker's entry not reported"
			check_messages "$T/err"
			counts=$(check_versions "$what" "$T/err" none) || fail "$what: DST holds wrong files"
			;;
		parent)
			counts=$(check_versions "$what" - complete-new) || fail "$what: DST holds wrong files"
			;;
		esac
		log "$what (delay $delay µs): exit $rc; $counts"
		rerun "$what"
		return 0
	done
	fail "$what: even the slowest copy ended before the signal"
}

for mode in thread process; do
	for j in 1 8; do
		interrupt "SIGINT $mode -j$j" "$mode" "$j" int
	done
done
for j in 1 8; do
	interrupt "worker SIGKILL -j$j" process "$j" worker
	interrupt "parent SIGKILL -j$j" process "$j" parent
done
# named temporaries, which live while the data is written: removed on
# SIGINT, and by pcopy for its dead worker
interrupt "SIGINT process -j8 no_tmpfile" process 8 int no_tmpfile
interrupt "worker SIGKILL -j8 no_tmpfile" process 8 worker no_tmpfile
exit 0
