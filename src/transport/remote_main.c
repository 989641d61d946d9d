/*
 * remote_main.c - a remote copy from the command line's side
 * (remote_main.h).  The client starts `RSH HOST REMOTE-PCOPY --server`,
 * says in the handshake what the server is to do (its role, the options
 * as arguments, its operands), and runs the other side itself.  The
 * server never writes to a terminal: its standard output (-v, -i,
 * --stats=json) goes to the client in OUTPUT frames, its standard error
 * goes where ssh sends it, to the client's.
 */
#include "transport/remote_main.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/strlist.h"
#include "base/util.h"
#include "core/options.h"
#include "report/message.h"
#include "report/output.h"
#include "run/monitor.h"
#include "run/run.h"
#include "transport/remote.h"
#include "transport/remote_conn.h"
#include "transport/remote_side.h"
#include "walk/files_from.h"
#include "walk/filter.h"

int remote_operand(const char *arg, char **host, char **path)
{
	const char *colon, *slash = strchr(arg, '/'), *at = strchr(arg, '@');
	const char *open = at != NULL && at[1] == '[' ? at + 1 : arg;

	if (*open == '[') { /* [USER@][ADDR]:PATH, the host given to ssh without brackets */
		const char *close = strchr(open, ']');
		size_t user = (size_t)(open - arg), addr;

		if (close == NULL || close[1] != ':' || (slash != NULL && slash < close))
			return 0;
		addr = (size_t)(close - open - 1);
		*host = xmalloc(user + addr + 1);
		memcpy(*host, arg, user);
		memcpy(*host + user, open + 1, addr);
		(*host)[user + addr] = '\0';
		*path = xstrdup(close + 2);
		return 1;
	}
	colon = strchr(arg, ':');
	if (colon == NULL || colon == arg || (slash != NULL && slash < colon))
		return 0;
	*host = xmalloc((size_t)(colon - arg) + 1);
	memcpy(*host, arg, (size_t)(colon - arg));
	(*host)[colon - arg] = '\0';
	*path = xstrdup(colon + 1);
	return 1;
}

/* remote_operand, the host only (NULL for a local operand); malloc'd. */
static char *host_of(const char *arg)
{
	char *host, *path;

	if (!remote_operand(arg, &host, &path))
		return NULL;
	free(path);
	return host;
}

int remote_kind_of(const struct options *o, char *err, size_t errlen)
{
	char *dst = host_of(o->dst), *first = NULL;
	int remote = 0, rc = REMOTE_NONE;

	for (int i = 0; i < o->nsrcs; i++) {
		char *h = host_of(o->srcs[i]);

		remote += h != NULL;
		if (h != NULL && first == NULL)
			first = h;
		else if (h != NULL && strcmp(h, first) != 0) {
			snprintf(err, errlen,
				 "every remote SRC must be on one host, not '%s' and '%s'", first,
				 h);
			rc = -1;
		}
		if (h != first)
			free(h);
	}
	if (rc == 0 && remote > 0 && dst != NULL) {
		snprintf(err, errlen,
			 "a copy from one remote host to another is not supported: "
			 "one of SRC and DST must be local");
		rc = -1;
	} else if (rc == 0 && remote > 0 && remote < o->nsrcs) {
		snprintf(err, errlen, "SRCs must be all local or all on the remote host");
		rc = -1;
	} else if (rc == 0) {
		rc = remote > 0 ? REMOTE_PULL : dst != NULL ? REMOTE_PUSH : REMOTE_NONE;
	}
	free(first);
	free(dst);
	return rc;
}

/* --- what the server is told --- */

/* Add the argument `option` followed by `value`. */
static void add(struct strlist *l, const char *option, const char *value)
{
	char buf[REMOTE_ARG_MAX];

	snprintf(buf, sizeof(buf), "%s%s", option, value);
	strlist_add(l, buf);
}

