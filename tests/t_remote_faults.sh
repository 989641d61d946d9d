#!/bin/bash
# Remote copies that go wrong, both ends on this machine (tests/tools/lsh.sh
# for ssh, tests/tools/slowlink between them to delay, pace or cut the
# link):
#   - a far end speaking protocol version 99 (a fake server written here):
#     exit 2 within seconds, one line on stderr naming both versions (ours and
#     99), nothing made; what the client sent first is a HELLO as the
#     protocol says (magic, our version, "pcopy ...", the role: receiver for
#     a push, sender for a pull);
#   - the real `pcopy --server` given a HELLO of version 99: its own HELLO
#     (our version) first, then exit 2 (a FATAL frame, if sent, names 99);
#     given nothing, garbage or a header claiming 4 GiB: it ends, non-zero,
#     within seconds;
#   - a far shell that prints a banner before pcopy starts, a far program
#     that is not there: non-zero within seconds, a message, nothing made;
#   - the link cut mid-run (slowlink drops the connection after N bytes;
#     --streams=1 and 4) in an incremental run over an old copy, push and
#     pull: non-zero within seconds, a message, the far end gone, nothing
#     in either end's TMPDIR, every file of DST its old or its new version
#     (nothing partial under a final name), no temporaries; a re-run with
#     --update=changed completes the copy;
#   - the far `pcopy --server` SIGKILLed mid-run: the same, but for the far
#     end's TMPDIR;
#   - SIGINT to the client (to it alone, and to its process group, as ^C
#     does) during a paced push and pull: exit 130 within 5 s, the far end
#     gone, no temporaries on either side, every file old or new;
#   - a hostile far end (a fake server: a valid HELLO, then what a real
#     one never sends).  As the sender of a pull: names and listing paths
#     that are not one name or not beneath the root ("../escape", "a/b",
#     "", ".", "..", "x\0y", 256 bytes; "../x", "/abs", "d/../../x"),
#     counts (entries, xattr bytes, HELLO arguments) past what follows, a
#     ROOT without its meta, a header claiming 4 GiB, a frame of an unknown
#     type, a file whose hash does not match (asked for once more, never
#     installed), DATA out of order, past its range or never asked for:
#     non-zero within seconds, one line.  A symlink out of DST then a
#     listing through it, the same name as a symlink and a directory, hard
#     links with a symlink among them: whatever the outcome, nothing made
#     outside DST.  Every case: nothing else under the test's tree changed,
#     no temporaries.  As the receiver of a push: WANTs (and SUMs) of paths
#     outside SRC ("../outside-file", absolute, ".." or empty components)
#     end the run non-zero with one line, before any file byte is sent; WANTs
#     through SRC's symlinks are answered FAILED; no byte of a canary file
#     beside SRC is ever sent.  (A far end that goes silent mid-frame is
#     not a case: like ssh, pcopy has no timeout of its own.)
#   - --partial: a cut run keeps the checked start of its big file
#     (owner-only, hidden, a prefix of the file), the next run moves only
#     the rest; partials of another mtime, of other bytes with the same
#     mtime, or open to others are not taken up;
#   - DST full (root): each file fails alone and the run goes on.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_cmd python3 setsid timeout
use_tmpfs 768m
remote_init
SLOW=$SRCDIR/tests/tools/slowlink
[ -x "$SLOW" ] || fail "$SLOW is missing or not executable"

# milliseconds since the epoch
now_ms() {
	date +%s%3N
}

# ---- frames, for the fakes ----
# the protocol's version, as remote.h says it
proto=$(sed -n 's/^#define REMOTE_VERSION \([0-9]*\)$/\1/p' "$SRCDIR/src/transport/remote.h")
[ -n "$proto" ] || fail "no REMOTE_VERSION in src/transport/remote.h"
cat >"$T/frames.py" <<PY
"""The protocol's frames as remote.h and wire.h give them."""
import struct
MAGIC = 0x59504350
VERSION = $proto
HELLO, FATAL = 1, 2

def frame(ftype, payload, stream=0):
    return struct.pack("<IHH", len(payload), ftype, stream) + payload

def hello(version, program=b"pcopy 99.0.0", role=0, args=(), cpus=1, boot=b""):
    p = struct.pack("<II", MAGIC, version) + struct.pack("<I", len(program)) + program
    p += struct.pack("<BI", role, len(args))
    for a in args:
        p += struct.pack("<I", len(a)) + a
    p += struct.pack("<II", cpus, len(boot)) + boot
    return frame(HELLO, p)

def frames(data):
    """(type, stream, payload) of each whole frame in data."""
    out = []
    while len(data) >= 8:
        length, ftype, stream = struct.unpack_from("<IHH", data)
        if len(data) < 8 + length:
            break
        out.append((ftype, stream, data[8:8 + length]))
        data = data[8 + length:]
    return out

def read_hello(payload):
    """magic, version, program, role, nargs of a HELLO payload."""
    magic, version, n = struct.unpack_from("<III", payload)
    program = payload[12:12 + n]
    role, nargs = struct.unpack_from("<BI", payload, 12 + n)
    return magic, version, program.decode("utf-8", "replace"), role, nargs
PY

# a far end that speaks version 99: its HELLO at once, then it keeps what
# the client sends ($T/fake.in) until the client closes, 20 s at most
cat >"$T/fake-server" <<PY
#!/usr/bin/env python3
import os, select, sys, time
sys.path.insert(0, "$T")
import frames
with open("$T/server.pids", "a") as f:
    f.write("%d\n" % os.getpid())
os.write(1, frames.hello(99))
got = b""
end = time.monotonic() + 20
while time.monotonic() < end:
    r, _, _ = select.select([0], [], [], 0.2)
    if r:
        data = os.read(0, 65536)
        if not data:
            break
        got += data
