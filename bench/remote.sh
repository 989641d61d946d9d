# shellcheck shell=bash
# remote.sh -- the remote rows: pcopy SRC HOST:DST (and HOST:SRC DST) over
# a real ssh, against rsync -a -e, tar | ssh and scp -rp through the same
# ssh.  As root it starts a private sshd on 127.0.0.1, on a free port, with
# throw-away host and user keys in a temporary directory (killed and
# removed at exit; /run/sshd, which sshd needs, is made if missing and
# left, as other sshds may use it); the cipher is OpenSSH's default, and
# the table says which was negotiated.  Every command gets the same rsh:
#
#   ssh -p PORT -i KEY -o StrictHostKeyChecking=no
#       -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR
#
# and the far pcopy is this build (--remote-pcopy=$PCOPY).  Blocks, each
# alternating its commands within every one of RUNS rounds, medians, the
# first run of each command checked (DST like SRC), DST on the work
# directory's tmpfs beside the other rows:
#
#   start-up  RSH -n HOST true (-n: ssh's standard input is not the bench's)
#   push      the small tree into a fresh DST: pcopy (default --streams),
#             pcopy --streams=1, rsync -a -e RSH, tar -cf - | RSH HOST
#             'mkdir -p D && tar -C D -xf -'
#   pull      HOST:small into a fresh local DST: pcopy, rsync -a
#   no-op     a re-run over a copy pcopy made: pcopy -T --update=changed
#             --delete, rsync -a --delete
#   1%        the same two after 1% of the files (every 100th) were
#             rewritten with new content, of another size each run (untimed,
#             in a copy of the small tree)
#   RTT       the small push by pcopy through tests/tools/slowlink around
#             the same ssh (SLOWLINK_RSH), with no delay and with
#             REMOTE_RTT_MS more round trip (half of it each way)
#   big       the big tree (mktrees.sh's, the one copy.sh uses: 4 x 512 MiB,
#             QUICK 2 x 256 MiB) into a fresh DST: pcopy, pcopy
#             --streams=1, rsync -a, scp -rp, tar | ssh
#
# then the most frequent lines the commands wrote on stderr (a stream
# pcopy could not open, say), and the targets of the remote copies beside
# this run's ratios.  sshd_config: ListenAddress, Port, HostKey,
# AuthorizedKeysFile, PermitRootLogin prohibit-password, StrictModes no,
# UsePAM no, PidFile, MaxStartups 100, and Subsystem sftp internal-sftp
# (scp speaks SFTP since OpenSSH 9.0); nothing about ciphers.  Needs
# root, /usr/sbin/sshd (openssh-server), ssh and ssh-keygen
# (openssh-client), else skipped with a line saying what is missing;
# rsync, scp and python3 (slowlink) rows are skipped, saying so, when
# missing.  BENCH_REMOTE=0 skips it, and QUICK runs it only with
# BENCH_REMOTE=1.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

remote_on=0    # 1: the rows are to run (remote_commands found what they need)
remote_skip='' # why they did not, found when they were to run
remote_host=127.0.0.1
remote_dir='' remote_pid='' remote_port='' remote_cipher='' remote_ssh_version=''
remote_rsh=() remote_rsh_s='' remote_streams=''
remote_rsync=0 remote_scp=0 remote_tar=0 remote_slow=0
remote_rtt=${REMOTE_RTT_MS:-20}
remote_blocks=() # the tags run, in order, for the table
remote_log_at=0  # the log's lines before the remote rows
declare -A remote_kinds remote_title remote_bytes remote_files

