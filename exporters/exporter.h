/* Exporters: serialize a merged view to one output file. Each format is one file in exporters/
 * that fills a struct exporter_ops and is listed once in the registry table of exporter.c, as
 * libarchive's archive_write_set_format_by_name finds a format writer. The framework picks the
 * format, writes to a temporary name beside the output, walks the view in its stable sorted
 * order (root first, a directory before its children) calling add() for every node, and renames
 * the result into place only when close() succeeded, so a failure never leaves a half-written
 * output. */
#ifndef RF_EXPORTER_H
#define RF_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "pieces.h"
#include "view.h"

struct exp_options {
	const char *format;        /* "cpio", "ext4", "qcow2", "iso"; NULL: from the suffix */
	const char *compress;      /* cpio: gzip|zstd|xz|lz4|none; NULL: from the suffix/default */
	int level;                 /* compression level, -1: the compressor's default */
	bool has_epoch;            /* SOURCE_DATE_EPOCH given: every mtime becomes epoch */
	int64_t epoch;             /* seconds since the epoch */
	unsigned threads;          /* worker threads, 0: one per online CPU */
	uint64_t size_bytes;       /* ext4/qcow2: filesystem size, 0: computed with headroom */
	const char *uuid;          /* ext4/qcow2: filesystem UUID text, NULL: from the content */
	const char *kernel;        /* iso: a bzImage; makes the ISO El Torito bootable */
	const char *append;        /* iso: kernel command line for the boot loader */
	const char *partition;     /* ext4/qcow2: NULL (bare filesystem), "gpt" or "mbr" */
	const char *cache_dir;     /* cpio: segment cache directory, NULL: no cache */
	uint64_t cache_size_bytes; /* bound of the segment cache, 0: the default (1 GiB) */
	uint64_t segment_bytes;    /* cpio: newc bytes per segment, about; 0: the default 4 MiB */
	bool one_piece;            /* cpio: one segment, one compressed stream */
	bool quiet;                /* no progress line even on a terminal */
	bool fsync;                /* exp_export_file: fsync(2) the output before the rename */
	/* exp_export_fd only, NULL: none. When set (empty), the export is described here as
	 * pieces of files (pieces.h): cpio leaves its cache hits in the segment cache's files
	 * and writes only fresh segments to the output; other formats get one piece, the whole
	 * output. The caller frees it (exp_pieces_free). */
	struct exp_pieces *pieces;
};

/* One export in progress, handed to every exporter_ops call. */
struct exp_ctx {
	const struct ovl_view *view;
	int fd;                     /* the temporary output: O_RDWR, empty, at offset 0 */
	const char *out_path;       /* the final output name, for messages */
	const struct exp_options *opt;
	const char *compress;       /* effective compression (cpio), never NULL for cpio */
	struct rf_err *err;         /* where an exporter records its one-line message */
	void *priv;                 /* the exporter's state, set by open() */
};

struct exporter_ops {
	const char *name;              /* --format value: "cpio" */
	const char *const *suffixes;   /* output suffixes that select it, NULL-terminated */
	/* Prepare the output (the view is complete and may be scanned, e.g. for sizing). */
	int (*open)(struct exp_ctx *c);
	/* One node in sorted pre-order; path is the guest path ("" for the root), borrowed for
	 * the call. Hard links share n->ino. */
	int (*add)(struct exp_ctx *c, const struct ovl_node *n, const char *path);
	/* Finish the output. Called once after the last add(), only when every add succeeded. */
	int (*close)(struct exp_ctx *c);
	/* Release priv (after close, or instead of it on failure). NULL when nothing to free. */
	void (*destroy)(struct exp_ctx *c);
};

/* The exporter named name ("cpio"), NULL when unknown. Borrowed, static. */
const struct exporter_ops *exp_find(const char *name);

/* All exporters, NULL-terminated (borrowed, static). */
const struct exporter_ops *const *exp_formats(void);

/* The format and compression an output name implies: the exporter whose suffix ends path
 * (longest match wins), and for cpio the compression its suffix names (".cpio.zst" -> "zstd",
 * ".cpio" -> "none"). An unknown suffix gives cpio with gzip. *compress is a static string. */
const struct exporter_ops *exp_from_suffix(const char *path, const char **compress);

/* Export v to out_path: format from o->format or the suffix; written to a temporary name in
 * out_path's directory ("DIR/.NAME.XXXXXX") and renamed over out_path only on success (after
 * an fsync(2) when o->fsync: an export is a build product, so durability across a power loss is
 * asked for, not paid by default); on failure the temporary is removed and out_path left as it
 * was. Shows a progress line on
 * stderr when stderr is a terminal, the export takes longer than a second and !o->quiet.
 * Errors name the output and the reason. Returns 0 or a negative errno. */
int exp_export_file(const struct ovl_view *v, const char *out_path, const struct exp_options *o,
		    struct rf_err *err);

/* Export v to fd (a regular file opened O_RDWR, empty), for callers that manage the file
 * themselves (the mount's control directory, boot). name is used in messages and, when
 * o->format is NULL, to pick the format by suffix. No rename, no fsync. Returns 0 or -errno. */
int exp_export_fd(const struct ovl_view *v, int fd, const char *name, const struct exp_options *o,
		  struct rf_err *err);

/* Worker threads to use for o (o->threads, or the number of online CPUs; at least 1). */
unsigned exp_threads(const struct exp_options *o);

/* The mtime an entry gets in an export: the epoch when one is given, else the node's. */
int64_t exp_mtime(const struct exp_options *o, const struct ovl_node *n);

/* Registered formats, defined in exporters/<format>.c. */
extern const struct exporter_ops exp_cpio_ops;
extern const struct exporter_ops exp_ext4_ops;
extern const struct exporter_ops exp_qcow2_ops;
extern const struct exporter_ops exp_iso_ops;

#endif