open("$T/fake.in", "wb").write(got)
PY
chmod 0755 "$T/fake-server"

small=$W/small
mkdir -p "$small/sub"
echo one >"$small/one"
echo two >"$small/sub/two"

# ---- a far end of another version ----
for side in push pull; do
	rm -f "$T/fake.in"
	case $side in
	push) ops=("$small" "lo:$W/vm-$side") role=2 ;;
	pull) ops=("lo:$small" "$W/vm-$side") role=1 ;;
	esac
	t0=$(now_ms)
	assert_exit 2 timeout -k 5 30 env TMPDIR="$RTMP" "$PCOPY" -e "$LSH" \
		--remote-pcopy="$T/fake-server" "${ops[@]}"
	took=$(($(now_ms) - t0))
	[ "$took" -lt 10000 ] || fail "$side, version 99: took ${took} ms"
	one_message "$T/err" "$side, version 99"
	assert_grep "$T/err" '(^|[^0-9])99([^0-9]|$)'
	assert_grep "$T/err" "(^|[^0-9.])$proto([^0-9]|\$)"
	[ ! -e "$W/vm-$side" ] || fail "$side, version 99: DST made"
	remote_clean "$side, version 99"
	# what the client said first: its HELLO
	[ -f "$T/fake.in" ] || fail "$side, version 99: the fake server kept nothing"
	python3 - "$T/fake.in" "$role" <<PY || fail "$side: the client's first frame is not its HELLO"
import sys
sys.path.insert(0, "$T")
import frames
data = open(sys.argv[1], "rb").read()
fs = frames.frames(data)
assert fs, "no whole frame: %r" % data[:64]
ftype, stream, payload = fs[0]
assert (ftype, stream) == (frames.HELLO, 0), (ftype, stream)
magic, version, program, role, nargs = frames.read_hello(payload)
assert magic == frames.MAGIC, hex(magic)
assert version == frames.VERSION, version
assert program.startswith("pcopy "), program
assert role == int(sys.argv[2]), ("role", role)
assert nargs >= 1, ("nargs", nargs)
PY
done

# ---- the real server, from a fake client ----
# serve.py MODE: run `pcopy --server` in the far home, write to it by MODE
# (hello99, nothing, garbage, huge), read all it says for 10 s at most;
# prints its exit status, then one line per frame: type, stream, and for
# a HELLO "magic version program", for a FATAL its text
cat >"$T/serve.py" <<PY
import os, struct, subprocess, sys
sys.path.insert(0, "$T")
import frames
mode = sys.argv[1]
p = subprocess.Popen([os.environ["PCOPY"], "--server"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=open("$T/serve.err", "wb"),
                     cwd=os.environ["LSH_HOME"])
data = {"hello99": frames.hello(99, role=2),
        "nothing": b"",
        "garbage": bytes((i * 37 + 11) & 0xff for i in range(4096)),
        "huge": struct.pack("<IHH", 0xffffffff, 1, 0) + b"x" * 64}[mode]
try:
    out, _ = p.communicate(input=data, timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    print("timeout")
    sys.exit(0)
print(p.returncode)
for ftype, stream, payload in frames.frames(out):
    line = "%d %d" % (ftype, stream)
    if ftype == frames.HELLO:
        m, v, prog, _, _ = frames.read_hello(payload)
        line += " %#x %d %s" % (m, v, prog)
    elif ftype == frames.FATAL:
        line += " " + payload.decode("utf-8", "replace").replace("\n", " ")
    print(line)
PY
python3 "$T/serve.py" hello99 >"$T/serve.out" || fail "serve.py failed"
assert_eq "$(head -n 1 "$T/serve.out")" 2 "the server's exit status after a HELLO of version 99"
first=$(sed -n 2p "$T/serve.out")
case $first in
"1 0 0x59504350 $proto pcopy "*) ;;
*) fail "the server's first frame: '$first', expected its HELLO of version $proto" ;;
esac
if grep -q '^2 ' "$T/serve.out"; then
	assert_grep "$T/serve.out" '^2 0 .*(^|[^0-9])99([^0-9]|$)'
fi
for mode in nothing garbage huge; do
	python3 "$T/serve.py" "$mode" >"$T/serve.out" || fail "serve.py failed"
	rc=$(head -n 1 "$T/serve.out")
	case $rc in
	timeout) fail "pcopy --server given $mode: still running after 10 s" ;;
	0) fail "pcopy --server given $mode: exit 0" ;;
	esac
done
[ -z "$(find "$LSH_HOME" -mindepth 1 -print -quit)" ] || fail "the server wrote into its home"

# ---- a far shell that talks first, a far program missing ----
printf '#!/bin/sh\necho "Welcome to lo, have a nice day"\nexec "%s" "$@"\n' "$PCOPY" >"$T/chatty"
chmod 0755 "$T/chatty"
for far in "$T/chatty" "$W/no/such/pcopy"; do
	for side in push pull; do
		case $side in
		push) ops=("$small" "lo:$W/bad-$side") ;;
		pull) ops=("lo:$small" "$W/bad-$side") ;;
		esac
		rc=0
		t0=$(now_ms)
		timeout -k 5 30 env TMPDIR="$RTMP" "$PCOPY" -e "$LSH" --remote-pcopy="$far" \
			"${ops[@]}" >"$T/out" 2>"$T/err" || rc=$?
		took=$(($(now_ms) - t0))
		case $rc in
		0) fail "$side with far program $far: exit 0" ;;
		124 | 137) fail "$side with far program $far: still running after 30 s" ;;
		esac
		[ "$took" -lt 10000 ] || fail "$side with far program $far: took ${took} ms"
		[ -s "$T/err" ] || fail "$side with far program $far: no message"
		[ ! -e "$W/bad-$side" ] || fail "$side with far program $far: DST made"
		remote_clean "$side with far program $far"
	done