# remote_commands: whether the rows run; what is left out goes to the table
# header's skipped lines, as in scale.sh.
remote_commands() {
	local why='' miss=() p
	if ! knob BENCH_REMOTE 0 1; then
		why=$(qf 'not in QUICK (BENCH_REMOTE=1 runs them)' 'BENCH_REMOTE=0')
	elif [ "$(id -u)" != 0 ]; then
		why='not root (they start a private sshd on 127.0.0.1)'
	else
		[ -x /usr/sbin/sshd ] || miss+=("/usr/sbin/sshd (openssh-server)")
		for p in ssh ssh-keygen; do
			command -v "$p" >/dev/null 2>&1 || miss+=("$p (openssh-client)")
		done
		if ((${#miss[@]} > 0)); then
			why="not installed: ${miss[*]}"
		elif [ ! -x "$pcopy" ]; then
			why="pcopy not built at $pcopy (make pcopy)"
		elif ! "$pcopy" --help 2>/dev/null | grep -q -- --remote-pcopy; then
			why="this pcopy has no remote copies (no --remote-pcopy in its --help)"
		elif [[ $pcopy == *[[:space:]]* ]]; then
			why="the path of pcopy has blanks, which --rsh and the remote command split at: $pcopy"
		fi
	fi
	if [ -n "$why" ]; then
		skipped+=("remote rows (pcopy over ssh): $why")
		return
	fi
	remote_on=1
	remote_streams=$("$pcopy" --help | sed -n 's/.*--streams=N.*(default \([0-9]*\)).*/\1/p')
	command -v tar >/dev/null 2>&1 && remote_tar=1 ||
		skipped+=("remote: tar|ssh rows: tar not installed")
	command -v rsync >/dev/null 2>&1 && remote_rsync=1 ||
		skipped+=("remote: rsync rows: rsync not installed")
	command -v scp >/dev/null 2>&1 && remote_scp=1 ||
		skipped+=("remote: scp -rp row: scp not installed (openssh-client)")
	if ! command -v python3 >/dev/null 2>&1; then
		skipped+=("remote: added round-trip rows: python3 not installed (tests/tools/slowlink)")
	elif [ ! -x "$top/tests/tools/slowlink" ]; then
		skipped+=("remote: added round-trip rows: no $top/tests/tools/slowlink")
	elif [[ $top == *[[:space:]]* ]]; then
		skipped+=("remote: added round-trip rows: the path of slowlink has blanks: $top")
	else
		remote_slow=1
	fi
}

# remote_kib: what the remote rows add to the tmpfs (lib.sh's tmpfs_kib),
# in KiB: nothing when the trees they copy are made for the main table
# (its room covers their copies, one block at a time), else those trees
# and their copies (small: the tree, a changing copy, its DST).
remote_kib() {
	local t kib sum=0
	if ! knob BENCH_REMOTE 0 1 || [ "$(id -u)" != 0 ]; then
		echo 0
		return
	fi
	while read -r t kib; do
		[[ " $trees " == *" $t "* ]] && continue
		sum=$((sum + kib * $([ "$t" = small ] && echo 3 || echo 2)))
	done < <(bash "$here/mktrees.sh" --kib small big)
	echo "$sum"
}

# The private sshd.
remote_free_port() {
	local p i
	if [ -n "$py" ]; then
		"$py" -S -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' &&
			return
	fi
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	return 1
}

remote_stop() {
	if [ -n "$remote_pid" ]; then
		kill "$remote_pid" 2>/dev/null
		wait "$remote_pid" 2>/dev/null
		remote_pid=
	fi
	[ -n "$remote_dir" ] && rm -rf "$remote_dir"
	remote_dir=
}

# remote_start: the keys, sshd_config and sshd; sets remote_rsh (an array)
# and remote_rsh_s (the same, one string for -e), remote_cipher.  Returns 1
# with remote_skip set when no ssh session could be opened.
remote_start() {
	local d i cfg
	# The keys' paths go into -e, which pcopy splits at blanks: a directory
	# of our own under /tmp, not the work directory (BENCH_DIR may have any
	# name).
	remote_dir=$(mktemp -d /tmp/pcopy-bench-ssh.XXXXXX) || {
		remote_skip="cannot create a temporary directory for the keys"
		return 1
	}
	cleanup_hooks+=(remote_stop)
	d=$remote_dir
	if ! ssh-keygen -q -t ed25519 -N '' -C pcopy-bench-host -f "$d/host_key" >>"$log" 2>&1 ||
		! ssh-keygen -q -t ed25519 -N '' -C pcopy-bench-user -f "$d/user_key" >>"$log" 2>&1; then
		remote_skip="ssh-keygen failed (see $log)"
		return 1
	fi
	cp "$d/user_key.pub" "$d/authorized_keys"
	# sshd refuses to start without its privilege separation directory;
	# made if missing and never removed, since other sshds may use it.
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd 2>/dev/null
	for _ in 1 2 3; do
		remote_port=$(remote_free_port) || break
		cfg=$d/sshd_config
		# Subsystem sftp: scp speaks SFTP since OpenSSH 9.0.
		cat >"$cfg" <<-EOF
			ListenAddress $remote_host
			Port $remote_port
			HostKey $d/host_key
			AuthorizedKeysFile $d/authorized_keys
			PermitRootLogin prohibit-password
			StrictModes no
			UsePAM no
			PidFile $d/sshd.pid
			MaxStartups 100
			Subsystem sftp internal-sftp
		EOF
		/usr/sbin/sshd -D -e -f "$cfg" </dev/null >/dev/null 2>>"$d/sshd.log" &
		remote_pid=$!
		remote_rsh=(ssh -p "$remote_port" -i "$d/user_key" -o StrictHostKeyChecking=no
			-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
		remote_rsh_s="${remote_rsh[*]}"
		for ((i = 0; i < 50; i++)); do
			kill -0 "$remote_pid" 2>/dev/null || break
			if "${remote_rsh[@]}" "$remote_host" true </dev/null >/dev/null 2>&1; then
				remote_cipher=$("${remote_rsh[@]}" -v "$remote_host" true </dev/null 2>&1 |
					sed -n 's/.*kex: server->client cipher: \([^ ]*\).*/\1/p' | head -n 1)
				remote_ssh_version=$(ssh -V 2>&1 | cut -d, -f1)
				say "remote: sshd on $remote_host port $remote_port (pid $remote_pid)," \
					"cipher ${remote_cipher:-unknown}"
				return 0
			fi
			sleep 0.1
		done
		# its port taken meanwhile, or sshd refusing its configuration
		kill "$remote_pid" 2>/dev/null
		wait "$remote_pid" 2>/dev/null
		remote_pid=
	done
	{
		echo "remote: sshd log:"
		cat "$d/sshd.log"
	} >>"$log" 2>/dev/null
	remote_skip="no ssh session to a private sshd on $remote_host could be opened"
	remote_skip+=" ($(tail -n 1 "$d/sshd.log" 2>/dev/null); see $log)"
	return 1
}

# remote_label KIND: a row's name in the table (and, with "remote BLOCK"
# before it, in the CSV).
remote_label() {
	case $1 in
	pcopy) echo "pcopy" ;;
	pcopy1) echo "pcopy --streams=1" ;;
	pcopyu) echo "pcopy -T --update=changed --delete" ;;
	rsync) echo "rsync -a" ;;
	rsyncd) echo "rsync -a --delete" ;;
	tar) echo "tar|ssh" ;;
	scp) echo "scp -rp" ;;
	slow0) echo "pcopy, slowlink 0 ms" ;;
	slow) echo "pcopy, slowlink +$remote_rtt ms RTT" ;;
	true) echo "RSH -n HOST true" ;;
	esac
}

