/* A partitioned raw disk around one filesystem: GPT (UEFI spec 2.10, chapter 5, with a
 * protective MBR) or MBR, one Linux partition starting at 1 MiB. Internal to exporters/. */
#ifndef RF_PARTITION_H
#define RF_PARTITION_H

#include <stdint.h>

#include "err.h"

/* Byte offset of the partition (1 MiB, aligned as fdisk and parted do). */
#define PART_OFFSET (1ULL << 20)

/* Is kind "gpt" or "mbr"? */
int part_check_kind(const char *kind, struct rf_err *err);

/* Write the partition table(s) of kind ("gpt" or "mbr") into fd for a filesystem of fs_bytes
 * at PART_OFFSET and size fd to the whole disk (fs rounded up to 1 MiB, plus the backup GPT's
 * 1 MiB for gpt). GUIDs and the MBR disk signature derive from uuid (16 bytes), so the same
 * filesystem gives the same disk. *disk_bytes receives the disk size. Returns 0 or -errno with
 * err naming name. */
int part_write(int fd, const char *kind, uint64_t fs_bytes, const uint8_t uuid[16],
	       const char *name, uint64_t *disk_bytes, struct rf_err *err);

#endif