done

# ---- an incremental run broken off ----
# OLD and NEW: 24 files of 2 MiB and a few small ones, every one with
# other contents and another length in NEW
old=$W/old new=$W/new
python3 - "$old" "$new" <<'PY' || fail "cannot make the trees"
import os, random, sys
old, new = sys.argv[1:]
rnd = random.Random(7)
for top, extra in ((old, 0), (new, 1000)):
    os.makedirs(top + "/d/e")
    for i in range(24):
        with open("%s/d/big%02d" % (top, i), "wb") as f:
            f.write(rnd.randbytes((2 << 20) + extra + i))
    for i in range(20):
        with open("%s/d/e/small%02d" % (top, i), "wb") as f:
            f.write(rnd.randbytes(100 + extra + i))
PY
touch -d '2020-01-01' "$old"/d/big* "$old"/d/e/small*
find "$old" "$new" -type d -exec touch -d '2021-01-01 00:00:00.123456789' {} +

# the start of each case: DST a copy of OLD
fresh_dst() {
	rm -rf "$W/dst"
	cp -a "$old" "$W/dst"
}

# ops SIDE: the operands of a run, in the array OPS
ops_of() {
	case $1 in
	push) OPS=("$new" "lo:$W/dst") ;;
	pull) OPS=("lo:$new" "$W/dst") ;;
	esac
}

# after a broken run: every file old or new, no temporaries; then the
# re-run completes it
broken_aftermath() {
	local what=$1
	old_or_new "$old" "$new" "$W/dst" "$what"
	log "$what: $NNEW files new before the re-run"
	assert_exit 0 rpcopy -T --update=changed "${OPS[@]}"
	remote_clean "$what: the re-run"
	treecmp "$new" "$W/dst"
	no_temporaries "$W/dst"
	# and a third run has nothing to do
	assert_exit 0 rpcopy -T --update=changed -i "${OPS[@]}"
	remote_clean "$what: the third run"
	assert_empty "$T/out"
}

# slowlinks_gone WHAT: every slowlink of the last run has ended
slowlinks_gone() {
	local pid
	while read -r pid; do
		wait_gone "$pid" 5 || fail "$1: slowlink $pid still running"
	done <"$T/slowlink.pids"
	: >"$T/slowlink.pids"
}
: >"$T/slowlink.pids"

# the link cut after CUT bytes (per connection)
for side in push pull; do
	for cut in "1 16000000" "4 4000000"; do
		streams=${cut% *} cut=${cut#* }
		what="$side, --streams=$streams, link cut after $cut bytes"
		fresh_dst
		ops_of "$side"
		rc=0
		t0=$(now_ms)
		timeout -k 5 60 env TMPDIR="$RTMP" SLOWLINK_MS=1 SLOWLINK_CUT_AFTER="$cut" \
			SLOWLINK_PIDFILE="$T/slowlink.pids" "$PCOPY" -e "$SLOW" --remote-pcopy="$RPCOPY" \
			--streams="$streams" -T --update=changed "${OPS[@]}" >"$T/out" 2>"$T/err" || rc=$?
		took=$(($(now_ms) - t0))
		case $rc in
		0) fail "$what: exit 0 (the cut was not noticed, or came after the end)" ;;
		124 | 137) fail "$what: still running after 60 s" ;;
		esac
		[ "$took" -lt 10000 ] || fail "$what: took ${took} ms"
		[ -s "$T/err" ] || fail "$what: exit $rc and no message"
		log "$what: exit $rc in $took ms: $(head -n 1 "$T/err")"
		slowlinks_gone "$what"
		remote_clean "$what"
		broken_aftermath "$what"
	done
done

