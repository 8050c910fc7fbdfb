/* Readers that fill a du tree (du.h) from what `rootfs-fuse du` accepts: an initramfs (cpio
 * segments, each optionally compressed, as the kernel's init/initramfs.c unpack_to_rootfs
 * accepts them), an ISO 9660 image (libisofs), an ext4 raw/qcow2 image (the `image` layer),
 * a SPEC, or a directory (a mount point or an unpacked tree). */
#ifndef RF_READERS_H
#define RF_READERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "du.h"
#include "err.h"

struct ovl_view;

struct insp_opts {
	bool by_layer; /* group by layer (SPEC), by segment (cpio) */
	bool partial;  /* on bad input, keep what could be read and record the error in the tree */
	bool digest;   /* hash every regular file's data and symlink's target (du_attr.digest) */
};

/* Read an initramfs held in buf (len bytes; name for messages) into t, attributing to each
 * entry's data the compressed bytes consumed to produce it (linear within each decompressor
 * step of at most a few KiB of input), and everything else (cpio headers, name and data
 * padding, compressed container framing, zero padding between segments) to the DU_META
 * entry "(cpio headers and padding)". Sets t->has_compressed, file_bytes, stream_bytes and
 * segments. On bad input returns a negative errno with err filled ("NAME: segment 2 (gzip at
 * byte 512): truncated gzip data"); t then holds the entries read before the failure and a
 * DU_META "(unread)" entry for the bytes after it. */
int insp_read_cpio(const uint8_t *buf, size_t len, const char *name, struct du_tree *t,
		   const struct insp_opts *o, struct rf_err *err);

/* Add every node of a merged view to t (apparent sizes and attributes; with o->by_layer grouped
 * by the label of the layer providing each node; with o->digest, each regular file read
 * through ovl_node_pread and hashed). Returns 0, -ENOMEM or the read error (err filled). */
int insp_read_view(const struct ovl_view *v, struct du_tree *t, const struct insp_opts *o,
		   struct rf_err *err);

/* Read the ISO 9660 image at path into t through libisofs's import: Rock Ridge names, modes,
 * owners, device numbers, symlink targets and relocated deep directories (RRIP 1.12), else
 * Joliet names. Each file costs the image blocks of its extents (a hard link's shared extent
 * at its first name in tree order, which also carries the size); everything else — volume
 * descriptors, path tables, directory records, the system area, padding — goes to the DU_META
 * entry "(ISO 9660 metadata and padding)", so costs add up to the file size (t->has_compressed,
 * t->file_bytes). Directories have size 0. With o->digest, each file's extents are hashed.
 * Returns 0, or a negative errno with err naming path and the reason (libisofs's text for
 * a damaged volume descriptor or directory record; "truncated image" for a block or extent past
 * the end of the file). */
int insp_read_iso(const char *path, struct du_tree *t, const struct insp_opts *o,
		  struct rf_err *err);

/* What target is: "tree" (a directory), "cpio", "iso", "image" (ext4 raw or qcow2) or "spec"
 * (a text file); *kind is static. A missing file, an empty file or one of none of these kinds
 * gives a negative errno with a one-line message. */
int insp_detect(const char *target, const char **kind, struct rf_err *err);

/* Read whatever target is: a directory (as a `tree` layer), a cpio/compressed initramfs, an
 * ISO, an ext4 raw or qcow2 image (as an `image` layer), else a SPEC file. On success *out is
 * owned (du_tree_free) and finished (du_tree_finish). On bad input returns a negative errno
 * with a one-line message in err; with o->partial, a tree of what could be read is still
 * returned in *out (its partial_error set; owned) although the return is negative. */
int insp_load(const char *target, const struct insp_opts *o, struct du_tree **out,
	      struct rf_err *err);

#endif
