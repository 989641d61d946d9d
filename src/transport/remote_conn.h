/*
 * remote_conn.h - one connection of a remote copy (remote.h): the pipes to
 * the user's ssh (or, on the server, its own stdin and stdout), frames
 * written whole under a lock from any thread and read by one, the
 * handshake, and the fields every side encodes the same way.
 */
#ifndef PCOPY_REMOTE_CONN_H
#define PCOPY_REMOTE_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "transport/wire.h"

struct rconn {
	int in, out;           /* read frames from, write frames to */
	pid_t pid;             /* the rsh process (client), or 0 */
	int joiner;            /* a joined stream (server): the socket its joiner waits on,
				  which lets it go (and with it every other holder of
				  the connection's pipes) when closed; else -1 */
	pthread_mutex_t wlock; /* one frame at a time on `out`, and obuf */
	unsigned char *obuf;   /* frames sent with rconn_send_more, not yet written */
	size_t olen, ocap;
	unsigned char *ibuf;             /* bytes read from `in` not yet taken (the reader's) */
	size_t ihead, ilen;              /* where they start, how many */
	_Atomic int broken;              /* a read or write failed (or the peer ended it) */
	_Atomic uint64_t sent, received; /* bytes, frames included */
};

/* A connection over the fds in, out (the server's stdin and stdout). */
void rconn_init(struct rconn *c, int in, int out);

/*
 * Start `argv` (the rsh command, the host, the far pcopy and its
 * arguments) with pipes for its stdin and stdout; its stderr is ours.
 * 0, or -1 with errno.
 */
int rconn_spawn(struct rconn *c, char *const argv[]);

/* Send one frame (whole, under the lock).  0, or -1 with errno (broken). */
int rconn_send(struct rconn *c, uint16_t type, uint16_t stream, const void *payload, size_t len);
/* The same with a built payload, which is then emptied for reuse. */
int rconn_send_out(struct rconn *c, uint16_t type, uint16_t stream, struct wire_out *o);

/*
 * Queue one frame, to be written with the next rconn_send or rconn_flush,
 * once enough are queued, or when the connection's reader is about to
 * wait (rconn_recv): many small frames in one write.  A thread that
 * queues and then waits on something else must flush first.  0, or -1
 * (broken).
 */
int rconn_send_more(struct rconn *c, uint16_t type, uint16_t stream, const void *payload,
		    size_t len);
int rconn_flush(struct rconn *c);

/* Has the peer sent a whole frame that rconn_recv would return without waiting? */
int rconn_ready(const struct rconn *c);

/*
 * Read the next frame: its header into *h and its payload into *buf
 * (grown as needed, *cap its size; the caller frees it).  0, or -1 with
 * errno: ECONNRESET when the peer closed it, EPROTO for a bad header.
 * One reader per connection.
 */
int rconn_recv(struct rconn *c, struct wire_head *h, unsigned char **buf, size_t *cap);

/*
 * End our side of the connection: nothing more is written, the peer sees
 * its end and ends its own, and so a reader blocked on ours wakes up.
 */
void rconn_hangup(struct rconn *c);

/*
 * Stop using the connection: close its fds and, for a spawned rsh, wait
 * for it (killing it first when `kill_it`).  Its wait status, or 0.
 */
int rconn_close(struct rconn *c, int kill_it);

/* --- the handshake (remote.h's HELLO) --- */

/* What each side says of its machine in HELLO, for the default of --streams. */
struct remote_host {
	unsigned cpus;   /* CPUs pcopy may run on there */
	char boot[40];   /* its kernel's boot id: the same at both ends of a copy
			    within one machine (or container host), else "" */
};

/* This machine's. */
void remote_host_self(struct remote_host *h);

/*
 * Streams worth opening when --streams is not given, at most `most`:
 * each stream's cipher keeps a CPU busy at each end, so as many as the
 * machine with fewer CPUs has, or half of them when both ends are one
 * machine (the same boot id) and share its CPUs.  At least 1.
 */
int remote_default_streams(const struct remote_host *peer, int most);

/* Send our HELLO: role (0 from a server) and the arguments for the server. */
int remote_hello_send(struct rconn *c, int role, int nargs, char *const args[]);

/*
 * Read the peer's HELLO.  0 with *role, the arguments (args[*nargs],
 * malloc'd, NULL-terminated, args[0] "pcopy"; free with
 * remote_args_free) and *peer set, or -1 with a one-line reason in err:
 * not pcopy, or another protocol version (both named).
 */
int remote_hello_recv(struct rconn *c, int *role, int *nargs, char ***args,
		      struct remote_host *peer, char *err, size_t errlen);
void remote_args_free(int nargs, char **args);


/* --- fields --- */

/* A stat as the other side needs it: type and mode, ids, sizes, times, dev/ino. */
void wire_put_stat(struct wire_out *o, const struct stat *st);
/* Read one; its fields are checked for sense (a type of file we know). */
void wire_get_stat(struct wire_in *in, struct stat *st);

#endif