# the far pcopy SIGKILLed 0.5 s into a paced run (16 MB/s)
for side in push pull; do
	what="$side, the far end SIGKILLed"
	fresh_dst
	ops_of "$side"
	setsid env TMPDIR="$RTMP" SLOWLINK_MS=1 SLOWLINK_RATE=16000000 \
		SLOWLINK_PIDFILE="$T/slowlink.pids" "$PCOPY" -e "$SLOW" --remote-pcopy="$RPCOPY" \
		--streams=1 -T --update=changed "${OPS[@]}" >"$T/out" 2>"$T/err" &
	pid=$!
	sleep 0.5
	[ -s "$T/server.pids" ] || fail "$what: no far end started within 0.5 s"
	xargs kill -KILL <"$T/server.pids" 2>/dev/null
	reap_signalled "$pid" 10 "$what"
	[ "$RC" -ne 0 ] || fail "$what: exit 0"
	[ -s "$T/err" ] || fail "$what: exit $RC and no message"
	log "$what: exit $RC in $took ms: $(head -n 1 "$T/err")"
	servers_gone 2 "$what"
	slowlinks_gone "$what"
	# (a SIGKILLed far end cannot clean its TMPDIR; DST is checked below)
	rm -rf "${RTMP:?}"/* "${RTMP:?}"/.[!.]* 2>/dev/null
	broken_aftermath "$what"
done

# SIGINT to the client 0.8 s into a paced run: exit 130
for target in pid group; do
	for side in push pull; do
		[ "$target" = group ] && [ "$side" = pull ] && continue
		what="$side, SIGINT to the client's $target"
		fresh_dst
		ops_of "$side"
		setsid env --default-signal=INT TMPDIR="$RTMP" SLOWLINK_MS=1 SLOWLINK_RATE=16000000 \
			SLOWLINK_PIDFILE="$T/slowlink.pids" "$PCOPY" -e "$SLOW" --remote-pcopy="$RPCOPY" \
			--streams=1 -T --update=changed "${OPS[@]}" >"$T/out" 2>"$T/err" &
		pid=$!
		sleep 0.8
		if [ "$target" = group ]; then
			kill -INT -- "-$pid" 2>/dev/null
		else
			kill -INT "$pid" 2>/dev/null
		fi
		reap_signalled "$pid" 5 "$what"
		[ "$RC" -eq 130 ] || {
			head -n 5 "$T/err" >&2
			fail "$what: exit $RC, expected 130"
		}
		slowlinks_gone "$what"
		remote_clean "$what"
		broken_aftermath "$what"
	done
done

# --partial: a run cut by SIGINT keeps what arrived of its big file,
# checked, as a hidden owner-only partial beside it (the runs above, cut
# without it, kept none: no_temporaries); the next run resumes it,
# moving only the rest, and --delete leaves it to that; a partial whose
# file changed since is not trusted: all of it moves again
part_size=$((24 << 20))
mkdir -p "$W/part-src"
head -c "$part_size" /dev/urandom >"$W/part-src/big"
for side in push pull; do
	what="$side, --partial"
	part=$W/part-$side/.big.pcopy-partial
	rm -rf "$W/part-$side"
	case $side in
	push) ops=("$W/part-src" "lo:$W/part-$side") ;;
	pull) ops=("lo:$W/part-src" "$W/part-$side") ;;
	esac
	setsid env --default-signal=INT TMPDIR="$RTMP" "$PCOPY" -e "$LSH" \
		--remote-pcopy="$RPCOPY" --partial --bwlimit=8M -T "${ops[@]}" >"$T/out" 2>"$T/err" &
	pid=$!
	sleep 1.5
	kill -INT "$pid" 2>/dev/null
	reap_signalled "$pid" 5 "$what"
	[ "$RC" -eq 130 ] || fail "$what: exit $RC after SIGINT, expected 130"
	remote_clean "$what"
	[ ! -e "$W/part-$side/big" ] || fail "$what: the cut file was installed"
	[ -f "$part" ] || fail "$what: no partial kept"
	size=$(stat -c %s "$part")
	[ "$size" -gt 0 ] && [ "$size" -lt "$part_size" ] || fail "$what: a partial of $size bytes"
	[ "$(stat -c %a "$part")" = 600 ] || fail "$what: the partial's mode is $(stat -c %a "$part")"
	cmp -s -n "$size" "$W/part-src/big" "$part" || fail "$what: the partial is not the file's start"
	log "$what: cut with $size of $part_size bytes kept"
	assert_exit 0 rpcopy --partial --delete --stats=json -T "${ops[@]}"
	remote_clean "$what: the re-run"
	copied=$(sed -n 's/.*"bytes_copied":\([0-9]*\).*/\1/p' "$T/out")
	[ "$copied" = $((part_size - size)) ] ||
		fail "$what: the re-run moved '$copied' bytes, not the $((part_size - size)) missing"
	cmp -s "$W/part-src/big" "$W/part-$side/big" || fail "$what: the resumed copy differs"
	no_temporaries "$W/part-$side"
	# partials not of this file: another mtime; its mtime but other bytes
	# (only the hash of its start tells); not taken up, all of it moves
	for stale in mtime bytes; do
		rm "$W/part-$side/big"
		head -c 1000000 /dev/zero >"$part"
		chmod 0600 "$part"
		case $stale in
		mtime) touch -d '2001-01-01' "$part" ;;
		bytes) touch -r "$W/part-src/big" "$part" ;;
		esac
		assert_exit 0 rpcopy --partial --stats=json -T "${ops[@]}"
		remote_clean "$what: a stale partial ($stale)"
		[ "$(sed -n 's/.*"bytes_copied":\([0-9]*\).*/\1/p' "$T/out")" = "$part_size" ] ||
			fail "$what: a partial of another $stale was taken up"
		cmp -s "$W/part-src/big" "$W/part-$side/big" ||
			fail "$what: the copy over a partial of another $stale differs"
		no_temporaries "$W/part-$side"
	done
	# one not owner-only is not ours: left as it is
	rm "$W/part-$side/big"
	head -c 1000000 "$W/part-src/big" >"$part"
	chmod 0644 "$part"
	touch -r "$W/part-src/big" "$part"
	assert_exit 0 rpcopy --partial --stats=json -T "${ops[@]}"
	remote_clean "$what: a partial open to others"
	[ "$(stat -c %a:%s "$part")" = 644:1000000 ] || fail "$what: a partial open to others was used"
	cmp -s "$W/part-src/big" "$W/part-$side/big" || fail "$what: the copy beside another's differs"
done

# DST full: a file whose data cannot be written fails alone, what was
# asked for it is taken off the stream, and the run goes on (many such
# files once ended the run with "the other side sent what was not asked
# for"); root only (a small tmpfs)
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$W/full-src"
	for i in $(seq 1 30); do head -c $((2 << 20)) /dev/urandom >"$W/full-src/f$i"; done
	for side in push pull; do
		what="$side, DST full"
		mnt=$W/full-$side
		mkdir -p "$mnt"
		mount_tmpfs "$mnt" 4m
		case $side in
		push) ops=("$W/full-src" "lo:$mnt/dst") ;;
		pull) ops=("lo:$W/full-src" "$mnt/dst") ;;
		esac
		assert_exit 1 rpcopy --streams=1 "${ops[@]}"
		remote_clean "$what"
		assert_grep "$T/err" "No space left on device"
		! grep -q "not asked for" "$T/err" || fail "$what: $(grep "not asked for" "$T/err")"
		old_or_new "$W/full-src" "$W/full-src" "$mnt/dst" "$what"
		log "$what: $NNEW of 30 files, $(grep -c 'No space' "$T/err") failed"
	done
else
	log "not root: DST full not checked"
fi