/* The options the server needs, as arguments its options_parse reads. */
static void server_options(const struct options *o, const struct filter *f, int receiver,
			   mode_t user_umask, struct strlist *l)
{
	static const char *const progress[] = { "none", "none", "bar", "plain", "json" };
	static const char *const updates[] = { "all", "older", "none", "changed" };
	static const char *const parts[] = { "mode", "ownership", "timestamps", "links", "xattr" };
	char list[128] = "";

	if (o->dry_run)
		strlist_add(l, "-n");
	if (o->dereference)
		strlist_add(l, "-L");
	if (o->one_file_system)
		strlist_add(l, "-x");
	if (o->checksum)
		strlist_add(l, "-c");
	if (o->partial)
		strlist_add(l, "--partial");
	if (o->update_given)
		add(l, "--update=", updates[o->update]);
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		if (!(o->preserve & (1u << i)))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 list[0] ? "," : "", parts[i]);
	if (list[0] != '\0')
		add(l, "--no-preserve=", list);
	if (o->streams_given) { /* both sides: RENDEZVOUS or not */
		snprintf(list, sizeof(list), "%d", o->streams);
		add(l, "--streams=", list);
	}
	if (o->bwlimit > 0) { /* the sending side paces */
		snprintf(list, sizeof(list), "%lluK",
			 o->bwlimit / 1024 > 0 ? o->bwlimit / 1024 : 1);
		add(l, "--bwlimit=", list);
	}
	for (size_t i = 0; f != NULL && i < f->count; i++) {
		int include;
		const char *text = filter_rule_text(f, i, &include);

		add(l, include ? "--include=+ " : "--exclude=- ", text);
	}
	for (size_t i = 0; f != NULL && f->list != NULL && i < f->list->count; i++)
		add(l, "--listed=", f->list->paths[i]);
	if (f != NULL && f->list != NULL && f->list->count == 0) /* an empty list: nothing */
		add(l, "--exclude=- ", "*");
	if (!receiver)
		return;
	/* What only the side that runs the copy needs. */
	snprintf(list, sizeof(list), "%03o", (unsigned)user_umask);
	add(l, "--umask=", list);
	if (o->no_target_directory)
		strlist_add(l, "-T");
	if (o->verbose)
		strlist_add(l, "-v");
	if (o->itemize != ITEMIZE_NONE)
		strlist_add(l, o->itemize == ITEMIZE_JSON ? "--itemize-changes=json" : "-i");
	if (o->stats != STATS_NONE)
		strlist_add(l, o->stats == STATS_JSON ? "--stats=json" : "--stats=text");
	add(l, "--progress=", progress[o->progress]);
	if (o->changing == CHANGING_COPY)
		strlist_add(l, "--changing=copy");
	if (o->fsync)
		strlist_add(l, "--fsync");
	if (o->delete_excluded)
		strlist_add(l, "--delete-excluded");
	else if (o->delete_extraneous)
		strlist_add(l, "--delete");
	for (int i = 0; i < o->nlink_dests; i++)
		add(l, "--link-dest=", o->link_dests[i]);
}

/* --- the client --- */

/* Split `cmd` into words at blanks, no shell (as rsync does); appended to l. */
static void split_words(const char *cmd, struct strlist *l)
{
	const char *p = cmd;

	while (*p != '\0') {
		size_t n;
		char *w;

		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n == 0)
			break;
		w = xmalloc(n + 1);
		memcpy(w, p, n);
		w[n] = '\0';
		strlist_add(l, w);
		free(w);
		p += n;
	}
}

/*
 * Start `RSH HOST REMOTE-PCOPY --server`, or with `join` (a stream after
 * the first) `... --server --join SOCKET`.  0, or -1 with errno.
 */
static int start_server(const struct options *o, const char *host, const char *join,
			struct rconn *c)
{
	struct strlist words;
	char **argv;
	int rc;

	strlist_init(&words);
	split_words(o->rsh, &words);
	strlist_add(&words, host);
	strlist_add(&words, o->remote_pcopy);
	strlist_add(&words, "--server");
	if (join != NULL) {
		strlist_add(&words, "--join");
		strlist_add(&words, join);
	}
	argv = xcalloc(words.count + 1, sizeof(*argv));
	for (size_t i = 0; i < words.count; i++)
		argv[i] = (char *)strlist_get(&words, i);
	rc = rconn_spawn(c, argv);
	free(argv);
	strlist_free(&words);
	return rc;
}

