/* A disk image read-only, raw or qcow2 (through libqcow), and a libext2fs io_manager over it
 * with a byte offset, so libext2fs reads a filesystem inside a partition of either (e2fsprogs
 * lib/ext2fs/ext2_io.h is the io_manager contract; qemu docs/interop/qcow2.txt the format). */
#ifndef RF_QCOW_IO_H
#define RF_QCOW_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

#include "err.h"

struct rf_disk;

/* Open the image at path: qcow2 when it carries the qcow signature (libqcow), raw otherwise.
 * A qcow2 with a backing file or encryption is refused (-ENOTSUP). *out is owned
 * (rf_disk_close). Errors name path: "x.qcow2: not a valid qcow2 image (...)". */
int rf_disk_open(const char *path, struct rf_disk **out, struct rf_err *err);

/* Read len bytes at byte offset off of the disk's (virtual) content; bytes past the end read
 * as an error. Thread-safe (a mutex per disk). Returns 0 or -EIO. */
int rf_disk_pread(struct rf_disk *d, void *buf, size_t len, uint64_t off);

/* Virtual size in bytes. */
uint64_t rf_disk_size(const struct rf_disk *d);

/* "qcow2" or "raw". */
const char *rf_disk_format(const struct rf_disk *d);

void rf_disk_close(struct rf_disk *d);

/* The io_manager; ext2fs_open2 is given a name made by rf_disk_io_name. */
extern io_manager rf_disk_io_manager;

/* Format into buf (size bytes, 64 is enough) the name under which rf_disk_io_manager opens
 * the bytes [offset, offset + length) of d. d must outlive the ext2_filsys. */
void rf_disk_io_name(struct rf_disk *d, uint64_t offset, uint64_t length, char *buf, size_t size);

#endif