# ---- a hostile far end ----
# $T/hostile: a fake `pcopy --server` that answers the HELLO as version 1
# does and then, as the SENDER of a pull or the RECEIVER of a push, says
# what the case in HOSTILE_CASE (or HOSTILE_WANTS) has it say: each
# listing, file frame or request below, before the run would go on as a
# real one does.  It logs in $T/hostile.log a line per frame it reads
# ("frame TYPE", "want ID 'PATH'", "answer ID TYPE [ERRNO]") and keeps
# every byte it reads in $T/hostile.in.  The hashes it sends are the
# XXH3-128 of the bytes it sends, computed by $T/xxh128 (built here from
# xxhash.h, the header pcopy builds with).
cat >"$T/xxh128.c" <<'C'
#define XXH_INLINE_ALL
#include <stdio.h>
#include <xxhash.h>
/* XXH3-128 of stdin, canonical (big-endian), in hex: as copy/hash.c makes it. */
int main(void)
{
	static unsigned char buf[1 << 16];
	XXH3_state_t s;
	XXH128_canonical_t c;
	size_t n;

	XXH3_128bits_reset(&s);
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		XXH3_128bits_update(&s, buf, n);
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&s));
	for (int i = 0; i < 16; i++)
		printf("%02x", c.digest[i]);
	printf("\n");
	return 0;
}
C
"${CC:-cc}" -O1 -o "$T/xxh128" "$T/xxh128.c" || fail "cannot build the XXH3-128 helper"
assert_eq "$(printf '' | "$T/xxh128")" 99aa06d3014798d86001c324468d497f "XXH3-128 of nothing"

cat >"$T/hostile" <<'PY'
#!/usr/bin/env python3
"""A hostile `pcopy --server` (tests/t_remote_faults.sh): see there."""
import os, signal, struct, subprocess, sys

D = os.environ["HOSTILE_DIR"]
sys.path.insert(0, D)
import frames

# remote.h's enum remote_frame
(HELLO, FATAL, OUTPUT, EXIT, ROOT, START, LISTING, WALKED, CREDIT, WANT, FILE, DATA,
 HOLE, END, FAILED, META, METAS, DONE, RENDEZVOUS, JOIN, GROW, SUM) = range(1, 23)
REG, DIR, LNK = 0o100644, 0o40755, 0o120777
DT = {REG: 8, DIR: 4, LNK: 10}
MIB = 1 << 20

with open(D + "/server.pids", "a") as f:
    f.write("%d\n" % os.getpid())
signal.alarm(20)
LOG = open(D + "/hostile.log", "a")
RAW = open(D + "/hostile.in", "ab")

def log(line):
    LOG.write(line + "\n")
    LOG.flush()

def bye():
    LOG.close()
    RAW.close()
    sys.exit(0)

def send(data):
    try:
        while data:
            data = data[os.write(1, data):]
    except BrokenPipeError:
        log("the client closed")
        bye()

def u8(v): return struct.pack("<B", v)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v)
def s(b): return u32(len(b)) + b
def frame(ftype, payload): return frames.frame(ftype, payload)

inbuf = b""
def recv():
    """The next frame read, (type, payload), logged; (None, None) at the end."""
    global inbuf
    while True:
        if len(inbuf) >= 8:
            n, ftype, _ = struct.unpack_from("<IHH", inbuf)
            if len(inbuf) >= 8 + n:
                p = inbuf[8:8 + n]
                inbuf = inbuf[8 + n:]
                if ftype == WANT:
                    i, n = struct.unpack_from("<II", p)
                    log("want %d %r" % (i, p[8:8 + n]))
                else:
                    log("frame %d" % ftype)
                return ftype, p
        data = os.read(0, 1 << 16)
        if not data:
            return None, None
        RAW.write(data)
        RAW.flush()
        inbuf += data

def drain():
    """Read (and log) all the client says until it closes."""
    while recv()[0] is not None:
        pass
    bye()

# --- what a sender says ---
UID, GID, T0 = os.getuid(), os.getgid(), 1600000000
next_ino = [1000]