/*
 * Handshake as the client: ask for `role` with these arguments; what the
 * server says of its machine in *peer.  0, or -1 (said).
 */
static int client_hello(struct rconn *c, const char *host, int role, struct strlist *args,
			struct remote_host *peer)
{
	char **argv = xcalloc(args->count + 1, sizeof(*argv));
	char err[512], **theirs;
	int rc, their_role, n;

	for (size_t i = 0; i < args->count; i++)
		argv[i] = (char *)strlist_get(args, i);
	rc = remote_hello_send(c, role, (int)args->count, argv);
	free(argv);
	if (rc == 0 && remote_hello_recv(c, &their_role, &n, &theirs, peer, err, sizeof(err)) == 0) {
		remote_args_free(n, theirs);
		return 0;
	}
	if (rc < 0 && errno == EMSGSIZE)
		snprintf(err, sizeof(err),
			 "the options, with the --files-from list, pass the 4 MiB a remote "
			 "copy's handshake may take");
	else if (rc < 0)
		snprintf(err, sizeof(err), "the connection closed before the handshake (%s)",
			 strerror(errno));
	report_message("%s: %s", host, err);
	return -1;
}

/* The client's side of the streams after the first. */
struct client {
	const struct options *o;
	const char *host;
	int pull;                                               /* the client receives */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* where they join */
	unsigned char token[REMOTE_TOKEN_SIZE];
	pthread_mutex_t lock;
	pthread_t openers[MAX_STREAMS]; /* one per stream asked for */
	int asked;                      /* streams asked for after the first */
	int failed;                     /* one could not open: no more are tried */
	int over;                       /* the run has ended: none is wanted now */
};

/*
 * Open stream `index`: RSH ... --join, JOIN with the token, and the
 * server's JOIN back once it took the stream; then the side here takes
 * it.  0, or -1 with errno.
 */
static int open_stream(struct client *cl, int index, struct rconn *c)
{
	struct wire_out o = { 0 };
	unsigned char *buf = NULL;
	size_t cap = 0;
	struct wire_head h;
	int rc;

	if (start_server(cl->o, cl->host, cl->path, c) < 0)
		return -1;
	wire_put_bytes(&o, cl->token, sizeof(cl->token));
	wire_put_u16(&o, (uint16_t)index);
	rc = rconn_send_out(c, FRAME_JOIN, 0, &o);
	wire_out_free(&o);
	if (rc == 0 && (rconn_recv(c, &h, &buf, &cap) < 0 || h.type != FRAME_JOIN)) {
		errno = errno == 0 || h.type != FRAME_JOIN ? EPROTO : errno;
		rc = -1;
	}
	free(buf);
	if (rc == 0)
		rc = cl->pull ? remote_receive_add(c, index) : remote_send_add(c, index);
	if (rc < 0) {
		int saved = errno;

		(void)rconn_close(c, 1);
		errno = saved;
	}
	return rc;
}

static void *opener_main(void *arg)
{
	struct client *cl = arg;
	struct rconn *c = xmalloc(sizeof(*c));
	int index, rc;

	pthread_mutex_lock(&cl->lock);
	index = cl->asked; /* one opens at a time: the receiver asks for the next once it is up */
	pthread_mutex_unlock(&cl->lock);
	rc = open_stream(cl, index, c);
	if (rc == 0)
		return NULL; /* the side owns it now */
	free(c);
	pthread_mutex_lock(&cl->lock);
	if (!cl->failed && !cl->over) /* one the run's end cut short is no news */
		report_message("%s: could not open stream %d, going on with %d: %s", cl->host,
			       index + 1, index, strerror(errno));
	cl->failed = 1;
	pthread_mutex_unlock(&cl->lock);
	return NULL;
}

