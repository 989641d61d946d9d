#!/bin/sh
# ensure-build-deps.sh [fuzz] - make sure what compiling pcopy needs is
# installed, before make compiles anything.
#
# Without an argument: xxhash.h (Debian's header-only libxxhash-dev; there
# is no library to link).  The Makefile runs this only when $XXHASH_H
# (default /usr/include/xxhash.h) is not there, so a build with the header
# costs one test -f.  With "fuzz": clang ($FUZZ_CC) and its libFuzzer
# runtime, for make fuzz.
#
# As root with apt-get we install what is missing (tests/apt-install.sh,
# which waits for the package lock); otherwise we print the exact command
# and stop.  Exit 0 when everything is there.
set -u

here=$(dirname "$0")

# Can $FUZZ_CC build and link a libFuzzer target with the sanitizers?
fuzzer_links()
{
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-fuzzcheck.XXXXXX") || return 1
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
		>"$tmp/t.c"
	"$FUZZ_CC" -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" >/dev/null 2>&1
	rc=$?
	rm -rf "$tmp"
	return $rc
}

# The package that brings libFuzzer to $FUZZ_CC: for a clang, its runtime
# (Debian 12: libclang-rt-14-dev, which clang only recommends); for another
# compiler, clang itself.
fuzzer_package()
{
	if ! "$FUZZ_CC" --version 2>/dev/null | grep -q clang; then
		echo clang
		return
	fi
	major=$("$FUZZ_CC" -dumpversion 2>/dev/null | cut -d. -f1)
	echo "libclang-rt-${major:-14}-dev"
}

ensure_xxhash()
{
	XXHASH_H=${XXHASH_H:-/usr/include/xxhash.h}
	[ -f "$XXHASH_H" ] && return 0
	sh "$here/apt-install.sh" make libxxhash-dev && [ -f "$XXHASH_H" ] && return 0
	echo "make: pcopy needs xxhash.h ($XXHASH_H is missing). Install it with:" >&2
	echo "    sudo apt-get install libxxhash-dev" >&2
	echo "(or, if it is installed elsewhere: make XXHASH_H=/path/to/xxhash.h)" >&2
	return 1
}

ensure_fuzzer()
{
	FUZZ_CC=${FUZZ_CC:-clang}
	if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
		echo "make fuzz: $FUZZ_CC is missing" >&2
		sh "$here/apt-install.sh" "make fuzz" clang
	fi
	if command -v "$FUZZ_CC" >/dev/null 2>&1 && ! fuzzer_links; then
		echo "make fuzz: $FUZZ_CC cannot link a libFuzzer target" >&2
		sh "$here/apt-install.sh" "make fuzz" "$(fuzzer_package)"
	fi
	command -v "$FUZZ_CC" >/dev/null 2>&1 && fuzzer_links && return 0
	echo "make fuzz needs clang with libFuzzer. Install it with:" >&2
	if command -v "$FUZZ_CC" >/dev/null 2>&1; then
		echo "    sudo apt-get install $(fuzzer_package)" >&2
	else
		echo "    sudo apt-get install clang" >&2
	fi
	return 1
}

case ${1:-} in
"") ensure_xxhash ;;
fuzz) ensure_fuzzer ;;
*)
	echo "usage: $0 [fuzz]" >&2
	exit 2
	;;
esac
