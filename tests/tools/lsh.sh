#!/bin/sh
# lsh.sh [SSH-OPTION]... [USER@]HOST COMMAND...: a stand-in for ssh for the
# remote tests (as rsync's testsuite has one), so that `pcopy -e lsh.sh
# --remote-pcopy=PATH SRC lo:DST` runs both ends on this machine without
# any network, key or daemon.
#
# Like ssh, it takes ssh's options (their values are accepted and
# ignored: -l USER, -p PORT, -o OPTION, -i KEY, ...), then the host (never
# looked at: every host is this machine), then the command, whose words
# are joined with spaces and run by `sh -c` in the "remote" home directory
# -- ${LSH_HOME:-$HOME} -- with standard input, output and error passed
# straight through.  Its exit status is the command's.
#
# The command runs in a session of its own (setsid), as a command started
# by sshd is in none of the client's process groups: a ^C or a signal sent
# to the client's group does not reach it, and it learns of the client's
# end only by its standard input closing, as over a real connection.
#
# LSH_LOG=FILE appends one line per connection to FILE, tab-separated:
# "host=HOST" (the operand as given, USER@ included), "user=USER" (from
# USER@ or -l, empty when none), "opts=..." (the options seen, space
# separated) and "cmd=COMMAND" (the joined command line).  The tests use it
# to see what pcopy asked its rsh for, and that it asked for nothing.
set -u

user='' opts=''
while getopts 46AaCfGgKkMNnqsTtVvXxYyB:b:c:D:E:e:F:I:i:J:L:l:m:O:o:p:Q:R:S:W:w: opt; do
	case $opt in
	'?') exit 255 ;;
	l) user=$OPTARG ;;
	*) ;; # accepted, ignored
	esac
	opts="$opts${opts:+ }-$opt${OPTARG:+ $OPTARG}"
	unset OPTARG
done
shift $((OPTIND - 1))

if [ $# -lt 1 ]; then
	echo "usage: lsh.sh [SSH-OPTION]... [USER@]HOST COMMAND..." >&2
	exit 255
fi
host=$1
shift
case $host in *@*) user=${host%@*} ;; esac
if [ $# -eq 0 ]; then
	# ssh with no command would open a login shell: nothing to do here
	echo "lsh.sh: no command given (an interactive login is not supported)" >&2
	exit 255
fi

IFS=' '
cmd="$*"
if [ -n "${LSH_LOG:-}" ]; then
	printf 'host=%s\tuser=%s\topts=%s\tcmd=%s\n' "$host" "$user" "$opts" "$cmd" >>"$LSH_LOG"
fi

cd "${LSH_HOME:-$HOME}" || exit 255
# setsid -w: when lsh.sh leads its process group, setsid forks; -w waits
# for the command and gives back its status
if command -v setsid >/dev/null 2>&1; then
	exec setsid -w sh -c "$cmd"
fi
exec sh -c "$cmd"
