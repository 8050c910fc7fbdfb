/* Find a partition of a disk image by number in its MBR (primary 1-4, logical 5+ through the
 * EBR chain) or its GPT (UEFI spec 2.10, section 5.3). libblkid and libfdisk only read real
 * file descriptors of raw data, and the image may be qcow2, so this small parser reads
 * through rf_disk_pread. Sectors are 512 bytes. */
#ifndef RF_PARTITION_H
#define RF_PARTITION_H

#include <stdint.h>

#include "err.h"
#include "qcow_io.h"

/* The byte window [*offset, *offset + *length) of partition number (1-based) of d. path
 * names the image in messages. Returns 0, -ENOENT (no such partition, or no partition table)
 * or -EINVAL (a table pointing outside the disk). */
int rf_partition_find(struct rf_disk *d, const char *path, unsigned number, uint64_t *offset,
		      uint64_t *length, struct rf_err *err);

#endif
