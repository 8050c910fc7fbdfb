/* An export kept as a list of pieces of open files instead of one file written in full: the
 * mount's control directory (docs/mount.md) serves a cpio export as the concatenation of the
 * segment cache's entries and of the segments made fresh for it, so a re-export after a small
 * edit writes only the changed segments (issue 6). Each piece remembers what its file was
 * (inode, size, mtime, ctime) when it was added: a file changed on disk since is found by
 * exp_pieces_check and never served. */
#ifndef RF_PIECES_H
#define RF_PIECES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct exp_piece {
	int fd;		 /* owned; EXP_PIECE_OUTPUT: the export's own output file */
	uint64_t off;	 /* byte offset in fd */
	uint64_t len;	 /* bytes */
	uint64_t start;	 /* byte offset of the piece in the export */
	uint64_t ino;	 /* fstat of fd when added (not for EXP_PIECE_OUTPUT) */
	uint64_t size;
	int64_t mtime_ns, ctime_ns;
};

#define EXP_PIECE_OUTPUT (-1)
/* At most this many pieces hold a descriptor of their own; further cache hits are copied into
 * the output file (exporters count on this to stay well under RLIMIT_NOFILE). */
#define EXP_PIECES_MAX_FDS 256

struct exp_pieces {
	struct exp_piece *v; /* in export order, contiguous: v[i+1].start == v[i].start + len */
	size_t n, cap;
	size_t n_fds;  /* pieces with a descriptor of their own */
	uint64_t size; /* bytes of the whole export */
	bool filled;   /* the exporter described its output here (cpio); else the output file
			* is the whole export */
};

/* Append len bytes at byte offset off of fd. fd is EXP_PIECE_OUTPUT or a descriptor the list
 * takes over (closed here on failure too). A piece that continues the previous one in the
 * same file is merged into it. Returns 0, or -ENOMEM / a negative errno of fstat(2). */
int exp_pieces_add(struct exp_pieces *p, int fd, uint64_t off, uint64_t len);

/* Whether the files of pieces [first, end) still have the inode, size, mtime and ctime they
 * had when the pieces were added (any write or truncation changes the ctime). Returns 0 or
 * -ESTALE. */
int exp_pieces_check(const struct exp_pieces *p, size_t first, size_t end);

/* Index of the piece holding export byte offset pos (pos < p->size). */
size_t exp_pieces_find(const struct exp_pieces *p, uint64_t pos);

/* Close the descriptors and free the list; the struct is left empty. */
void exp_pieces_free(struct exp_pieces *p);

#endif
