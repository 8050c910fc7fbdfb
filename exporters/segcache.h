/* The segment cache of cpio exports (issue 6): one file per compressed segment, named by its
 * XXH3-128 key, in the state directory's cache/ (state.h). Each file carries its key, length
 * and a checksum of the payload, so a corrupt or truncated entry is found, removed and
 * rebuilt, never served. The cache is bounded: least recently used entries go first. */
#ifndef RF_SEGCACHE_H
#define RF_SEGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define SEGCACHE_DEFAULT_BYTES (1024ull << 20)

struct seg_cache;

/* Open (creating it and its parents) the cache directory dir, bounded to bound_bytes
 * (0: SEGCACHE_DEFAULT_BYTES). *out is owned (segcache_free). Returns 0 or a negative errno
 * with err naming the directory. */
int segcache_open(const char *dir, uint64_t bound_bytes, struct seg_cache **out,
		  struct rf_err *err);

/* The cache's directory (borrowed). */
const char *segcache_dir(const struct seg_cache *c);

/* A checked cache entry, open: its payload is bytes [offset, offset + len) of fd. */
struct seg_hit {
	int fd; /* owned (segcache_close), -1 when none */
	uint64_t offset;
	uint64_t len;
};

/* Open the entry stored under key, check its header, length and payload checksum (reading it
 * with pread, no mapping: page faults cost more than the copy) and mark it recently used.
 * The payload is not read again when the entry's stamp (inode, size, mtime, ctime: any write
 * or replacement changes the ctime) is the one recorded after its last check or write, as
 * saved by segcache_save in the cache's "verified" file.
 * Returns 1 on a hit (*h filled: segcache_close it), 0 on a miss (an entry that fails its
 * checks is removed and counts as a miss). Thread-safe. */
int segcache_open_entry(struct seg_cache *c, const uint8_t key[16], struct seg_hit *h);

/* Append the payload of a hit to out_fd at its file position: copy_file_range(2) (an in-kernel
 * copy, a reflink on filesystems that share extents), else pread/write. Returns 0 or a
 * negative errno (-EIO when the entry shrank since it was checked). */
int segcache_copy(const struct seg_hit *h, int out_fd);

/* Close a hit (fd -1 is allowed). */
void segcache_close(struct seg_hit *h);

/* As segcache_open_entry, the payload appended to out instead. Returns 1, 0, or -ENOMEM. */
int segcache_get(struct seg_cache *c, const uint8_t key[16], struct exp_buf *out);

/* Store len bytes at p under key (temporary file + rename). Best effort: returns 0 or a
 * negative errno that callers may ignore (the export does not depend on the cache). */
int segcache_put(struct seg_cache *c, const uint8_t key[16], const void *p, size_t len);

/* Save the stamps of the entries this cache object checked or wrote (temporary file +
 * rename), so the next run trusts them while they stay untouched. Returns 0 or a negative
 * errno; callers may ignore it (the entries are then checked in full next time). */
int segcache_save(struct seg_cache *c);

/* Bring the entries to at most the bound: going from the most recently used (newest mtime)
 * to the least, keep each entry that still fits and remove the rest, so an entry bigger than
 * what is left never evicts the smaller, more recent ones. Returns 0 or a negative errno. */
int segcache_trim(struct seg_cache *c);

void segcache_free(struct seg_cache *c);

#endif
