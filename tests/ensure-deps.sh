#!/bin/sh
# Make sure what `make check` needs is installed: the Check library (with
# pkg-config to find it) is required; python3, setfacl/setfattr, strace
# and rsync (the reference some tests compare with) are used by some tests,
# which skip those parts without them, and Open MPI (mpicc, mpirun) by
# t_mpi, which skips without it (make builds pcopy-mpi when mpicc is
# there); OpenSSH (ssh, ssh-keygen, sshd) by the remote-copy tests, which
# run a private sshd on loopback and skip without it.  As root with apt-get
# we install what is missing (tests/apt-install.sh); otherwise we print the
# exact command and, if Check itself is missing, stop.
set -u

missing=""
if ! command -v pkg-config >/dev/null 2>&1; then
	missing="$missing pkg-config check"
elif ! pkg-config --exists check; then
	missing="$missing check"
fi
optional=""
command -v python3 >/dev/null 2>&1 || optional="$optional python3"
command -v setfacl >/dev/null 2>&1 || optional="$optional acl"
command -v setfattr >/dev/null 2>&1 || optional="$optional attr"
command -v cmp >/dev/null 2>&1 || optional="$optional diffutils"
command -v setpriv >/dev/null 2>&1 || optional="$optional util-linux"
command -v rsync >/dev/null 2>&1 || optional="$optional rsync"
command -v strace >/dev/null 2>&1 || optional="$optional strace"
command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1 ||
	optional="$optional openmpi-bin libopenmpi-dev"
command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 ||
	optional="$optional openssh-client"
# sshd lives in /usr/sbin, often not in a user's PATH.
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || optional="$optional openssh-server"

[ -z "$missing$optional" ] && exit 0

here=$(dirname "$0")
sh "$here/apt-install.sh" "make check" $missing $optional && exit 0
if [ -n "$missing" ]; then
	echo "make check needs the Check unit-test library. Install it with:" >&2
	echo "    sudo apt-get install$missing$optional" >&2
	exit 1
fi
echo "make check: optional tools missing ($optional); some tests will skip." >&2
echo "    sudo apt-get install$optional" >&2
exit 0
