/* What an ext4 image of a view needs, measured before the filesystem is made. Internal to
 * exporters/ (ext4_writer.c). */
#ifndef RF_EXT4_PLAN_H
#define RF_EXT4_PLAN_H

#include <stdint.h>

#include "exporter.h"

#define EXT4_PLAN_BLOCK 4096u

struct ext4_plan {
	uint64_t inodes;	  /* distinct inodes, reserved ones and lost+found included */
	uint64_t data_blocks;	  /* regular file blocks holding data (holes excluded) */
	uint64_t meta_blocks;	  /* directory, slow symlink, xattr and extent tree blocks */
	int64_t max_mtime;	  /* newest mtime in the export (the epoch when given) */
	uint8_t content_hash[16]; /* XXH3-128 of the walk's paths and metadata */
};

/* Walk v and fill *out. Returns 0 or -errno with err set. */
int ext4_plan_view(const struct ovl_view *v, const struct exp_options *opt, struct ext4_plan *out,
		   struct rf_err *err);

#endif