/* remote_streams.more: open one more stream, on a thread of its own. */
static void client_more(void *ctx)
{
	struct client *cl = ctx;

	pthread_mutex_lock(&cl->lock);
	if (!cl->failed && !cl->over && cl->asked + 1 < cl->o->streams && cl->path[0] != '\0') {
		cl->asked++;
		if (pthread_create(&cl->openers[cl->asked], NULL, opener_main, cl) != 0)
			cl->asked--;
	}
	pthread_mutex_unlock(&cl->lock);
}

/*
 * Wait for the openers: their streams have ended with the run, and one
 * still opening finds no run to join (said by no one).
 */
static void client_end(struct client *cl)
{
	pthread_mutex_lock(&cl->lock);
	cl->over = 1;
	pthread_mutex_unlock(&cl->lock);
	for (int i = 1; i <= cl->asked; i++)
		pthread_join(cl->openers[i], NULL);
	pthread_mutex_destroy(&cl->lock);
}

/*
 * After the handshake, with --streams above 1: where more streams join.
 * 0, or -1 (said).
 */
static int read_rendezvous(struct rconn *c, struct client *cl)
{
	unsigned char *buf = NULL;
	size_t cap = 0, len;
	struct wire_head h;
	struct wire_in in;
	const char *path = NULL;
	const void *token = NULL;

	if (rconn_recv(c, &h, &buf, &cap) == 0 && h.type == FRAME_RENDEZVOUS) {
		wire_in_init(&in, buf, h.length);
		path = wire_str(&in, sizeof(cl->path) - 1, &len);
		token = wire_bytes(&in, sizeof(cl->token));
		if (!wire_ok(&in, 1) || memchr(path, '\0', len) != NULL || len == 0)
			path = NULL;
	}
	if (path != NULL) {
		memcpy(cl->path, path, len);
		cl->path[len] = '\0';
		memcpy(cl->token, token, sizeof(cl->token));
	} else {
		report_message("%s: the other side did not say where more streams join", cl->host);
	}
	free(buf);
	return path != NULL ? 0 : -1;
}

/* The paths of the remote operands, without their host. */
static char **remote_paths(char *const *ops, int n)
{
	char **paths = xcalloc((size_t)n + 1, sizeof(*paths));

	for (int i = 0; i < n; i++) {
		char *host;

		if (!remote_operand(ops[i], &host, &paths[i]))
			paths[i] = xstrdup(ops[i]);
		else
			free(host);
		if (paths[i][0] == '\0') { /* HOST: the home directory, where ssh starts */
			free(paths[i]);
			paths[i] = xstrdup(".");
		}
	}
	return paths;
}

static void free_paths(char **paths)
{
	for (size_t i = 0; paths != NULL && paths[i] != NULL; i++)
		free(paths[i]);
	free(paths);
}

int remote_client(const struct options *o, int kind, const struct filter *filter,
		  const struct files_from *list, mode_t user_umask, unsigned force,
		  struct run_outcome *out, int *status)
{
	int pull = kind == REMOTE_PULL;
	char *host, *dst_path = NULL, **srcs;
	struct strlist args;
	struct rconn c;
	char err[512];
	int rc = -1;

	if (pull) {
		srcs = remote_paths(o->srcs, o->nsrcs);
		host = host_of(o->srcs[0]);
	} else {
		srcs = NULL;
		(void)remote_operand(o->dst, &host, &dst_path);
		if (dst_path[0] == '\0') {
			free(dst_path);
			dst_path = xstrdup(".");
		}
	}
	strlist_init(&args);
	struct filter with_list; /* the user's rules (shared, not freed here), then the list */

