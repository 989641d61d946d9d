/*
 * remote.h - pcopy across machines (pcopy SRC... HOST:DST, pcopy
 * HOST:SRC... DST): the protocol between the client and `pcopy --server`
 * at the far end of the user's ssh, and what each side runs.
 *
 * Whichever side the client is, the copy runs where DST is, so that every
 * decision (--update, --delete, --link-dest, hard links, directory
 * metadata) is taken by the same code as a local copy, beside the files
 * it is about:
 *
 *	the RECEIVER has DST: it runs pcopy's walker, decisions and
 *	    workers, its walker taking directory listings from the sender
 *	    (walk.h's walk_source) and its workers being the streams, each
 *	    asking the sender for the files it must write, many at a time;
 *	the SENDER has SRC: it lists its directories in the order the
 *	    receiver's walker enters them (names, stats, link targets,
 *	    extended attributes, with -c the contents' hashes), and reads the
 *	    files asked for, hashing what it sends (XXH3-128), checked before
 *	    anything is installed.
 *
 * Push (pcopy SRC HOST:DST): the client sends, the server receives and
 * sends back what pcopy prints (lines, progress, stats) and its status.
 * Pull (pcopy HOST:SRC DST): the server sends, the client receives.
 *
 * Streams.  Stream 0 is the client's `RSH HOST REMOTE-PCOPY --server`;
 * each other stream is another `RSH HOST REMOTE-PCOPY --server --join
 * SOCKET`, which passes its standard input and output to the first server
 * over the Unix socket that server made in a directory of its own (mode
 * 0700), with the token the client got from it, and then waits for the
 * run to end.  So the cipher's work spreads over as many ssh processes on
 * each machine as there are streams, and one server process sees them
 * all.
 *
 * Frames (wire.h) are typed by `enum remote_frame`; stream 0 carries the
 * run's frames, each stream its own requests and file data.  The first
 * frame each way is HELLO: the version (a mismatch ends the run with one
 * line naming both), then the client's request; the server never prints
 * to a terminal, and what it would say on its standard error goes to the
 * client in frames.
 */
#ifndef PCOPY_REMOTE_H
#define PCOPY_REMOTE_H

#include <stdint.h>

#define REMOTE_MAGIC 0x59504350u /* "PCPY", little-endian */
#define REMOTE_VERSION 2

/* What a frame is (wire_head.type). */
enum remote_frame {
	FRAME_HELLO = 1,  /* both ways, first: magic, version, then the request or answer */
	FRAME_FATAL,      /* a reason: the run ends (either way, any time) */
	FRAME_OUTPUT,     /* receiver server -> client: bytes for its stdout or stderr */
	FRAME_EXIT,       /* receiver server -> client: the run's exit status, last */
	FRAME_ROOT,       /* sender -> receiver: an operand's stat, or why it cannot be */
	FRAME_START,      /* receiver -> sender: list operand k, with these walk options */
	FRAME_LISTING,    /* sender -> receiver: one directory's entries */
	FRAME_WALKED,     /* sender -> receiver: operand k is listed to its end */
	FRAME_CREDIT,     /* receiver -> sender: bytes of listings it may send more */
	FRAME_WANT,       /* receiver -> sender, on a stream: send these files */
	FRAME_FILE,       /* sender -> receiver, on that stream: a file's data begins */
	FRAME_DATA,       /* ... its bytes at an offset */
	FRAME_HOLE,       /* ... a hole */
	FRAME_END,        /* ... its end: the size read and the hash */
	FRAME_FAILED,     /* ... or why it could not be read */
	FRAME_META,       /* receiver -> sender: the current stats of these directories */
	FRAME_METAS,      /* sender -> receiver: the answer */
	FRAME_DONE,       /* receiver -> sender: nothing more will be asked; and back */
	FRAME_RENDEZVOUS, /* server -> client, after HELLO with --streams > 1: where
			     more streams join (str socket path, 16-byte token) */
	FRAME_JOIN,       /* client -> server, first on a new stream: the token, u16 index */
	FRAME_GROW,       /* receiver server -> client: open one more stream */
	FRAME_SUM,        /* receiver -> sender, on a stream: as WANT, but only the hash */
	FRAME_TYPES,      /* one past the last */
};

