/* One segment of a cpio export as a newc stream (the kernel's Documentation/driver-api/
 * early-userspace/buffer-format.rst), written by libarchive's cpio_newc writer into memory,
 * and the segment's cache key over exactly the fields that make its bytes. */
#ifndef RF_NEWC_H
#define RF_NEWC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "exporter.h"
#include "hashmemo.h"
#include "segment.h"

/* Append the newc entries e[0..n) to out, with the TRAILER!!! entry when with_trailer (only the
 * last segment has it: the kernel and GNU cpio read concatenated segments as one archive).
 * Content is read through ovl_node_pread; mtimes follow exp_mtime(o). Returns 0 or a negative
 * errno with err naming the entry. */
int newc_write(const struct seg_entry *e, size_t n, const struct exp_options *o, bool with_trailer,
	       struct exp_buf *out, struct rf_err *err);

/* The XXH3-128 key (canonical bytes) of the compressed segment e[0..n): every newc field and
 * name, link targets, content hashes (through memo, may be NULL), the trailer flag, the
 * compression and its level. Returns 0 or a negative errno with err filled. */
int newc_key(const struct seg_entry *e, size_t n, const struct exp_options *o, bool with_trailer,
	     const char *compress, struct hash_memo *memo, uint8_t key[16], struct rf_err *err);

#endif