# remote_argv KIND SRC DST PULL: sets $argv; with PULL 1, SRC is remote.
remote_argv() {
	local kind=$1 src=$2 dst=$3 s d q
	local pc=("$pcopy" -e "$remote_rsh_s" --remote-pcopy="$pcopy" --progress=none)
	if [ "$4" = 1 ]; then s=$remote_host:$src d=$dst; else s=$src d=$remote_host:$dst; fi
	case $kind in
	pcopy) argv=("${pc[@]}" "$s" "$d") ;;
	pcopy1) argv=("${pc[@]}" --streams=1 "$s" "$d") ;;
	pcopyu) argv=("${pc[@]}" -T --update=changed --delete "$s" "$d") ;;
	rsync) argv=(rsync -a -e "$remote_rsh_s" "$s/" "$d") ;;
	rsyncd) argv=(rsync -a --delete -e "$remote_rsh_s" "$s/" "$d/") ;;
	scp) argv=(scp -rp -P "$remote_port" "${remote_rsh[@]:3}" "$s" "$d") ;;
	tar)
		printf -v q '%q' "$dst"
		# shellcheck disable=SC2016 # $1 and $@ belong to bash -c
		argv=(bash -c 'set -o pipefail; tar -C "$1" -cf - . | { shift; "$@"; }' bash
			"$src" "${remote_rsh[@]}" "$remote_host" "mkdir -p $q && tar -C $q -xf -") ;;
	slow0 | slow)
		argv=(env SLOWLINK_RSH="$remote_rsh_s"
			SLOWLINK_MS="$([ "$kind" = slow ] && awk -v r="$remote_rtt" 'BEGIN { print r / 2 }' || echo 0)"
			"$pcopy" -e "$top/tests/tools/slowlink" --remote-pcopy="$pcopy" --progress=none "$s" "$d") ;;
	true) argv=("${remote_rsh[@]}" -n "$remote_host" true) ;;
	esac
}

