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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/strlist.h"
#include "base/util.h"
#include "core/options.h"
#include "report/message.h"
#include "report/output.h"
#include "run/run.h"
#include "transport/remote.h"
#include "transport/remote_conn.h"
#include "transport/remote_side.h"
#include "walk/filter.h"

int remote_operand(const char *arg, char **host, char **path)
{
	const char *colon, *slash = strchr(arg, '/');

	if (arg[0] == '[') { /* [ADDR]:PATH */
		const char *close = strchr(arg, ']');

		if (close == NULL || close[1] != ':' || (slash != NULL && slash < close))
			return 0;
		*host = xmalloc((size_t)(close - arg));
		memcpy(*host, arg + 1, (size_t)(close - arg - 1));
		(*host)[close - arg - 1] = '\0';
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
			snprintf(err, errlen, "every remote SRC must be on one host, not '%s' and '%s'",
				 first, h);
			rc = -1;
		}
		if (h != first)
			free(h);
	}
	if (rc == 0 && remote > 0 && dst != NULL) {
		snprintf(err, errlen, "a copy from one remote host to another is not supported: "
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
			   struct strlist *l)
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
	if (o->update_given)
		add(l, "--update=", updates[o->update]);
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		if (!(o->preserve & (1u << i)))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 list[0] ? "," : "", parts[i]);
	if (list[0] != '\0')
		add(l, "--no-preserve=", list);
	for (size_t i = 0; f != NULL && i < f->count; i++) {
		int include;
		const char *text = filter_rule_text(f, i, &include);

		add(l, include ? "--include=+ " : "--exclude=- ", text);
	}
	if (!receiver)
		return;
	/* What only the side that runs the copy needs. */
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
	{
		char n[16];

		snprintf(n, sizeof(n), "%d", o->streams);
		add(l, "--streams=", n);
	}
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

/* Start `RSH HOST REMOTE-PCOPY --server`.  0, or -1 (said). */
static int start_server(const struct options *o, const char *host, struct rconn *c)
{
	struct strlist words;
	char **argv;
	int rc;

	strlist_init(&words);
	split_words(o->rsh, &words);
	strlist_add(&words, host);
	strlist_add(&words, o->remote_pcopy);
	strlist_add(&words, "--server");
	argv = xcalloc(words.count + 1, sizeof(*argv));
	for (size_t i = 0; i < words.count; i++)
		argv[i] = (char *)strlist_get(&words, i);
	rc = rconn_spawn(c, argv);
	if (rc < 0)
		report_message("cannot run %s: %s", argv[0], strerror(errno));
	free(argv);
	strlist_free(&words);
	return rc;
}

/* Handshake as the client: ask for `role` with these arguments.  0, or -1 (said). */
static int client_hello(struct rconn *c, const char *host, int role, struct strlist *args)
{
	char **argv = xcalloc(args->count + 1, sizeof(*argv));
	char err[512], **theirs;
	int rc, their_role, n;

	for (size_t i = 0; i < args->count; i++)
		argv[i] = (char *)strlist_get(args, i);
	rc = remote_hello_send(c, role, (int)args->count, argv);
	free(argv);
	if (rc == 0 && remote_hello_recv(c, &their_role, &n, &theirs, err, sizeof(err)) == 0) {
		remote_args_free(n, theirs);
		return 0;
	}
	if (rc < 0)
		snprintf(err, sizeof(err), "the connection closed before the handshake (%s)",
			 strerror(errno));
	report_message("%s: %s", host, err);
	return -1;
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
	server_options(o, filter, !pull, &args);
	strlist_add(&args, "--");
	for (int i = 0; i < o->nsrcs; i++)
		strlist_add(&args, pull ? srcs[i] : o->srcs[i]);
	strlist_add(&args, pull ? "." : dst_path);
	if (start_server(o, host, &c) == 0) {
		if (client_hello(&c, host, pull ? ROLE_SENDER : ROLE_RECEIVER, &args) == 0) {
			if (pull) {
				struct options here = *o;

				here.srcs = srcs;
				rc = remote_receive(&c, &here, filter, list, user_umask, force, out) < 0
					     ? -1
					     : 0;
			} else if (remote_send(&c, o, filter, o->srcs, o->nsrcs, status, err,
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
	strlist_free(&args);
	free_paths(srcs);
	free(dst_path);
	free(host);
	return rc;
}

/* --- the server --- */

/* The connection (our stdin and stdout as we started) and the relay of our own stdout. */
static struct rconn server_conn;
static int relay_fd = -1;
static pthread_t relay;

int remote_is_server(int argc, char **argv)
{
	return argc == 2 && strcmp(argv[1], "--server") == 0;
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

static int server_role;

int remote_server_start(int *argc, char ***argv)
{
	char err[512];

	if (take_stdio() < 0) {
		fprintf(stderr, "pcopy --server: cannot start: %s\n", strerror(errno));
		return -1;
	}
	if (remote_hello_send(&server_conn, 0, 0, NULL) < 0 ||
	    remote_hello_recv(&server_conn, &server_role, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pcopy --server: %s\n", err);
		return -1;
	}
	if (server_role != ROLE_SENDER && server_role != ROLE_RECEIVER) {
		fprintf(stderr, "pcopy --server: the client asked for no role it has\n");
		return -1;
	}
	return 0;
}

int remote_server_run(const struct options *o, const struct filter *filter,
		      const struct files_from *list, mode_t user_umask, unsigned force,
		      struct run_outcome *out, int *status)
{
	char err[512];

	if (server_role == ROLE_RECEIVER)
		return remote_receive(&server_conn, o, filter, list, user_umask, force, out) < 0
			       ? -1
			       : 0;
	*status = remote_send(&server_conn, o, filter, o->srcs, o->nsrcs, NULL, err,
			      sizeof(err)) == 0
			  ? 0
			  : 1;
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
}
