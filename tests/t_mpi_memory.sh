#!/bin/bash
# pcopy-mpi's memory stays flat as the tree grows: a copy of 200,000 empty
# files at -np 3 against one of 20,000 of the same shape (--stats=json's
# per_rank peak_rss_kib, each rank's getrusage maximum):
#   - rank 0's peak is at most 1.2 times what it is on the small tree, and
#     so is every other rank's;
#   - every rank stays under 32 MiB;
#   - both copies are complete (treecmp).
# Not a timing test: only memory is checked.  Under a sanitizer the copy is
# checked but not the memory (ASan's shadow and quarantine grow with what
# is allocated, not with what is held).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_root
need_cmd python3
mpi_usable || skip "pcopy-mpi cannot run here"

use_tmpfs 256m
[ "${W:-}" = "$T/fs" ] || skip "no tmpfs for the trees"

# make_tree DIR SUBDIRS: 50 directories of SUBDIRS directories of 100
# empty files each
make_tree() {
	python3 - "$1" "$2" <<'PY'
import os, sys
root, sub = sys.argv[1], int(sys.argv[2])
for t in range(50):
    for d in range(sub):
        path = os.path.join(root, f"t{t}", f"d{d}")
        os.makedirs(path)
        for f in range(100):
            open(os.path.join(path, f"f{f}"), "w").close()
PY
}

# peaks STATS: each rank's peak RSS in KiB, one line
peaks() {
	python3 - "$1" <<'PY'
import json, sys
st = json.loads(next(l for l in open(sys.argv[1]) if l.startswith("{")))
print(" ".join(str(r["peak_rss_kib"]) for r in st["per_rank"]))
PY
}

make_tree "$W/small" 4
make_tree "$W/large" 40
for tree in small large; do
	kind_ok mpi --stats=json "$W/$tree" "$W/$tree-copy"
	cp "$T/out" "$T/stats-$tree"
	treecmp "$W/$tree" "$W/$tree-copy"
	rm -rf "$W/$tree-copy"
done
log "peak RSS (KiB) by rank: 20,000 files: $(peaks "$T/stats-small");" \
	"200,000 files: $(peaks "$T/stats-large")"

if [ -n "${SAN:-}" ]; then
	log "SAN=$SAN: memory not checked"
	exit 0
fi
python3 - "$T/stats-small" "$T/stats-large" <<'PY' || fail "pcopy-mpi's memory grows with the tree"
import json, sys
small, large = ([r["peak_rss_kib"] for r in json.loads(next(
    l for l in open(f) if l.startswith("{")))["per_rank"]] for f in sys.argv[1:3])
assert all(k > 0 for k in small + large), (small, large)
for rank, (a, b) in enumerate(zip(small, large)):
    assert b <= 1.2 * a, f"rank {rank}: {a} KiB on 20,000 files, {b} KiB on 200,000"
    assert b < 32 * 1024, f"rank {rank}: {b} KiB on 200,000 files"
PY
