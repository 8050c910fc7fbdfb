/* Content hashes of regular files for the segment cache (issue 6): the XXH3-128 of a file's
 * content, remembered per (layer, host device and inode, size, mtime, ctime), or for a file
 * inside a tcz, archive or image layer per (that layer's sources' stamps, the file's place in
 * it, size), in a file of the cache directory, so a re-export keys an unchanged file without
 * reading it again. */
#ifndef RF_HASHMEMO_H
#define RF_HASHMEMO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "view.h"

struct hash_memo;

/* Load the memo file at path (NULL: an in-memory memo only) with room for extra new entries.
 * A missing, truncated or corrupt file gives an empty memo (it is only a shortcut). *out is
 * owned (memo_free). Returns 0 or -ENOMEM. */
int memo_load(const char *path, size_t extra, struct hash_memo **out);

/* The XXH3-128 of regular file n's content (canonical big-endian bytes) into out. Files read
 * from the host, and files of a layer with a content identity (a tcz, archive or image layer
 * whose sources are regular files: ovl_layer.content_id), are looked up in m (may be NULL)
 * first; others are read and hashed. Safe to
 * call from several threads. Returns 0 or a negative errno with err naming the file (a file
 * shorter than the view says: -EIO "changed while exporting"). */
int memo_content_hash(struct hash_memo *m, const struct ovl_node *n, uint8_t out[16],
		      struct rf_err *err);

/* Write the entries looked up or added since memo_load to the memo file (temporary name and
 * rename), dropping the ones this export did not use. Returns 0 or a negative errno. */
int memo_save(struct hash_memo *m);

void memo_free(struct hash_memo *m);

#endif
