#!/bin/bash
# The folders of src/ are layers (src/README.md draws them): a file may
# include headers of its own folder and of the folders below it, never of
# one above, so that the flow between concerns runs one way.  Fails, naming
# each file and the header it should not include, when one reaches up.
# Checks the tree at $1 (default: the sources under test).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

# lowest first
LAYERS=(base core report walk copy dst sync run transport cli)

src=${1:-$SRCDIR/src}
[ -d "$src" ] || fail "no source tree at $src"

# the rank of folder $1 in LAYERS, or -1
rank_of() {
	local i
	for i in "${!LAYERS[@]}"; do
		[ "${LAYERS[i]}" = "$1" ] && echo "$i" && return
	done
	echo -1
}

bad=0
for f in "$src"/*/*.[ch]; do
	folder=$(basename "$(dirname "$f")")
	mine=$(rank_of "$folder")
	[ "$mine" -ge 0 ] || {
		log "$f: folder '$folder' is not a layer of src/ (add it to LAYERS and src/README.md)"
		bad=1
		continue
	}
	while IFS= read -r header; do
		other=${header%%/*}
		[ "$other" != "$header" ] || {
			log "$f: includes \"$header\", not \"folder/file.h\""
			bad=1
			continue
		}
		theirs=$(rank_of "$other")
		if [ "$theirs" -lt 0 ] || [ "$theirs" -gt "$mine" ]; then
			log "$f: includes \"$header\", from a layer above $folder"
			bad=1
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
[ "$bad" -eq 0 ] || fail "includes reach up a layer (lowest first: ${LAYERS[*]})"
exit 0