# The rounds' hooks for one block: $rb_tag, $rb_tree, $rb_src, $rb_dst,
# $rb_pull (1: SRC is remote), $rb_fresh (1: DST removed before each run),
# $rb_change (1: 1% of SRC rewritten before each run), rb_kinds.
remote_prep() {
	local kind=${rb_kinds[$1]} jobs='' mode=ssh
	[ "$rb_fresh" = 1 ] && rm -rf "$rb_dst"
	[ "$rb_change" = 1 ] && remote_change
	remote_argv "$kind" "$rb_src" "$rb_dst" "$rb_pull"
	case $kind in
	pcopy | pcopyu | slow0 | slow) jobs=$remote_streams ;;
	pcopy1) jobs=1 ;;
	esac
	case $kind in slow0 | slow) mode=ssh+slowlink ;; esac
	row="$rb_tree,remote $rb_tag $(remote_label "$kind"),$jobs,$mode"
}
remote_check() {
	local sig=''
	[ "$rb_src" = - ] && { check_run "remote $rb_tag" "$1" "$(remote_label "${rb_kinds[$1]}")" "$2" "" "" ""; return; }
	((rc == 0 && $2 == 0)) && sig=$(signature "$rb_src")
	check_run "remote $rb_tag" "$1" "$(remote_label "${rb_kinds[$1]}")" "$2" "$rb_src" "$rb_dst" "$sig"
}
remote_round() {
	say "remote $rb_tag: round $1/$2 done"
}

# remote_block TAG TREE TITLE SRC DST PULL FRESH CHANGE KIND...: one block
# of rows; its medians in med[remote TAG/I].
remote_block() {
	rb_tag=$1 rb_tree=$2 remote_title[$1]=$3 rb_src=$4 rb_dst=$5 rb_pull=$6 rb_fresh=$7 rb_change=$8
	shift 8
	rb_kinds=("$@")
	remote_kinds[$rb_tag]="$*"
	remote_blocks+=("$rb_tag")
	say "remote $rb_tag: ${#rb_kinds[@]} commands x $runs rounds"
	rounds "remote $rb_tag" "${#rb_kinds[@]}" "$runs" remote
}

# remote_change: every 100th file of the changing copy (its list made by
# bench_remote) rewritten, and so touched, with new content whose size
# differs from one call to the next.
remote_change_seq=0
remote_change() {
	remote_change_seq=$((remote_change_seq + 1))
	awk -v seq="$remote_change_seq" '{
		size = 2000 + seq * 101 + (NR * 37) % 1000
		s = sprintf("pcopy bench remote change %d, file %d; ", seq, NR); line = s
		while (length(line) < size) line = line s
		printf "%s", substr(line, 1, size) > $0
		close($0) }' "$remote_list"
}

# remote_untimed SRC DST: an untimed pcopy push (DST removed first);
# false, saying so, when it failed.
remote_untimed() {
	rm -rf "$2"
	remote_argv pcopy "$1" "$2" 0
	time_cmd "${argv[@]}"
	((rc == 0)) && return
	say "remote: untimed push ${argv[*]} exited $rc (see $log)"
	return 1
}

# remote_index TAG KIND: the index of KIND in block TAG, or nothing.
remote_index() {
	local k i=0
	for k in ${remote_kinds[$1]:-}; do
		[ "$k" = "$2" ] && echo "$i" && return
		i=$((i + 1))
	done
}

# remote_med TAG KIND: its median, or nothing.
remote_med() {
	local i
	i=$(remote_index "$1" "$2")
	[ -n "$i" ] && echo "${med[remote $1/$i]}"
}

