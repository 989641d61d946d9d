#!/bin/bash
# Copies over a real ssh: a private sshd on a free loopback port (throw-away
# host and user keys, its own sshd_config, root logging in by key only),
# `pcopy -e "ssh -p PORT -i KEY ..." --remote-pcopy=$PCOPY`:
#   - the full-fidelity tree (less its part deeper than PATH_MAX, which
#     t_remote.sh takes) pushed to root@127.0.0.1 and pulled back,
#     default streams and --streams=4 (each stream its own ssh), identical
#     to SRC entry by entry; a re-run with -i --update=changed prints
#     nothing and writes nothing;
#   - [::1]:PATH, when the loopback has IPv6: the brackets are pcopy's,
#     ssh is given ::1;
#   - a far pcopy of a version that is not there (--remote-pcopy=/no/such)
#     fails within seconds with a message.
# The far side is a login (root's home, a login's environment): every path
# given is absolute.  Skips, saying why, when not root, or without sshd,
# ssh or ssh-keygen.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_root
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || skip "no $SSHD"
need_cmd ssh ssh-keygen
use_tmpfs 1g

K=$T/ssh
mkdir -m 0700 "$K"
ssh-keygen -q -t ed25519 -N '' -f "$K/host_key" -C pcopy-test-host >/dev/null ||
	fail "ssh-keygen (host key) failed"
ssh-keygen -q -t ed25519 -N '' -f "$K/user_key" -C pcopy-test-user >/dev/null ||
	fail "ssh-keygen (user key) failed"
cp "$K/user_key.pub" "$K/authorized_keys"

# a free TCP port on 127.0.0.1 (the kernel's choice, released at once)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) ||
	port=$((20000 + RANDOM % 20000))
v6=0
grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null && v6=1

{
	echo "Port $port"
	echo "ListenAddress 127.0.0.1"
	[ "$v6" = 1 ] && echo "ListenAddress ::1"
	echo "HostKey $K/host_key"
	echo "AuthorizedKeysFile $K/authorized_keys"
	echo "PidFile $K/sshd.pid"
	echo "PermitRootLogin prohibit-password"
	echo "PubkeyAuthentication yes"
	echo "PasswordAuthentication no"
	echo "KbdInteractiveAuthentication no"
	echo "StrictModes no"
	echo "UsePAM no"
	echo "UseDNS no"
	echo "X11Forwarding no"
	echo "PrintMotd no"
	echo "MaxStartups 100"
	echo "MaxSessions 100"
	echo "LogLevel ERROR"
} >"$K/sshd_config"
sshd_pid='' made_run_sshd=0
# shellcheck disable=SC2317 # run by the EXIT trap
stop_sshd() {
	if [ -n "$sshd_pid" ]; then
		kill "$sshd_pid" 2>/dev/null
		wait_gone "$sshd_pid" 5 || kill -KILL "$sshd_pid" 2>/dev/null
		wait "$sshd_pid" 2>/dev/null
	fi
	[ "$made_run_sshd" = 1 ] && rmdir /run/sshd 2>/dev/null
	return 0
}
trap 'stop_sshd; cleanup' EXIT

if ! "$SSHD" -t -f "$K/sshd_config" >"$T/sshd-t.err" 2>&1; then
	# the privilege separation directory is the system service's to make
	if grep -q 'privilege separation directory' "$T/sshd-t.err" && [ ! -e /run/sshd ]; then
		mkdir -m 0755 /run/sshd && made_run_sshd=1
	fi
	"$SSHD" -t -f "$K/sshd_config" >"$T/sshd-t.err" 2>&1 || {
		cat "$T/sshd-t.err" >&2
		fail "sshd -t refuses the test's config"
	}
fi

# -D: in the foreground, a child of this shell; -e: its log on stderr
"$SSHD" -D -e -f "$K/sshd_config" 2>"$T/sshd.log" &
sshd_pid=$!