def stat(mode, size=0, nlink=1, ino=None):
    """remote_conn.h's wire_put_stat"""
    if ino is None:
        next_ino[0] += 1
        ino = next_ino[0]
    return struct.pack("<QQIIIIQQQqIqIqI", 42, ino, mode, nlink, UID, GID, 0, size,
                       (size + 511) // 512, T0, 0, T0, 0, T0, 0)

def entry(name, mode, size=0, meta=b"", **kw):
    """one entry of a LISTING: d_type, name, err 0, stat, meta"""
    return u8(DT[mode]) + s(name) + u32(0) + stat(mode, size, **kw) + s(meta)

def reg(name, size=0, **kw): return entry(name, REG, size, **kw)
def sub(name, **kw): return entry(name, DIR, 4096, nlink=2, **kw)
def lnk(name, target, **kw):
    """a symlink, its target in its meta (core/job.h: part 1, u32 length, NUL)"""
    return entry(name, LNK, len(target), u8(1) + s(target + b"\0"), **kw)

def listing(relpath, entries, count=None):
    """remote_listing.h's LISTING payload"""
    n = len(entries) if count is None else count
    return u32(0) + s(relpath) + u32(0) + u8(0) + u32(n) + b"".join(entries)

def listings(*payloads):
    """LISTING frames, then WALKED"""
    return b"".join(frame(LISTING, p) for p in payloads) + frame(WALKED, u32(0))

def xxh128(data):
    out = subprocess.run([D + "/xxh128"], input=data, stdout=subprocess.PIPE, check=True)
    return bytes.fromhex(out.stdout.decode().strip())

def file_frames(i, content, off=0, data=None, bad_hash=False):
    """FILE, DATA... (from off: data, or content), END: one answer to a WANT"""
    body = content[off:] if data is None else data
    out = frame(FILE, u32(i) + stat(REG, len(content)))
    for at in range(0, len(body), 256 << 10):
        out += frame(DATA, u32(i) + u64(off + at) + body[at:at + (256 << 10)])
    digest = b"\0" * 16 if bad_hash else xxh128(body)
    return out + frame(END, u32(i) + u64(len(body)) + u8(0) + digest)

OUTSIDE = os.fsencode(os.environ.get("HOSTILE_OUTSIDE", "/nonexistent"))
CASE = os.environ.get("HOSTILE_CASE", "")
FILES = {b"f": b"hello", b"d/g": b"", b"sub/x": b"abc", b"x/evil": b"EVIL",
         b"link/evil": b"EVIL", b"h1": b"hi", b"h2": b"hi", b"hs": b"zz",
         b"big": b"B" * (5 * MIB)}
F5 = [reg(b"f", 5)]

# what each case sends after ROOT
AFTER_ROOT = {
    "good": listings(listing(b"", F5 + [sub(b"d")]), listing(b"d", [reg(b"g")])),
    "name-escape": listings(listing(b"", [reg(b"../escape", 5)])),
    "name-slash": listings(listing(b"", [reg(b"a/b", 5)])),
    "name-empty": listings(listing(b"", [reg(b"", 5)])),
    "name-dot": listings(listing(b"", [sub(b".")])),
    "name-dotdot": listings(listing(b"", [sub(b"..")])),
    "name-nul": listings(listing(b"", [reg(b"x\0y", 5)])),
    "name-long": listings(listing(b"", [reg(b"n" * 256, 5)])),
    "relpath-up": listings(listing(b"../x", F5), listing(b"", F5)),
    "relpath-abs": listings(listing(b"/abs", F5), listing(b"", F5)),
    "relpath-inner": listings(listing(b"", [sub(b"d")]), listing(b"d/../../x", F5)),
    "count-short": listings(listing(b"", F5, count=3)),
    "count-huge": listings(listing(b"", [], count=0xffffffff)),
    "xattrs-huge": listings(listing(b"", [reg(b"f", 5, meta=u8(2) + u32(0xffffffff))])),
    "frame-unknown": listings(listing(b"", F5)),
    "symlink-listing": listings(listing(b"", [lnk(b"link", OUTSIDE), sub(b"sub")]),
                                listing(b"link", [reg(b"evil", 4)]),
                                listing(b"sub", [reg(b"x", 3)])),
    "dup-link-dir": listings(listing(b"", [lnk(b"x", OUTSIDE), sub(b"x")]),
                             listing(b"x", [reg(b"evil", 4)])),
    "dup-dir-link": listings(listing(b"", [sub(b"x"), lnk(b"x", OUTSIDE)]),
                             listing(b"x", [reg(b"evil", 4)])),
    "hardlink": listings(listing(b"", [reg(b"h1", 2, nlink=2, ino=77),
                                       reg(b"h2", 2, nlink=2, ino=77)])),
    "hardlink-symlink": listings(listing(b"", [lnk(b"hl", OUTSIDE, nlink=2, ino=88),
                                               reg(b"hs", 2, nlink=2, ino=88)])),
    "data-more": listings(listing(b"", [reg(b"big", 5 * MIB)])),
}
for c in ("hash-wrong", "data-gap", "data-back", "data-unasked"):
    AFTER_ROOT[c] = listings(listing(b"", F5))

def answer(i, rel, off, length):
    """a WANT's answer, as the case has it"""
    content = FILES.get(rel)
    if CASE == "frame-unknown":
        return frame(99, u32(i))
    if content is None:
        return frame(FAILED, u32(i) + u32(2))
    if CASE == "hash-wrong":
        return file_frames(i, content, off, bad_hash=True)
    if CASE == "data-gap":  # its first byte left out
        return file_frames(i, content, off + 1)
    if CASE == "data-back":  # "hel", then "ello" from offset 1
        return (frame(FILE, u32(i) + stat(REG, 5)) + frame(DATA, u32(i) + u64(0) + b"hel") +
                frame(DATA, u32(i) + u64(1) + b"ello") +
                frame(END, u32(i) + u64(7) + u8(0) + xxh128(b"helello")))
    if CASE == "data-more":  # 4 KiB more than the range asked for, its hash right
        return file_frames(i, content, off, data=content[off:off + length][:4 * MIB] + b"M" * 4096)
    body = content[off:off + length]
    return file_frames(i, content, off, data=body)

def sender():
    unasked = CASE == "data-unasked"
    while True:
        ftype, p = recv()
        if ftype is None:
            bye()
        if ftype == START and CASE == "frame-4gib":  # in place of ROOT
            send(struct.pack("<IHH", 0xffffffff, ROOT, 0) + b"x" * 64)
        elif ftype == START and CASE == "root-nometa":  # its meta empty, not "\0"
            send(frame(ROOT, u32(0) + u32(0) + stat(DIR, 4096, 2) + s(b"")))
        elif ftype == START:
            send(frame(ROOT, u32(0) + u32(0) + stat(DIR, 4096, 2) + s(b"\0")))
            send(AFTER_ROOT[CASE])
        elif ftype == WANT:
            i, n = struct.unpack_from("<II", p)
            rel = p[8:8 + n]
            off, length = struct.unpack_from("<QQ", p, 8 + n)
            if unasked:  # 24 MiB of a file never asked for first
                unasked = False
                junk = frame(FILE, u32(0xdead) + stat(REG, 24 * MIB))
                chunk = b"U" * (256 << 10)
                junk += b"".join(frame(DATA, u32(0xdead) + u64(k * len(chunk)) + chunk)
                                 for k in range(96))
                send(junk)
            send(answer(i, rel, off, length))
        elif ftype == DONE:
            send(frame(DONE, b""))
            bye()

# --- what a receiver asks ---
def receiver():
    send(frame(START, u32(0)))
    ftype = 0
    while ftype != ROOT:
        ftype, p = recv()
        if ftype is None:
            bye()
    wants = os.environ["HOSTILE_WANTS"].split("\n")
    for i, path in enumerate(wants, 1):
        kind = WANT
        if path.startswith("sum:"):  # a SUM in its place
            kind, path = SUM, path[4:]
        send(frame(kind, u32(i) + s(os.fsencode(path)) + u64(0) + u64(2**64 - 1)))
        while True:
            ftype, p = recv()
            if ftype is None:
                bye()
            if ftype in (END, FAILED) and struct.unpack_from("<I", p)[0] == i:
                err = " %d" % struct.unpack_from("<i", p, 4)[0] if ftype == FAILED else ""
                log("answer %d %d%s" % (i, ftype, err))
                break
    send(frame(DONE, b""))
    while ftype != DONE:
        ftype, p = recv()
        if ftype is None:
            bye()
    send(frame(EXIT, u32(3)))
    drain()

if CASE == "hello-nargs":  # 2^32-1 arguments, none behind
    send(frame(HELLO, u32(frames.MAGIC) + u32(frames.VERSION) + s(b"pcopy x") + u8(0) +
               u32(0xffffffff)))
else:
    send(frames.hello(frames.VERSION, b"pcopy x"))
ftype, p = recv()
if ftype != HELLO:
    bye()
role = frames.read_hello(p)[3]
if role == 1:
    sender()
else:
    receiver()
PY
chmod 0755 "$T/hostile"

# what a run that writes DIR must leave as it was: every name under $W
# but DIR's, and the contents of the files beside DIR (where the fake's
# symlinks point)
outside_of() {
	(cd "$W" && find . -path "./${1#"$W"/}" -prune -o -printf '%p %y %l\n' | sort)
	find "${1%/*}" -path "$1" -prune -o -type f -exec cksum {} + | sort
}

# one_line WHAT: the run refused with one line, "pcopy: ..." ($T/err);
# else WHAT and its lines are kept in MANY_LINES, and the test fails
# after every case has run (all else about a case fails at once)
MANY_LINES=()
one_line() {
	if [ "$(grep -c '' "$T/err")" -ne 1 ] || ! grep -q '^pcopy: ' "$T/err"; then
		MANY_LINES+=("$1: $(tr '\n' '|' <"$T/err")")
	fi
}

# hostile_pull CASE OUTCOME WHAT [REGEX]: pull from the fake sender saying
# CASE into a fresh DST beside a canary directory (OUTSIDE, the target of
# the fake's symlinks): within seconds; OUTCOME fail: non-zero with one
# line matching REGEX, ok: exit 0, any: either; nothing outside DST
# changed, no temporaries, the far end gone and TMPDIR empty
hostile_pull() {
	local case=$1 outcome=$2 what="hostile sender: $3" re=${4:-.} top=$W/hp-$1 rc=0 t0 took
	mkdir -p "$top/outside"
	echo canary >"$top/outside/canary"
	DST=$top/dst
	outside_of "$DST" >"$T/outside.before"
	: >"$T/hostile.log"
	: >"$T/hostile.in"
	t0=$(now_ms)
	timeout -k 5 30 env TMPDIR="$RTMP" HOSTILE_DIR="$T" HOSTILE_CASE="$case" \
		HOSTILE_OUTSIDE="$top/outside" "$PCOPY" -e "$LSH" --remote-pcopy="$T/hostile" \
		--streams=1 lo:/the/src "$DST" >"$T/out" 2>"$T/err" || rc=$?
	took=$(($(now_ms) - t0))
	case $rc in 124 | 137) fail "$what: still running after 30 s" ;; esac
	[ "$took" -lt 10000 ] || fail "$what: took ${took} ms"
	case $outcome in
	fail)
		[ "$rc" -ne 0 ] || fail "$what: exit 0 (not refused)"
		assert_grep "$T/err" "$re"
		one_line "$what"
		;;
	ok)
		[ "$rc" -eq 0 ] || {
			head -n 5 "$T/err" >&2
			fail "$what: exit $rc"
		}
		;;
	esac
	log "$what: exit $rc in $took ms: $(head -n 1 "$T/err")"
	remote_clean "$what"
	outside_of "$DST" >"$T/outside.after"
	diff "$T/outside.before" "$T/outside.after" >"$T/outside.diff" || {
		head -n 20 "$T/outside.diff" >&2
		fail "$what: written outside DST (< before, > after)"
	}
	[ ! -e "$DST" ] || no_temporaries "$DST"
}

