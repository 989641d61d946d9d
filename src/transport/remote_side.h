/*
 * remote_side.h - what each side of a remote copy runs (remote.h): the
 * sender, which lists SRC and serves its files, and the receiver, which
 * runs pcopy's engine where DST is with the sender as its source.  The
 * client and `pcopy --server` (remote_main.c) pick one each.
 */
#ifndef PCOPY_REMOTE_SIDE_H
#define PCOPY_REMOTE_SIDE_H

#include <sys/types.h>

struct filter;
struct files_from;
struct options;
struct rconn;
struct run_outcome;

/*
 * How a side asks for one more stream: the client opens it (RSH ...
 * --server --join), and the new connection is given to the side that
 * runs here (remote_receive_add, remote_send_add).  `more` must not wait.
 */
struct remote_streams {
	void (*more)(void *ctx);
	void *ctx;
};

/*
 * Serve SRCs `roots` (nroots) to the receiver at the other end of c, as
 * the options say (-L, -x, filters, -c, what is preserved), until it says
 * DONE; or, for a client (`status` not NULL), until the server that
 * receives says EXIT with the run's exit status, printing on the way what
 * the run there printed on its standard output.  0, or -1 when the
 * connection failed or the receiver sent something it must not (a
 * reason in err).
 */
int remote_send(struct rconn *c, const struct options *o, const struct filter *filter,
		char *const *roots, int nroots, const struct remote_streams *grow, int *status,
		char *err, size_t errlen);

/* As remote_receive_add, for the run being sent from here. */
int remote_send_add(struct rconn *c, int index);

/*
 * Copy the SRCs at the other end of c (o->srcs, as they are named there)
 * to o->dst here: run.h's run_all with the sender as the source and the
 * connection's streams as the workers.  Then tell the sender DONE.  As
 * run_all.
 */
int remote_receive(struct rconn *c, const struct options *o, const struct filter *filter,
		   const struct files_from *list, mode_t user_umask, unsigned force,
		   const struct remote_streams *grow, struct run_outcome *out);

/*
 * Stream `index` (1, 2, ... in order) of the run being received here is
 * connection c (owned from now on).  0, or -1 when no run takes it.
 */
int remote_receive_add(struct rconn *c, int index);

#endif