bench_remote() {
	local small=$work/src/small big=$work/src/big dst=$work/dst/remote
	local csrc=$work/dst/remote-src sig k
	local push=(pcopy pcopy1) pull=(pcopy) upd=(pcopyu) bigk=(pcopy pcopy1)
	[ "$remote_on" = 1 ] || return 0
	remote_log_at=$(wc -l <"$log")
	[ -d "$small" ] && [ -d "$big" ] || make_trees small big || {
		remote_skip="the small and big trees could not be made (see the messages above)"
		say "remote rows skipped: $remote_skip"
		return 0
	}
	remote_start || {
		say "remote rows skipped: $remote_skip"
		remote_stop
		return 0
	}
	for k in small big; do
		sig=$(signature "$work/src/$k")
		remote_files[$k]=${sig#f=}
		remote_files[$k]=${remote_files[$k]%% *}
		remote_bytes[$k]=${sig##*bytes=}
	done
	# One untimed push first: it touches the memory the copies will use, as
	# copy.sh's untimed copy does, and tells whether pcopy gets through.
	if ! remote_untimed "$small" "$dst"; then
		remote_skip="the first push, ${argv[*]}, exited $rc (see $log)"
		say "remote rows skipped: $remote_skip"
		remote_stop
		return 0
	fi
	say "remote: small (${remote_files[small]} files) and big (${remote_files[big]} files)," \
		"$runs rounds"
	rm -rf "$dst"
	remote_block start-up - "ssh start-up" - - 0 0 0 true
	[ "$remote_rsync" = 1 ] && push+=(rsync) pull+=(rsync) upd+=(rsyncd) bigk+=(rsync)
	[ "$remote_scp" = 1 ] && bigk+=(scp)
	[ "$remote_tar" = 1 ] && push+=(tar) bigk+=(tar)
	remote_block push small "push small into a fresh DST" "$small" "$dst" 0 1 0 "${push[@]}"
	remote_block pull small "pull small into a fresh local DST" "$small" "$dst" 1 1 0 "${pull[@]}"
	remote_untimed "$small" "$dst"
	remote_block no-op small "no-op re-run over a copy pcopy made" "$small" "$dst" 0 0 0 "${upd[@]}"
	# The 1% block changes a copy of the tree, not the tree other rows use.
	rm -rf "$dst" "$csrc"
	cp -a "$small" "$csrc"
	remote_list=$work/tmp/remote-change
	find "$csrc" -type f | sort | awk 'NR % 100 == 0' >"$remote_list"
	remote_untimed "$csrc" "$dst"
	remote_block 1% small "1% changed: $(wc -l <"$remote_list") files rewritten before each run, another size each time" \
		"$csrc" "$dst" 0 0 1 "${upd[@]}"
	rm -rf "$dst" "$csrc"
	if [ "$remote_slow" = 1 ]; then
		remote_block rtt small "push small through tests/tools/slowlink around the same ssh" \
			"$small" "$dst" 0 1 0 slow0 slow
	fi
	rm -rf "$dst"
	remote_block big big "push big into a fresh DST" "$big" "$dst" 0 1 0 "${bigk[@]}"
	rm -rf "$dst"
	remote_stop
}

# remote_row TAG I BYTES FILES BASE: row I of block TAG: its median, fastest
# run, MB/s for BYTES and files/s for FILES (each "-" when empty), and BASE
# / its median.
remote_row() {
	local tag="remote $1" i=$2 kinds t mbs fps vs
	read -r -a kinds <<<"${remote_kinds[$1]}"
	t=${med[$tag/$i]}
	read -r mbs fps vs < <(awk -v t="$t" -v b="$3" -v f="$4" -v c="$5" 'BEGIN {
		if (t + 0 <= 0) { print "- - -"; exit }
		printf "%s %s %s\n", b == "" ? "-" : sprintf("%.1f", b / 1e6 / t),
			f == "" ? "-" : sprintf("%.0f", f / t), c == "" ? "-" : sprintf("%.2fx", c / t) }')
	printf '    %-35s %8.3f %7.3f %7s %8s %8s\n' "$(remote_label "${kinds[$i]}")${mark[$tag/$i]:-}" \
		"$t" "${low[$tag/$i]}" "$mbs" "$fps" "$vs"
}

# remote_target WHAT VALUE LIMIT: "WHAT  VALUE (target <= LIMIT): met" or
# "not met"; nothing when VALUE is empty.
remote_target() {
	[ -n "$2" ] || return 0
	awk -v w="$1" -v v="$2" -v l="$3" 'BEGIN {
		printf "  %-40s %6.3f (target <= %.2f): %s\n", w, v, l, v <= l ? "met" : "not met" }'
}

print_remote() {
	local b tag i k n tree bytes files base p kinds
	[ "$remote_on" = 1 ] || return 0
	echo
	if [ -n "$remote_skip" ]; then
		echo "remote rows skipped: $remote_skip"
		return 0
	fi
	echo "remote rows: pcopy over ssh to a private sshd on $remote_host;"
	echo "$remote_ssh_version, cipher ${remote_cipher:-unknown} (OpenSSH's default);"
	echo "every command through RSH = ssh -p PORT -i KEY -o StrictHostKeyChecking=no"
	echo "-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR; the far pcopy"
	echo "is this build; pcopy: its default --streams (${remote_streams:-?}); medians of $runs alternating runs;"
	echo "small: ${remote_files[small]} files, ${remote_bytes[small]} bytes;" \
		"big: ${remote_files[big]} files, ${remote_bytes[big]} bytes$([ "$quick" = 1 ] &&
			echo " (QUICK: smaller trees than a full run's)")"
	printf '  %-37s %8s %7s %7s %8s %8s\n' "" "median s" "min s" "MB/s" "files/s" "vs rsync"
	for b in "${remote_blocks[@]}"; do
		tag="remote $b"
		read -r -a kinds <<<"${remote_kinds[$b]}"
		n=${#kinds[@]} tree=small bytes='' files='' base=''
		case $b in
		start-up) tree='' ;;
		big) tree=big ;;
		esac
		case $b in
		push | pull | rtt) bytes=${remote_bytes[$tree]} files=${remote_files[$tree]} ;;
		big) bytes=${remote_bytes[$tree]} ;;
		no-op | 1%) files=${remote_files[$tree]} ;;
		esac
		for k in rsync rsyncd; do
			i=$(remote_index "$b" "$k")
			[ -n "$i" ] && base=${med[$tag/$i]}
		done
		echo "  ${remote_title[$b]}:"
		for ((i = 0; i < n; i++)); do
			remote_row "$b" "$i" "$bytes" "$files" "$base"
		done
	done
	echo "  MB/s: 10^6 bytes of file data a second; files/s: for a no-op or 1% run,"
	echo "  files of the tree checked a second; vs rsync: rsync's median / this median."
	# what the commands said on stderr during these rows, if anything
	tail -n +$((remote_log_at + 1)) "$log" 2>/dev/null | grep -v '^+ ' >"$work/tmp/remote-msgs"
	if [ -s "$work/tmp/remote-msgs" ]; then
		echo "  $(wc -l <"$work/tmp/remote-msgs") lines on stderr during these rows (in $log); the most frequent:"
		sort "$work/tmp/remote-msgs" | uniq -c | sort -rn | head -n 3 | cut -c 1-100
	fi
	for i in "${!mark[@]}"; do
		[[ $i == remote* ]] || continue
		echo "* a run exited non-zero or its first run left DST unlike SRC: see $log"
		break
	done
	echo "targets of the remote copies (time ratios: lower is faster):"
	[ "$quick" = 1 ] && echo "  (QUICK: small trees and few runs, indicative only)"
	p=$(remote_med push pcopy)
	remote_target "push small: pcopy / rsync -a" "$(ratio "$p" "$(remote_med push rsync)")" 0.65
	remote_target "push small: pcopy / tar|ssh" "$(ratio "$p" "$(remote_med push tar)")" 1.25
	p=$(remote_med big pcopy)
	remote_target "push big: pcopy / scp -rp" "$(ratio "$p" "$(remote_med big scp)")" 1.10
	remote_target "push big: pcopy / rsync -a" "$(ratio "$p" "$(remote_med big rsync)")" 0.80
	remote_target "no-op: pcopy / rsync -a --delete" \
		"$(ratio "$(remote_med no-op pcopyu)" "$(remote_med no-op rsyncd)")" 0.60
	remote_target "1% changed: pcopy / rsync -a --delete" \
		"$(ratio "$(remote_med 1% pcopyu)" "$(remote_med 1% rsyncd)")" 0.60
	remote_target "push small: +$remote_rtt ms RTT / none (slowlink)" \
		"$(ratio "$(remote_med rtt slow)" "$(remote_med rtt slow0)")" 1.30
	return 0
}
