/*
 * remote_main.h - a remote copy from the command line's side (remote.h):
 * which operands are remote, the client that starts the user's rsh and
 * runs one side, and `pcopy --server`, which runs the other.
 */
#ifndef PCOPY_REMOTE_MAIN_H
#define PCOPY_REMOTE_MAIN_H

#include <stddef.h>
#include <sys/types.h>

struct files_from;
struct filter;
struct options;
struct run_outcome;

/* Which side of a copy is on another machine. */
enum remote_kind {
	REMOTE_NONE, /* a local copy */
	REMOTE_PULL, /* HOST:SRC... DST */
	REMOTE_PUSH, /* SRC... HOST:DST */
};

/*
 * Is `arg` a remote operand, [USER@]HOST:PATH (a colon before the first
 * slash; [ADDR]:PATH for IPv6)?  1 with *host and *path malloc'd (path ""
 * for HOST:, the remote home), else 0.
 */
int remote_operand(const char *arg, char **host, char **path);

/*
 * Which kind of copy o's operands ask for: REMOTE_NONE, PULL or PUSH, or
 * -1 with a reason in err (both sides remote, SRCs on several hosts or
 * some local).
 */
int remote_kind_of(const struct options *o, char *err, size_t errlen);

/*
 * Run a remote copy of kind `kind` as the client: 0 with *out filled (a
 * pull: the run was here), 1 with the exit status of the run there in
 * *status (a push), or -1 when it could not start (said: exit 2).
 */
int remote_client(const struct options *o, int kind, const struct filter *filter,
		  const struct files_from *list, mode_t user_umask, unsigned force,
		  struct run_outcome *out, int *status);

/*
 * 1 for --server (argv ["pcopy", "--server"]), 2 for a stream joining
 * one (["pcopy", "--server", "--join", SOCKET]), else 0.
 */
int remote_is_server(int argc, char **argv);

/*
 * --server --join SOCKET: hand our stdin and stdout to the server that
 * listens at SOCKET, and stay until its run ends.  The exit status.
 */
int remote_join(const char *socket);

/*
 * The server's first steps: the connection on stdin and stdout, its own
 * stdout relayed to the client, the handshake.  0 with the client's
 * arguments in *argc, *argv (as for options_parse) and the role asked, or
 * -1 (said on stderr: exit 2).
 */
int remote_server_start(int *argc, char ***argv);

/*
 * Run the server's side as the client asked, as remote_client returns (0
 * with *out: this side received; 1 with *status: it sent).
 */
int remote_server_run(const struct options *o, const struct filter *filter,
		      const struct files_from *list, mode_t user_umask, unsigned force,
		      struct run_outcome *out, int *status);

/* The run's exit status for the client (after the output it made), and the end. */
void remote_server_end(int status);

#endif