# a well-behaved fake first: what the hostile cases change is all that
# makes them fail
hostile_pull good ok "well-behaved (the fake itself works)"
if [ "$(cat "$DST/f")" != hello ] || [ ! -f "$DST/d/g" ] || [ -s "$DST/d/g" ]; then
	fail "hostile sender, well-behaved: DST is not what the fake sent"
fi

# names and paths a listing must not carry
listing_bad='malformed listing'
hostile_pull name-escape fail "a name '../escape'" "$listing_bad"
hostile_pull name-slash fail "a name 'a/b'" "$listing_bad"
hostile_pull name-empty fail "an empty name" "$listing_bad"
hostile_pull name-dot fail "a directory named '.'" "$listing_bad"
hostile_pull name-dotdot fail "a directory named '..'" "$listing_bad"
hostile_pull name-nul fail "a name with a NUL inside" "$listing_bad"
hostile_pull name-long fail "a name of 256 bytes" "$listing_bad"
hostile_pull relpath-up fail "a listing of '../x'" "$listing_bad"
hostile_pull relpath-abs fail "a listing of '/abs'" "$listing_bad"
hostile_pull relpath-inner fail "a listing of 'd/../../x'" "$listing_bad"
# frames that do not add up
hostile_pull count-short fail "a listing of 3 entries holding 1" "$listing_bad"
hostile_pull count-huge fail "a listing of 2^32-1 entries holding none" "$listing_bad"
hostile_pull xattrs-huge fail "an entry's xattrs of 2^32-1 bytes, none behind" "$listing_bad"
hostile_pull hello-nargs fail "a HELLO of 2^32-1 arguments, none behind"
hostile_pull root-nometa fail "a ROOT without its meta" 'malformed ROOT'
hostile_pull frame-4gib fail "a frame header claiming 4 GiB, in place of ROOT" \
	'connection was lost: Protocol error'