	if (list != NULL) {
		/*
		 * --files-from: both machines filter with the list, after the
		 * user's rules (filter.h), the sending one walking the whole
		 * tree; the server gets the list as --listed paths.
		 */
		if (filter != NULL)
			with_list = *filter;
		else
			filter_init(&with_list);
		with_list.list = list;
		filter = &with_list;
		list = NULL;
	}
	server_options(o, filter, !pull, user_umask, &args);
	strlist_add(&args, "--");
	for (int i = 0; i < o->nsrcs; i++)
		strlist_add(&args, pull ? srcs[i] : o->srcs[i]);
	strlist_add(&args, pull ? "." : dst_path);
	struct client cl = { .o = o, .host = host, .pull = pull };
	struct remote_host peer;
	struct remote_streams grow = { client_more, &cl };

	pthread_mutex_init(&cl.lock, NULL);
	if (start_server(o, host, NULL, &c) < 0) {
		report_message("cannot run %s: %s", o->rsh, strerror(errno));
	} else {
		if (client_hello(&c, host, pull ? ROLE_SENDER : ROLE_RECEIVER, &args, &peer) == 0 &&
		    (o->streams == 1 || read_rendezvous(&c, &cl) == 0)) {
			if (pull) {
				struct options here = *o;
				sigset_t stops;

				/* Before the receiver's threads start: a stop signal is
				   the run's to take (run/monitor.h), so that it ends as
				   a local copy does rather than killing us outright. */
				monitor_block_signals(&stops);
				here.srcs = srcs;
				if (!o->streams_given)
					here.streams = remote_default_streams(&peer, o->streams);
				rc = remote_receive(&c, &here, filter, list, user_umask, force,
						    &grow, out) < 0
					     ? -1
					     : 0;
			} else if (remote_send(&c, o, filter, o->srcs, o->nsrcs, &grow, status, err,
					       sizeof(err)) == 0) {
				rc = 1;
			} else {
				report_message("%s: %s", host, err);
				*status = 1;
				rc = 1;
			}
		}
		(void)rconn_close(&c, rc < 0);
	}
	client_end(&cl);
	strlist_free(&args);
	free_paths(srcs);
	free(dst_path);
	free(host);
	return rc;
}

/* --- the server --- */

/* The connection (our stdin and stdout as we started) and the relay of our own stdout. */
static struct rconn server_conn;
static struct remote_host client_host; /* what the client said of its machine */
static int server_role;
static int server_argc; /* the client's arguments, freed at the end */
static char **server_argv;
static int relay_fd = -1;
static pthread_t relay;

int remote_is_server(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--server") != 0)
		return 0;
	if (argc == 2)
		return 1;
	return argc == 4 && strcmp(argv[2], "--join") == 0 ? 2 : 0;
}

/* --- more streams, on the server: the rendezvous --- */

/* Where the streams after the first join the server, and those that did. */
static struct {
	char dir[64];   /* a directory of our own, mode 0700 ... */
	char path[128]; /* ... holding the socket */
	int fd;         /* listening, or -1 */
	unsigned char token[REMOTE_TOKEN_SIZE];
	pthread_t thread; /* accepting */
} rv = { .fd = -1 };

/* What a joiner sends the server: one byte, and its stdin and stdout (SCM_RIGHTS). */
struct fd_message {
	char data;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct msghdr msg;
};

static void fd_message_init(struct fd_message *m)
{
	m->data = 'j';
	m->iov = (struct iovec){ &m->data, 1 };
	m->msg = (struct msghdr){ .msg_iov = &m->iov,
				  .msg_iovlen = 1,
				  .msg_control = m->u.buf,
				  .msg_controllen = sizeof(m->u.buf) };
}

/* Pass fds[2] over the socket.  0 or -1 with errno. */
static int send_fds(int sock, const int fds[2])
{
	struct fd_message m;
	struct cmsghdr *cm;

	fd_message_init(&m);
	cm = CMSG_FIRSTHDR(&m.msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, 2 * sizeof(int));
	return sendmsg(sock, &m.msg, 0) == 1 ? 0 : -1;
}

