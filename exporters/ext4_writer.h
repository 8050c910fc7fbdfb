/* The ext4 filesystem writer shared by the ext4 and qcow2 exporters: libext2fs over a file
 * descriptor (unixfd io manager), populated from the merged view in the order of e2fsprogs'
 * misc/mke2fs.c and misc/create_inode.c. Internal to exporters/. */
#ifndef RF_EXT4_WRITER_H
#define RF_EXT4_WRITER_H

#include <stdint.h>

#include "exporter.h"

struct ext4w;

/* Size the filesystem for c->view (or take c->opt->size_bytes, failing with "--size X is too
 * small: the view needs at least Y" when it cannot hold the view), then create it in fd at
 * byte offset offset_bytes (0, or 1 MiB inside a partitioned disk): fd is extended to
 * offset_bytes + the filesystem size (sparse). The root, lost+found, the reserved inodes and
 * the journal exist afterwards. Times, the UUID and the htree hash seed are deterministic (see
 * docs/export-images.md). *out is owned: ext4w_free. Returns 0 or -errno with c->err set. */
int ext4w_open(struct exp_ctx *c, int fd, uint64_t offset_bytes, struct ext4w **out);

/* Filesystem size in bytes (a multiple of 4096). */
uint64_t ext4w_size_bytes(const struct ext4w *w);

/* The filesystem UUID (16 bytes, borrowed), used to derive partition GUIDs. */
const uint8_t *ext4w_uuid(const struct ext4w *w);

/* Add one node in the framework's pre-order (see exporter.h). Returns 0 or -errno. */
int ext4w_add(struct ext4w *w, const struct ovl_node *n, const char *path);

/* Write the superblocks, group descriptors and bitmaps and close the filesystem. */
int ext4w_close(struct ext4w *w);

/* Free w (closing the filesystem unwritten when ext4w_close was not called). NULL is fine. */
void ext4w_free(struct ext4w *w);

/* Parse "UUID" text (8-4-4-4-12 hex) into 16 bytes. Returns 0 or -EINVAL. */
int ext4w_parse_uuid(const char *s, uint8_t out[16]);

#endif
