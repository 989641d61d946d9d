#!/bin/sh
# apt-install.sh WHO PACKAGE... - install Debian packages that a make target
# (WHO: "make", "make check", "make fuzz") needs, when we are root and have
# apt-get.  Exit 0 once they are installed; 1 when we are not root or have
# no apt-get (nothing is tried: the caller prints the command to run), or
# when apt-get failed (said on stderr).  tests/ensure-deps.sh and
# tests/ensure-build-deps.sh share it so that both wait for the package
# lock the same way.
set -u

who=$1
shift
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || exit 1

echo "$who: installing: $*"
export DEBIAN_FRONTEND=noninteractive
# Another install may hold the package locks: wait for it (up to
# 10 minutes) rather than fail.  apt-get update has no lock timeout of
# its own, so it is retried.
tries=0
until apt-get update -qq >/dev/null 2>&1; do
	tries=$((tries + 1))
	[ "$tries" -ge 60 ] && break
	echo "$who: apt-get update failed (package lock held?); retrying" >&2
	sleep 10
done
apt-get install -y -qq -o DPkg::Lock::Timeout=600 "$@" >/dev/null && exit 0
echo "$who: apt-get install failed" >&2
exit 1