/* Receive the two fds a joiner passes (its stdin, stdout).  0 or -1. */
static int receive_fds(int sock, int fds[2])
{
	struct fd_message m;
	struct cmsghdr *cm;

	fd_message_init(&m);
	if (recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m.msg);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(2 * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
	return 0;
}

/*
 * A joiner connected: take its stdin and stdout as a connection, check
 * the JOIN that comes first on it, and give it to the side that runs.
 */
static void take_joiner(int sock)
{
	struct rconn *c;
	unsigned char *buf = NULL;
	size_t cap = 0;
	struct wire_head h;
	struct wire_in in;
	const void *token;
	uint16_t index = 0;
	int fds[2], ok = 0;

	if (receive_fds(sock, fds) < 0) {
		close(sock);
		return;
	}
	c = xmalloc(sizeof(*c));
	rconn_init(c, fds[0], fds[1]);
	if (rconn_recv(c, &h, &buf, &cap) == 0 && h.type == FRAME_JOIN) {
		wire_in_init(&in, buf, h.length);
		token = wire_bytes(&in, sizeof(rv.token));
		index = wire_u16(&in);
		ok = wire_ok(&in, 1) && memcmp(token, rv.token, sizeof(rv.token)) == 0;
	}
	free(buf);
	/* Said back before the side uses it, so the client counts it only now. */
	c->joiner = sock; /* closed with the connection */
	if (ok)
		ok = rconn_send(c, FRAME_JOIN, 0, NULL, 0) == 0 &&
		     (server_role == ROLE_RECEIVER ? remote_receive_add(c, index)
						   : remote_send_add(c, index)) == 0;
	if (!ok) {
		(void)rconn_close(c, 0);
		free(c);
	}
}

static void *accept_main(void *arg)
{
	int sock;

	(void)arg;
	while ((sock = accept4(rv.fd, NULL, NULL, SOCK_CLOEXEC)) >= 0 || errno == EINTR)
		if (sock >= 0)
			take_joiner(sock);
	return NULL;
}

/* Make the rendezvous and tell the client where it is.  0 or -1. */
static int rendezvous_open(void)
{
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct wire_out o = { 0 };
	int rc;

	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(rv.dir, sizeof(rv.dir), "%s/pcopy-XXXXXX", tmp);
	if (mkdtemp(rv.dir) == NULL) /* mode 0700: only we (and root) get in */
		return -1;
	snprintf(rv.path, sizeof(rv.path), "%s/s", rv.dir);
	memcpy(sa.sun_path, rv.path, strlen(rv.path) + 1); /* 40 + 16 bytes at most: it fits */
	rv.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rv.fd < 0 || bind(rv.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(rv.fd, MAX_STREAMS) < 0 ||
	    getrandom(rv.token, sizeof(rv.token), 0) != (ssize_t)sizeof(rv.token) ||
	    pthread_create(&rv.thread, NULL, accept_main, NULL) != 0)
		return -1;
	wire_put_str(&o, rv.path, strlen(rv.path));
	wire_put_bytes(&o, rv.token, sizeof(rv.token));
	rc = rconn_send_out(&server_conn, FRAME_RENDEZVOUS, 0, &o);
	wire_out_free(&o);
	return rc;
}

/* No more streams join (those that did end with their connections). */
static void rendezvous_close(void)
{
	if (rv.fd >= 0) {
		shutdown(rv.fd, SHUT_RDWR); /* wakes accept_main */
		pthread_join(rv.thread, NULL);
		close(rv.fd);
		rv.fd = -1;
		unlink(rv.path);
		rmdir(rv.dir);
	}
}

/* remote_streams.more of a server that receives: the client opens it. */
static void server_more(void *ctx)
{
	(void)ctx;
	(void)rconn_send(&server_conn, FRAME_GROW, 0, NULL, 0);
}

int remote_join(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const int fds[2] = { STDIN_FILENO, STDOUT_FILENO };
	char c;
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), null;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "pcopy --server --join: %s: %s\n", path, strerror(ENAMETOOLONG));
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send_fds(sock, fds) < 0) {
		/* Gone or refusing: the run it was to join has ended, which the
		   client knows; anything else is news. */
		if (errno != ENOENT && errno != ECONNREFUSED)
			fprintf(stderr, "pcopy --server --join: %s: %s\n", path, strerror(errno));
		return 2;
	}
	/*
	 * The server has our stdin and stdout now: let go of ours and of our
	 * stderr (sshd ends a session's output only when both are closed), so
	 * that its closing them ends the connection; stay until its run ends.
	 */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(null, STDOUT_FILENO);
		(void)dup2(null, STDERR_FILENO);
		close(null);
	}
	while (read(sock, &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* Copy what we print on stdout to the client, in OUTPUT frames, until it closes. */
static void *relay_main(void *arg)
{
	char buf[16384];
	ssize_t n;

	(void)arg;
	while ((n = read(relay_fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || rconn_send(&server_conn, FRAME_OUTPUT, 1, buf, (size_t)n) < 0)
			break;
	}
	close(relay_fd);
	return NULL;
}

/*
 * Keep stdin and stdout for the connection and give the process a stdout
 * of its own, a pipe relayed to the client, and a stdin that reads
 * nothing.  0 or -1.
 */
static int take_stdio(void)
{
	int in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	int out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	int p[2], null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (in < 0 || out < 0 || null < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (dup2(null, STDIN_FILENO) < 0 || dup2(p[1], STDOUT_FILENO) < 0)
		return -1;
	close(null);
	close(p[1]);
	relay_fd = p[0];
	rconn_init(&server_conn, in, out);
	return pthread_create(&relay, NULL, relay_main, NULL) == 0 ? 0 : -1;
}

int remote_server_start(int *argc, char ***argv)
{
	char err[512];

	if (take_stdio() < 0) {
		fprintf(stderr, "pcopy --server: cannot start: %s\n", strerror(errno));
		return -1;
	}
	if (remote_hello_send(&server_conn, 0, 0, NULL) < 0 ||
	    remote_hello_recv(&server_conn, &server_role, &server_argc, &server_argv, &client_host,
			      err, sizeof(err)) < 0) {
		fprintf(stderr, "pcopy --server: %s\n", err);
		return -1;
	}
	if (server_role != ROLE_SENDER && server_role != ROLE_RECEIVER) {
		fprintf(stderr, "pcopy --server: the client asked for no role it has\n");
		return -1;
	}
	*argc = server_argc;
	*argv = server_argv;
	return 0;
}

int remote_server_run(const struct options *o, const struct filter *filter,
		      const struct files_from *list, mode_t user_umask, unsigned force,
		      struct run_outcome *out, int *status)
{
	static const struct remote_streams grow = { server_more, NULL };
	char err[512];
	int rc;

	if (o->streams > 1 && rendezvous_open() < 0) {
		fprintf(stderr, "pcopy --server: cannot make a rendezvous for more streams: %s\n",
			strerror(errno));
		return -1;
	}
	if (server_role == ROLE_RECEIVER) {
		struct options mine = *o;

		if (!o->streams_given)
			mine.streams = remote_default_streams(&client_host, o->streams);
		rc = remote_receive(&server_conn, &mine, filter, list, user_umask, force,
				    o->streams > 1 ? &grow : NULL, out) < 0
			     ? -1
			     : 0;
		rendezvous_close();
		return rc;
	}
	*status = remote_send(&server_conn, o, filter, o->srcs, o->nsrcs, NULL, NULL, err,
			      sizeof(err)) == 0
			  ? 0
			  : 1;
	rendezvous_close();
	if (*status != 0 && err[0] != '\0')
		fprintf(stderr, "pcopy --server: %s\n", err);
	return 1;
}

void remote_server_end(int status)
{
	unsigned char code[4] = { (unsigned char)status, 0, 0, 0 };

	/* Everything printed goes first: close our stdout, let the relay drain it. */
	(void)output_close();
	fflush(stdout);
	close(STDOUT_FILENO);
	pthread_join(relay, NULL);
	if (server_role == ROLE_RECEIVER)
		(void)rconn_send(&server_conn, FRAME_EXIT, 0, code, sizeof(code));
	(void)rconn_close(&server_conn, 0);
	remote_args_free(server_argc, server_argv);
}
