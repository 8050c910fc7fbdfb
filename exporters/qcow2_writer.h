/* A streaming qcow2 version 3 writer (QEMU docs/interop/qcow2.txt): converts a raw image file
 * into a qcow2 file holding only its non-zero clusters, optionally deflate-compressed. Internal
 * to exporters/ (qcow2.c); libqcow reads qcow2 but cannot write it. */
#ifndef RF_QCOW2_WRITER_H
#define RF_QCOW2_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct qcow2_opts {
	bool compress; /* deflate-compressed clusters (raw deflate, 4 KiB window, as QEMU) */
	int level;     /* zlib level, -1: the default */
};

/* Read virtual_bytes of the raw image in in_fd (a regular file; holes found with
 * SEEK_DATA/SEEK_HOLE are never read, all-zero clusters are left unallocated) and write the
 * qcow2 image to out_fd (empty, regular). Memory holds the L2 tables and refcounts of the
 * allocated part only, never the image. Cluster size 64 KiB, 16-bit refcounts, no backing
 * file, no extended L2 entries, no external data file. name is used in messages. Returns 0
 * or -errno with err set. */
int qcow2_convert(int in_fd, uint64_t virtual_bytes, int out_fd, const struct qcow2_opts *o,
		  const char *name, struct rf_err *err);

#endif
