#!/bin/bash
# A directory whose mode SRC has narrowed is narrowed in DST before anything
# new is written in it: src/private was 755 when copied, then became 700 and
# got a new file; during the --update=changed run over ~2,500 other files
# (before private, in it and after it), a watcher running as uid 65534 keeps
# reading dst/private/new and must never get its content.  At the end
# dst/private is 700 and holds new.  Thread and process mode, and pcopy-mpi
# on 3 ranks when it is built.  Root only (setpriv to become uid 65534).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_root
need_cmd setpriv python3 cc
use_tmpfs 256m
chmod 0755 "$T" "$W"
as_nobody test -x "$W" || skip "uid 65534 cannot reach $W (set TMPDIR to a world-searchable dir)"

# where the watcher says it is ready and learns when to stop
sig=$T/watch
mkdir -m 1777 "$sig"

# the watcher: as uid 65534, read file $1 over and over until $2 exists,
# counting the reads that get its content; creates $3 once running; prints
# "HITS TRIES"
cat >"$T/watch.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	long hits = 0, tries = 0;
	char buf[64];
	int fd;

	if (argc != 4)
		return 2;
	fd = open(argv[3], O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return 2;
	close(fd);
	while (access(argv[2], F_OK) != 0) {
		tries++;
		fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (strstr(buf, "SECRET"))
				hits++;
		}
	}
	printf("%ld %ld\n", hits, tries);
	return 0;
}
C
cc -O2 -o "$T/watcher" "$T/watch.c" || fail "cannot build the watcher"
chmod 755 "$T/watcher"

# make_tree DIR: a/ and z/ with 1,000 files each, private/ with 500 and old
make_tree() {
	python3 - "$1" <<'PY'
import os, sys
top = sys.argv[1]
for d, n in (("a", 1000), ("private", 500), ("z", 1000)):
    os.makedirs(f"{top}/{d}")
    for i in range(n):
        with open(f"{top}/{d}/f{i:04}", "w") as f:
            f.write(f"{d} {i}\n")
with open(f"{top}/private/old", "w") as f:
    f.write("old\n")
PY
	chmod 755 "$1" "$1/a" "$1/private" "$1/z"
}

set_kinds default
for kind in "${KINDS[@]}"; do
	top=$W/$kind
	src=$top/src dst=$top/dst
	mkdir "$top"
	make_tree "$src"
	kind_ok "$kind" -T "$src" "$dst"
	assert_eq "$(stat -c %a "$dst/private")" 755 "$kind: dst/private before (setup)"

	chmod 700 "$src/private"
	echo SECRET >"$src/private/new"
	chmod 644 "$src/private/new"
	# every other file changed: the run copies them all again
	find "$src" -type f ! -name new -exec touch -d '2030-01-01 00:00:00' {} +

	rm -f "$sig/stop" "$sig/ready"
	as_nobody "$T/watcher" "$dst/private/new" "$sig/stop" "$sig/ready" \
		>"$T/watch.out" 2>"$T/watch.err" &
	watcher=$!
	for _ in $(seq 100); do
		[ -e "$sig/ready" ] && break
		sleep 0.05
	done
	[ -e "$sig/ready" ] || {
		kill "$watcher"
		fail "$kind: the watcher did not start: $(cat "$T/watch.err")"
	}
	rc=0
	run_kind "$kind" -T --update=changed "$src" "$dst" >"$T/out" 2>"$T/err" || rc=$?
	touch "$sig/stop"
	wait "$watcher" || fail "$kind: the watcher failed: $(cat "$T/watch.err")"
	read -r hits tries <"$T/watch.out"
	log "$kind: the watcher read dst/private/new $hits times in $tries tries"
	[ "$rc" -eq 0 ] || fail "$kind: exit status $rc: $(head -n 5 "$T/err")"
	[ "$tries" -gt 0 ] || fail "$kind: the watcher never tried"
	[ "$hits" -eq 0 ] ||
		fail "$kind: uid 65534 read dst/private/new $hits times during the run (of $tries tries)"
	assert_eq "$(stat -c %a "$dst/private")" 700 "$kind: dst/private mode at the end"
	assert_eq "$(cat "$dst/private/new")" SECRET "$kind: dst/private/new"
	treecmp "$src" "$dst"
	no_temporaries "$dst"
	remove_tree "$top"
done
exit 0
