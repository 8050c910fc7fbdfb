/* Planning a segmented cpio export (design.md, "Exporters"; issue 6): the sorted walk becomes
 * a list of newc entries with inode numbers that do not depend on walk position, cut into
 * segments at content-defined points, so adding or changing one file changes about one
 * segment. Newc fields follow the kernel's Documentation/driver-api/early-userspace/
 * buffer-format.rst; hard links are joined by (ino, mode) only when nlink > 1, there as in GNU
 * cpio and libarchive, so only hard-link groups need distinct inode numbers. */
#ifndef RF_SEGMENT_H
#define RF_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h"

struct seg_entry {
	const struct ovl_node *n; /* borrowed from the view */
	char *path;		  /* archive name: guest path without a leading '/', owned */
	uint64_t path_hash;	  /* XXH3-64 of path */
	uint32_t ino;		  /* newc c_ino (seg_assign_inodes) */
	uint32_t nlink;		  /* newc c_nlink */
	bool has_data;		  /* carries the content: symlinks, regular files (the last
				   * entry of a hard-link group, as GNU cpio writes it) */
	bool is_dir;
	uint64_t size;	   /* newc c_filesize: data bytes of this entry */
	uint64_t bytes;	   /* the entry's length in the newc stream, padding included */
	size_t group_last; /* index of the last entry of its hard-link group (or its own) */
};

/* Fill path_hash, ino, nlink, has_data, is_dir, size, bytes and group_last of the n entries
 * (n and path already set, in walk order). A hard-link group (regular files sharing
 * ovl_node->ino, nlink > 1) gets the hash of its first path, moved on past collisions with
 * earlier groups; other entries the hash of their own path. Returns 0 or -ENOMEM. */
int seg_assign_inodes(struct seg_entry *e, size_t n);

/* Cut the n entries into segments of about target_bytes of newc stream: before a directory
 * whose path hash hits 1 in 4 once the segment holds target/4 bytes, before any entry whose
 * path hash hits 1 in 16 once it holds target, and anywhere once it holds 4 * target; never
 * inside a hard-link group. target_bytes 0 gives one segment. On success *starts is a malloc'd
 * array (caller frees) of *n_segs first-entry indices, starts[0] == 0; segment k ends where
 * segment k+1 starts (the last at n). n == 0 gives one empty segment. Returns 0 or -ENOMEM. */
int seg_plan(const struct seg_entry *e, size_t n, uint64_t target_bytes, size_t **starts,
	     size_t *n_segs);

#endif