/*
 * HELLO's payload, the first frame each way (stream 0; each side sends its
 * own at once, then reads the other's):
 *
 *	u32 magic        REMOTE_MAGIC
 *	u32 version      REMOTE_VERSION; a side that reads another ends the
 *	                 run with one line naming both (exit 2)
 *	str program      "pcopy VERSION", for that line
 *	u8  role         client -> server: the server's enum remote_role;
 *	                 server -> client: 0
 *	u32 nargs        client -> server: the run's options as arguments
 *	str args[nargs]  (cli/args.c parses them on the server as on the
 *	                 client), then the server's operands; server: 0
 *	u32 cpus         the CPUs the side may run on, and
 *	str boot         its kernel's boot id (at most 39 bytes, maybe
 *	                 empty): without --streams, the receiver opens as
 *	                 many streams as the CPUs allow (remote_conn.h's
 *	                 remote_default_streams)
 */
#define REMOTE_ARGS_MAX ((uint32_t)1 << 17) /* arguments in a HELLO, at most (a
						--files-from list is one a path;
						the 4 MiB frame holds ~80,000) */
#define REMOTE_ARG_MAX 8192  /* bytes of one, at most */
#define REMOTE_TOKEN_SIZE 16

/*
 * Listings the receiver holds unread, at most: the sender sends ahead only
 * what this credit allows (CREDIT gives back what the walker took), and a
 * frame of one listing is at most REMOTE_LISTING_FRAME bytes (more follow).
 */
#define REMOTE_LISTING_CREDIT ((uint64_t)4 << 20)
#define REMOTE_LISTING_FRAME ((size_t)256 << 10)

/*
 * File data.  The receiver asks for a regular file in ranges (WANT: u32
 * id, str relpath, u64 offset, u64 length; the last range of a file asks
 * for everything to its end, UINT64_MAX), each answered on the same stream
 * in the order asked:
 *
 *	FILE    u32 id, stat            the file as opened
 *	DATA    u32 id, u64 offset, bytes      in order, from the range's offset
 *	HOLE    u32 id, u64 offset, u64 length
 *	END     u32 id, u64 bytes, u8 changed (ctime or size moved while it
 *	        was read), XXH3-128 of the range's bytes (a hole's as zeros)
 *	or FAILED  u32 id, i32 errno
 *
 * A receiver keeps at most REMOTE_WINDOW bytes asked for and not yet taken
 * on each stream, in ranges of at most REMOTE_RANGE: what arrives is what
 * was asked, so memory stays bounded whatever the disks do.
 *
 * SUM (as WANT: u32 id, str relpath, u64 offset, u64 length) is answered
 * as WANT is, without the DATA and HOLE frames: FILE, then END with the
 * bytes the range had and their hash.  --partial asks it for the start
 * of a file it kept, to check that start against the file as it is now
 * before asking for the rest.
 */
#define REMOTE_RANGE ((uint64_t)1 << 20)
#define REMOTE_WINDOW ((uint64_t)4 << 20)

/*
 * Paths cross shorter than PATH_MAX (wire.h's wire_path_ok): an entry
 * deeper is reported as an error (ENAMETOOLONG) and a directory is not
 * entered where a name inside it would not fit.
 */
#define REMOTE_PATH_MAX 4096
#define REMOTE_DIR_PATH_MAX (REMOTE_PATH_MAX - 256)

/* Who the server is (HELLO from the client). */
enum remote_role {
	ROLE_SENDER = 1,
	ROLE_RECEIVER = 2,
};

#endif