hostile_pull frame-unknown fail "a frame of type 99, in answer to a WANT" "not asked for"

# a symlink out of DST, then a listing "through" it: never asked for, so
# ignored (or refused); nothing is made through it
hostile_pull symlink-listing any "a symlink to OUTSIDE, then a listing of it"
[ -L "$DST/link" ] || log "hostile sender, symlink then listing: no symlink made (refused)"
! grep -q "^want [0-9]* b'link/" "$T/hostile.log" ||
	fail "hostile sender, symlink then listing: the client asked for a file beneath the symlink"
# the same name twice, a symlink out of DST and a directory (either
# order), then a file in that directory
hostile_pull dup-link-dir any "the name 'x' twice: a symlink to OUTSIDE, then a directory"
hostile_pull dup-dir-link any "the name 'x' twice: a directory, then a symlink to OUTSIDE"

# file data
hostile_pull hash-wrong fail "a file whose hash does not match" "damaged"
assert_eq "$(grep -c "^want [0-9]* b'f'$" "$T/hostile.log")" 2 "WANTs of a damaged file (asked once more)"
[ ! -e "$DST/f" ] || fail "hostile sender: a damaged file installed"
hostile_pull data-gap fail "DATA at a later offset than the last ended" "out of order"
hostile_pull data-back fail "DATA at an earlier offset, overlapping" "out of order"
hostile_pull data-unasked fail "24 MiB of DATA for a file never asked for" "not asked for"
[ ! -e "$DST/f" ] || [ "$(cat "$DST/f")" = hello ] || fail "hostile sender: a wrong f installed"
hostile_pull data-more fail "4 KiB more DATA than a range asked for" "changed"
[ ! -e "$DST/big" ] || fail "hostile sender: a file with more data than asked for installed"

# hard links, one of them to a symlink out of DST
hostile_pull hardlink any "two files, one inode"
hostile_pull hardlink-symlink any "a symlink to OUTSIDE and a file, one inode"

# hostile_push WHAT WANT...: push SRC to the fake receiver, which asks
# for each WANT in turn; no byte of the canary file beside SRC (or of
# anything) is sent, the far end gone, TMPDIR empty.  The exit status is
# left in RC.
hostile_push() {
	local what="hostile receiver: $1" wants t0 took
	shift
	wants=$(printf '%s\n' "$@")
	: >"$T/hostile.log"
	: >"$T/hostile.in"
	RC=0
	t0=$(now_ms)
	timeout -k 5 30 env TMPDIR="$RTMP" HOSTILE_DIR="$T" HOSTILE_WANTS="$wants" \
		"$PCOPY" -e "$LSH" --remote-pcopy="$T/hostile" --streams=1 "$psrc" "lo:$W/push-dst" \
		>"$T/out" 2>"$T/err" || RC=$?
	took=$(($(now_ms) - t0))
	case $RC in 124 | 137) fail "$what: still running after 30 s" ;; esac
	[ "$took" -lt 10000 ] || fail "$what: took ${took} ms"
	log "$what: exit $RC in $took ms: $(head -n 1 "$T/err")"
	remote_clean "$what"
	[ -s "$T/hostile.in" ] || fail "$what: the fake kept nothing"
	! grep -aq 'CANARY-c4f3' "$T/hostile.in" || fail "$what: the canary beside SRC was sent"
	! grep -Eq '^frame (11|12|13)$' "$T/hostile.log" || fail "$what: file data was sent"
	[ ! -e "$W/push-dst" ] || fail "$what: DST made"
}
ptop=$W/hpush
psrc=$ptop/src
mkdir -p "$psrc/sub"
echo CANARY-c4f3 >"$ptop/outside-file"
echo plain >"$psrc/f"
echo plain >"$psrc/sub/f"
ln -s "$ptop/outside-file" "$psrc/tofile"
ln -s "$ptop" "$psrc/todir"
for want in ../outside-file "$ptop/outside-file" /etc/passwd sub/../../outside-file sub//f \
	./f sum:../outside-file sum:/etc/passwd; do
	hostile_push "a WANT for '$want'" "$want"
	[ "$RC" -ne 0 ] || fail "hostile receiver, a WANT for '$want': exit 0 (not refused)"
	assert_grep "$T/err" 'WANT for a path outside SRC'
	one_line "hostile receiver, a WANT for '$want'"
done
# well-formed paths that lead out of SRC through its symlinks: not
# followed (FAILED), the run goes on to the fake's EXIT 3
hostile_push "WANTs through SRC's symlinks" tofile todir/outside-file
assert_eq "$RC" 3 "hostile receiver, WANTs through symlinks: exit status (the fake's EXIT)"
assert_eq "$(grep -c '^answer [12] 15 ' "$T/hostile.log")" 2 \
	"hostile receiver, WANTs through symlinks: FAILED answers"
if [ "${#MANY_LINES[@]}" -gt 0 ]; then
	printf '%s\n' "${MANY_LINES[@]}" >&2
	fail "${#MANY_LINES[@]} hostile cases refused, but not with one line on stderr (above)"
fi
exit 0
