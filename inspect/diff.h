/* `rootfs-fuse diff A B`: the paths added, removed and changed between two du trees, with
 * their size deltas, largest change first. */
#ifndef RF_DIFF_H
#define RF_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "du.h"

struct du_change {
	char kind;		     /* '+' added, '-' removed, '~' changed */
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

/* Compare the leaves (files, and empty directories) of two finished trees built without
 * groups. A path is changed when its apparent size or type differs (contents of equal size
 * are not compared; a compressed cost that moved alone is not a change). *out is owned
 * (du_diff_free). Returns 0 or -ENOMEM. */
int du_diff_compute(const struct du_tree *a, const struct du_tree *b, struct du_diff **out);
void du_diff_free(struct du_diff *d);

/* One line a change ("+ 1.0M  +1.0M  /new"; "~ 10K -> 12K  +2K  /x") then a total line. */
int du_diff_print_text(FILE *f, const struct du_diff *d, bool is_bytes, size_t top);

/* {"has_compressed", "old_total", "new_total", ..., "changes": [{"kind": "added"|"removed"|
 * "changed", "path", "old_size", "new_size", "old_compressed"?, "new_compressed"?}]} */
int du_diff_print_json(FILE *f, const struct du_diff *d, size_t top);

#endif