SSH="ssh -F /dev/null -p $port -i $K/user_key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5"
# shellcheck disable=SC2086 # SSH is words on purpose, as pcopy -e splits it
ssh_ok() {
	$SSH "$@"
}

# the port answers and a login runs a command
up=0
for _ in $(seq 50); do
	alive "$sshd_pid" || break
	if ssh_ok root@127.0.0.1 true 2>"$T/ssh.err"; then
		up=1
		break
	fi
	sleep 0.1
done
if [ "$up" = 0 ]; then
	cat "$T/sshd.log" "$T/ssh.err" >&2
	fail "sshd on 127.0.0.1:$port did not let root in within 5 s"
fi
# (what a login sees: its home; pcopy is given every path absolute)
log "ssh root@127.0.0.1:$port up; the far side's home: $(ssh_ok root@127.0.0.1 pwd)"

R=(-e "$SSH" --remote-pcopy="$PCOPY")

# snapshot DIR: what a re-run must not change
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %U:%G %T@ %C@ %i %n\n' | sort)
}

src=$W/src
make_fidelity_tree "$src"
# (its part deeper than PATH_MAX is t_remote.sh's: paths may cross only
# shorter than that, src/transport/remote.h)
remove_tree "$src/deep"
for streams in "" 4; do
	tag="ssh${streams:+, --streams=$streams}"
	sopt=(${streams:+"--streams=$streams"})
	assert_exit 0 timeout -k 5 120 "$PCOPY" "${R[@]}" "${sopt[@]}" "$src" "root@127.0.0.1:$W/push"
	treecmp "$src" "$W/push"
	no_temporaries "$W/push"
	assert_exit 0 timeout -k 5 120 "$PCOPY" "${R[@]}" "${sopt[@]}" "root@127.0.0.1:$src" "$W/pull"
	treecmp "$src" "$W/pull"
	no_temporaries "$W/pull"
	for side in push pull; do
		case $side in
		push) ops=("$src" "root@127.0.0.1:$W/push") ;;
		pull) ops=("root@127.0.0.1:$src" "$W/pull") ;;
		esac
		before=$(snapshot "$W/$side")
		sleep 0.02
		assert_exit 0 timeout -k 5 120 "$PCOPY" "${R[@]}" "${sopt[@]}" -T -i --update=changed "${ops[@]}"
		assert_empty "$T/out"
		assert_eq "$(snapshot "$W/$side")" "$before" "$tag: $side DST after a re-run"
	done
	remove_tree "$W/push"
	remove_tree "$W/pull"
done

# IPv6: the brackets are pcopy's; ssh is given ::1
mkdir -p "$W/small/sub"
echo v6 >"$W/small/sub/f"
find "$W/small" -exec touch -d '2011-02-03 04:05:06.123456789' {} +
if [ "$v6" = 1 ]; then
	assert_exit 0 timeout -k 5 60 "$PCOPY" "${R[@]}" "$W/small" "root@[::1]:$W/v6-push"
	treecmp "$W/small" "$W/v6-push"
	assert_exit 0 timeout -k 5 60 "$PCOPY" "${R[@]}" "[::1]:$W/small" "$W/v6-pull"
	treecmp "$W/small" "$W/v6-pull"
else
	log "no IPv6 loopback: skipping [::1]:PATH"
fi

# no pcopy at the far end
rc=0
timeout -k 5 30 "$PCOPY" -e "$SSH" --remote-pcopy=/no/such/pcopy "$W/small" \
	"root@127.0.0.1:$W/none" >"$T/out" 2>"$T/err" || rc=$?
case $rc in
0) fail "a missing far pcopy: exit 0" ;;
124 | 137) fail "a missing far pcopy: still running after 30 s" ;;
esac
[ -s "$T/err" ] || fail "a missing far pcopy: exit $rc and no message"
[ ! -e "$W/none" ] || fail "a missing far pcopy: DST made"
exit 0
