/* remote_conn.c - a remote copy's connections and their frames (remote_conn.h). */
#include "transport/remote_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "transport/remote.h"

void rconn_init(struct rconn *c, int in, int out)
{
	memset(c, 0, sizeof(*c));
	c->in = in;
	c->out = out;
	c->joiner = -1;
	pthread_mutex_init(&c->wlock, NULL);
}

int rconn_spawn(struct rconn *c, char *const argv[])
{
	int to[2], from[2];
	pid_t pid;

	if (pipe2(to, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(from, O_CLOEXEC) < 0) {
		close_both(to[0], to[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		int saved = errno;

		close_both(to[0], to[1]);
		close_both(from[0], from[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		/* The child: our pipes become its stdin and stdout, and the
		   signals a run blocks (monitor.h) reach it again. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(to[0], STDIN_FILENO) < 0 || dup2(from[1], STDOUT_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "pcopy: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close_both(to[0], from[1]);
	rconn_init(c, from[0], to[1]);
	c->pid = pid;
	return 0;
}

static int write_iov(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t got = writev(fd, iov, n);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)got >= iov->iov_len) {
			got -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + got;
			iov->iov_len -= (size_t)got;
		}
	}
	return 0;
}

/* Bytes queued by rconn_send_more past which they are written at once. */
#define OBUF_FLUSH ((size_t)64 << 10)
/* Bytes read from a connection at a time. */
#define IBUF_SIZE ((size_t)64 << 10)

/*
 * Write what is queued and then (payload may be NULL) one frame, or with
 * `more` queue the frame while little is queued.  c->wlock is held.
 */
static int put_frame(struct rconn *c, const unsigned char *head, const void *payload, size_t len,
		     int more)
{
	struct iovec iov[3];
	int n = 0;

	if (more && c->olen + WIRE_HEAD_SIZE + len <= OBUF_FLUSH) {
		if (c->ocap < OBUF_FLUSH) {
			c->ocap = OBUF_FLUSH;
			c->obuf = xrealloc(c->obuf, c->ocap);
		}
		memcpy(c->obuf + c->olen, head, WIRE_HEAD_SIZE);
		if (len > 0)
			memcpy(c->obuf + c->olen + WIRE_HEAD_SIZE, payload, len);
		c->olen += WIRE_HEAD_SIZE + len;
		return 0;
	}
	if (c->olen > 0)
		iov[n++] = (struct iovec){ c->obuf, c->olen };
	if (head != NULL)
		iov[n++] = (struct iovec){ (void *)head, WIRE_HEAD_SIZE };
	if (len > 0)
		iov[n++] = (struct iovec){ (void *)payload, len };
	c->olen = 0;
	if (n == 0)
		return 0;
	if (c->out < 0) {
		errno = EPIPE;
		return -1;
	}
	return write_iov(c->out, iov, n);
}

static int send_frame(struct rconn *c, uint16_t type, uint16_t stream, const void *payload,
		      size_t len, int more)
{
	unsigned char head[WIRE_HEAD_SIZE];
	struct wire_head h = { (uint32_t)len, type, stream };
	int rc;

	if (len > WIRE_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (atomic_load(&c->broken)) {
		errno = EPIPE;
		return -1;
	}
	wire_head_put(head, &h);
	pthread_mutex_lock(&c->wlock);
	rc = put_frame(c, head, payload, len, more);
	pthread_mutex_unlock(&c->wlock);
	if (rc < 0)
		atomic_store(&c->broken, 1);
	else
		atomic_fetch_add_explicit(&c->sent, sizeof(head) + len, memory_order_relaxed);
	return rc;
}

int rconn_send(struct rconn *c, uint16_t type, uint16_t stream, const void *payload, size_t len)
{
	return send_frame(c, type, stream, payload, len, 0);
}

int rconn_send_more(struct rconn *c, uint16_t type, uint16_t stream, const void *payload,
		    size_t len)
{
	return send_frame(c, type, stream, payload, len, 1);
}

int rconn_flush(struct rconn *c)
{
	int rc;

	pthread_mutex_lock(&c->wlock);
	rc = put_frame(c, NULL, NULL, 0, 0);
	pthread_mutex_unlock(&c->wlock);
	if (rc < 0)
		atomic_store(&c->broken, 1);
	return rc;
}

int rconn_send_out(struct rconn *c, uint16_t type, uint16_t stream, struct wire_out *o)
{
	int rc = rconn_send(c, type, stream, o->buf, o->len);

	o->len = 0;
	return rc;
}

/*
 * Read exactly len bytes, from what was read ahead first, reading ahead
 * as much as there is (up to IBUF_SIZE) when short.  0, or -1 with errno
 * (ECONNRESET at an end of file).
 */
static int read_full(struct rconn *c, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t got;

		if (c->ilen > 0) {
			size_t n = c->ilen < len ? c->ilen : len;

			memcpy(p, c->ibuf + c->ihead, n);
			c->ihead += n;
			c->ilen -= n;
			p += n;
			len -= n;
			continue;
		}
		if (c->ibuf == NULL)
			c->ibuf = xmalloc(IBUF_SIZE);
		/* A large payload goes straight where it belongs. */
		if (len >= IBUF_SIZE)
			got = read(c->in, p, len);
		else
			got = read(c->in, c->ibuf, IBUF_SIZE);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = ECONNRESET;
			return -1;
		}
		if (len >= IBUF_SIZE) {
			p += got;
			len -= (size_t)got;
		} else {
			c->ihead = 0;
			c->ilen = (size_t)got;
		}
	}
	return 0;
}

int rconn_ready(const struct rconn *c)
{
	struct wire_head h;

	return c->ilen >= WIRE_HEAD_SIZE && wire_head_get(c->ibuf + c->ihead, &h) == 0 &&
	       c->ilen - WIRE_HEAD_SIZE >= h.length;
}

int rconn_recv(struct rconn *c, struct wire_head *h, unsigned char **buf, size_t *cap)
{
	unsigned char head[WIRE_HEAD_SIZE];

	/* About to wait for the peer: nothing of ours may wait with us. */
	if (!rconn_ready(c) && rconn_flush(c) < 0 && c->out >= 0)
		goto broken;

	if (read_full(c, head, sizeof(head)) < 0)
		goto broken;
	if (wire_head_get(head, h) < 0) {
		errno = EPROTO;
		goto broken;
	}
	if (*cap < h->length || *buf == NULL) {
		*cap = h->length > 4096 ? h->length : 4096;
		*buf = xrealloc(*buf, *cap);
	}
	if (read_full(c, *buf, h->length) < 0)
		goto broken;
	atomic_fetch_add_explicit(&c->received, sizeof(head) + h->length, memory_order_relaxed);
	return 0;
broken:
	atomic_store(&c->broken, 1);
	return -1;
}

void rconn_hangup(struct rconn *c)
{
	pthread_mutex_lock(&c->wlock);
	/* sshd may give a command one socket as both stdin and stdout: closing
	   our copy of it would end nothing while the other is open. */
	if (c->out >= 0) {
		(void)shutdown(c->out, SHUT_WR); /* ENOTSOCK on a pipe: the close does it */
		close(c->out);
	}
	c->out = -1;
	if (c->joiner >= 0)
		close(c->joiner);
	c->joiner = -1;
	pthread_mutex_unlock(&c->wlock);
}

int rconn_close(struct rconn *c, int kill_it)
{
	int status = 0;

	atomic_store(&c->broken, 1);
	if (c->joiner >= 0)
		close(c->joiner);
	c->joiner = -1;
	if (c->out >= 0)
		close(c->out);
	if (c->in >= 0 && c->in != c->out)
		close(c->in);
	c->in = c->out = -1;
	if (c->pid > 0) {
		if (kill_it)
			kill(c->pid, SIGTERM);
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	pthread_mutex_destroy(&c->wlock);
	free(c->obuf);
	free(c->ibuf);
	c->obuf = c->ibuf = NULL;
	c->olen = c->ocap = c->ilen = 0;
	return status;
}

/* --- the handshake --- */

#define PROGRAM "pcopy " PCOPY_VERSION

void remote_host_self(struct remote_host *h)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, h->boot, sizeof(h->boot) - 1) : -1;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	h->cpus = n > 0 && n < 65536 ? (unsigned)n : 1;
	h->boot[len > 0 ? len : 0] = '\0';
	h->boot[strcspn(h->boot, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
}

int remote_default_streams(const struct remote_host *peer, int most)
{
	struct remote_host self;
	unsigned n;

	remote_host_self(&self);
	if (self.boot[0] != '\0' && strcmp(self.boot, peer->boot) == 0)
		n = self.cpus / 2;
	else
		n = self.cpus < peer->cpus ? self.cpus : peer->cpus;
	return n < 1 ? 1 : n > (unsigned)most ? most : (int)n;
}

int remote_hello_send(struct rconn *c, int role, int nargs, char *const args[])
{
	struct wire_out o = { 0 };
	struct remote_host self;
	int rc;

	wire_put_u32(&o, REMOTE_MAGIC);
	wire_put_u32(&o, REMOTE_VERSION);
	wire_put_str(&o, PROGRAM, strlen(PROGRAM));
	wire_put_u8(&o, (uint8_t)role);
	wire_put_u32(&o, (uint32_t)nargs);
	for (int i = 0; i < nargs; i++)
		wire_put_str(&o, args[i], strlen(args[i]));
	remote_host_self(&self);
	wire_put_u32(&o, self.cpus);
	wire_put_str(&o, self.boot, strlen(self.boot));
	rc = rconn_send_out(c, FRAME_HELLO, 0, &o);
	wire_out_free(&o);
	return rc;
}

void remote_args_free(int nargs, char **args)
{
	for (int i = 0; args != NULL && i < nargs; i++)
		free(args[i]);
	free(args);
}

/* The arguments of a HELLO: args[0] "pcopy", then nargs strings.  0 or -1. */
static int read_args(struct wire_in *in, int *nargs, char ***args)
{
	uint32_t n = wire_u32(in);

	*nargs = 0;
	*args = NULL;
	/* Each takes 4 bytes at least: no more than the frame can hold. */
	if (n > REMOTE_ARGS_MAX || n > in->left / 4 || !wire_ok(in, 0))
		return -1;
	*args = xcalloc((size_t)n + 2, sizeof(**args));
	(*args)[0] = xstrdup("pcopy");
	*nargs = 1;
	for (uint32_t i = 0; i < n; i++) {
		static __thread char buf[REMOTE_ARG_MAX + 1];

		if (wire_cstr(in, buf, REMOTE_ARG_MAX) == NULL)
			return -1;
		(*args)[(*nargs)++] = xstrdup(buf);
	}
	return wire_ok(in, 0) ? 0 : -1;
}

int remote_hello_recv(struct rconn *c, int *role, int *nargs, char ***args,
		      struct remote_host *peer, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t cap = 0, len;
	struct wire_head h;
	struct wire_in in;
	uint32_t magic, version;
	const char *program;
	int rc = -1;

	*nargs = 0;
	*args = NULL;
	if (rconn_recv(c, &h, &buf, &cap) < 0) {
		snprintf(err, errlen, "the connection closed before the handshake (%s)",
			 strerror(errno));
		free(buf);
		return -1;
	}
	wire_in_init(&in, buf, h.length);
	magic = wire_u32(&in);
	version = wire_u32(&in);
	program = wire_str(&in, 256, &len);
	if (h.type != FRAME_HELLO || magic != REMOTE_MAGIC || !wire_ok(&in, 0)) {
		snprintf(err, errlen, "the other side does not speak pcopy's protocol");
	} else if (version != REMOTE_VERSION) {
		snprintf(err, errlen,
			 "the other side speaks protocol version %u (%.*s), this pcopy version %u "
			 "(%s)",
			 (unsigned)version, (int)len, program, (unsigned)REMOTE_VERSION, PROGRAM);
	} else {
		*role = wire_u8(&in);
		rc = read_args(&in, nargs, args);
		peer->cpus = wire_u32(&in);
		if (rc == 0 && (wire_cstr(&in, peer->boot, sizeof(peer->boot) - 1) == NULL ||
				!wire_ok(&in, 1) || peer->cpus == 0 || peer->cpus > 65535))
			rc = -1;
		if (rc < 0) {
			snprintf(err, errlen, "a malformed handshake");
			remote_args_free(*nargs, *args);
			*nargs = 0;
			*args = NULL;
		}
	}
	free(buf);
	return rc;
}

/* --- fields --- */

void wire_put_stat(struct wire_out *o, const struct stat *st)
{
	wire_put_u64(o, st->st_dev);
	wire_put_u64(o, st->st_ino);
	wire_put_u32(o, st->st_mode);
	wire_put_u32(o, (uint32_t)st->st_nlink);
	wire_put_u32(o, st->st_uid);
	wire_put_u32(o, st->st_gid);
	wire_put_u64(o, st->st_rdev);
	wire_put_u64(o, (uint64_t)st->st_size);
	wire_put_u64(o, (uint64_t)st->st_blocks);
	wire_put_i64(o, st->st_atim.tv_sec);
	wire_put_u32(o, (uint32_t)st->st_atim.tv_nsec);
	wire_put_i64(o, st->st_mtim.tv_sec);
	wire_put_u32(o, (uint32_t)st->st_mtim.tv_nsec);
	wire_put_i64(o, st->st_ctim.tv_sec);
	wire_put_u32(o, (uint32_t)st->st_ctim.tv_nsec);
}

/* Is `mode` the type of a file we copy? */
static int known_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK: return 1;
	default: return 0;
	}
}

void wire_get_stat(struct wire_in *in, struct stat *st)
{
	uint64_t size, blocks;
	uint32_t ansec, mnsec, cnsec;

	memset(st, 0, sizeof(*st));
	st->st_dev = wire_u64(in);
	st->st_ino = wire_u64(in);
	st->st_mode = wire_u32(in);
	st->st_nlink = wire_u32(in);
	st->st_uid = wire_u32(in);
	st->st_gid = wire_u32(in);
	st->st_rdev = wire_u64(in);
	size = wire_u64(in);
	blocks = wire_u64(in);
	st->st_atim.tv_sec = wire_i64(in);
	ansec = wire_u32(in);
	st->st_mtim.tv_sec = wire_i64(in);
	mnsec = wire_u32(in);
	st->st_ctim.tv_sec = wire_i64(in);
	cnsec = wire_u32(in);
	/* Nothing past what the types hold: a size is an off_t, a ns below 1e9. */
	if (size > INT64_MAX || blocks > INT64_MAX || ansec >= 1000000000u ||
	    mnsec >= 1000000000u || cnsec >= 1000000000u || !known_type(st->st_mode))
		in->bad = 1;
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)blocks;
	st->st_atim.tv_nsec = ansec;
	st->st_mtim.tv_nsec = mnsec;
	st->st_ctim.tv_nsec = cnsec;
}
