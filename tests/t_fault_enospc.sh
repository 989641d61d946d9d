#!/bin/bash
# ENOSPC: 4,000 small files (~120 MB) copied into a 2 MiB tmpfs, and a small
# tree into a tmpfs with 16 inodes.  pcopy must report the entries that did
# not fit ("No space left on device"), exit 1, and leave in DST only complete
# files identical to their source: no partial file, no temporary, no stray
# entry, no process.  Both worker modes.  Root only (mounts).
. "$(dirname "$0")/lib.sh"
need_pcopy
need_root
need_cmd python3

# SRC trees live on a tmpfs too, so that the test does not depend on the disk
use_tmpfs 512m
big=$W/big
python3 - "$big" <<'EOF'
import os, sys
top = sys.argv[1]
blob = os.urandom(34000)
for d in range(40):
    os.makedirs(f"{top}/d{d:02}")
    for i in range(100):
        n = d * 100 + i
        with open(f"{top}/d{d:02}/f{i:03}", "wb") as f:
            f.write(n.to_bytes(4, "little") + blob[n % 4000:n % 4000 + 29996])
EOF
small=$W/small
for d in 1 2 3 4 5; do
	mkdir -p "$small/dir$d"
	for i in $(seq 20); do
		printf 'file %s/%s\n' "$d" "$i" >"$small/dir$d/file$i"
	done
done

for mode in process thread; do
	# data blocks run out; with O_TMPFILE and with named temporaries
	for force in "" no_tmpfile; do
		mnt=$T/full-$mode${force:+-$force}
		mkdir "$mnt"
		mount_tmpfs "$mnt" 2m
		assert_exit 1 timeout -k 5 120 env ${force:+PCOPY_FORCE=$force} \
			"$PCOPY" --mode="$mode" -j 4 "$big" "$mnt/dst"
		assert_grep "$T/err" "^pcopy: '$(re_quote "$mnt/dst")/.+': No space left on device$"
		check_messages "$T/err"
		check_subset "$big" "$mnt/dst"
		no_process_left
		log "$mode${force:+ $force}, 2 MiB: $NFILES of 4000 files copied, $(wc -l <"$T/err") errors"
	done

	# inodes run out
	mnt=$T/inodes-$mode
	mkdir "$mnt"
	mount_tmpfs "$mnt" size=64m,nr_inodes=16
	assert_exit 1 timeout -k 5 60 "$PCOPY" --mode="$mode" -j 4 "$small" "$mnt/dst"
	assert_grep "$T/err" "^pcopy: '$(re_quote "$mnt/dst")/.+': No space left on device$"
	check_messages "$T/err"
	check_subset "$small" "$mnt/dst"
	no_process_left
	log "$mode, 16 inodes: $NFILES of 100 files copied"
done
exit 0
