/* Whole-buffer compressors for cpio segments, in the forms the kernel's initramfs decompressors
 * read (lib/decompress_*.c): gzip (libdeflate), zstd frames, xz with the CRC32 check and a
 * 1 MiB LZMA2 dictionary (as scripts/Makefile.lib's cmd_xzmisc), and the lz4 legacy format
 * (`lz4 -l`). Concatenated outputs of one algorithm decompress as one stream. */
#ifndef RF_COMPRESS_H
#define RF_COMPRESS_H

#include <stddef.h>

#include "buf.h"

enum cmp_alg { CMP_NONE, CMP_GZIP, CMP_ZSTD, CMP_XZ, CMP_LZ4 };

/* The algorithm called name ("gzip", "zstd", "xz", "lz4", "none"). Returns 0 or -EINVAL. */
int cmp_parse(const char *name, enum cmp_alg *out);

/* Name of alg (static string). */
const char *cmp_name(enum cmp_alg alg);

/* Compress len bytes at in as one self-contained stream appended to out. level -1 picks the
 * default (gzip 6, zstd 3, xz 6, lz4 1); levels out of the compressor's range are clamped.
 * The output depends only on (alg, level, input), never on threads or timing.
 * Returns 0, -ENOMEM, or -EIO when the library fails. */
int cmp_compress(enum cmp_alg alg, int level, const void *in, size_t len, struct exp_buf *out);

/* Decompress len bytes at in (one or more concatenated streams of alg) appended to out.
 * Returns 0, -ENOMEM or -EBADMSG for corrupt input. Used by the tests and to check segments. */
int cmp_decompress(enum cmp_alg alg, const void *in, size_t len, struct exp_buf *out);

#endif
