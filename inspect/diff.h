/* `rootfs-fuse diff A B`: the paths added, removed and changed between two du trees, with
 * their size deltas, largest change first. */
#ifndef RF_DIFF_H
#define RF_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "du.h"

/* What changed in a '~' change (bits of du_change.what). */
enum du_what {
	DU_CH_SIZE = 1,	   /* apparent size */
	DU_CH_TYPE = 2,	   /* file type (file, directory, symlink, device, ...) */
	DU_CH_CONTENT = 4, /* a regular file's data (digests differ) */
	DU_CH_TARGET = 8,  /* a symlink's target (digests differ) */
	DU_CH_MODE = 16,   /* permission bits (07777) */
	DU_CH_OWNER = 32,  /* uid or gid */
	DU_CH_RDEV = 64,   /* a device node's major:minor */
};

struct du_change {
	char kind;		     /* '+' added, '-' removed, '~' changed */
	unsigned what;		     /* '~': enum du_what bits */
	char *path;		     /* "/usr/bin/x", owned */
	uint64_t old_size, new_size; /* apparent bytes (0 when absent) */
	uint64_t old_comp, new_comp; /* compressed bytes when both trees have them */
};

struct du_diff {
	struct du_change *changes; /* owned; sorted by |delta| descending, then path */
	size_t n_changes;
	bool has_compressed; /* both trees are compressed archives */
	uint64_t old_total, new_total, old_comp_total, new_comp_total;
};

/* Compare two finished trees built without groups. Leaves (files, and empty directories) are
 * added or removed; a path present in both (directories included) is changed when its
 * apparent size or type differs, and, where both readers recorded attributes (du_attr), when
 * its permission bits, owner, device number, or content digest (regular files, symlink
 * targets; compared when both sides have one) differ. A compressed cost that moved alone is
 * not a change. *out is owned (du_diff_free). Returns 0 or -ENOMEM. */
int du_diff_compute(const struct du_tree *a, const struct du_tree *b, struct du_diff **out);
void du_diff_free(struct du_diff *d);

/* Names of the bits in what, comma-separated ("content,mode") into buf (at least 64 bytes). */
const char *du_what_names(unsigned what, char *buf, size_t size);

/* One line a change ("+ 1.0M  +1.0M  /new"; "~  +2K  10K -> 12K  /x  (content,mode)") then a
 * total line. */
int du_diff_print_text(FILE *f, const struct du_diff *d, bool is_bytes, size_t top);

/* {"has_compressed", "old_total", "new_total", ..., "changes": [{"kind": "added"|"removed"|
 * "changed", "path", "old_size", "new_size", "old_compressed"?, "new_compressed"?,
 * "what"?: ["size"|"type"|"content"|"target"|"mode"|"owner"|"rdev", ...]}]} */
int du_diff_print_json(FILE *f, const struct du_diff *d, size_t top);

#endif
