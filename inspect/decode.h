/* Streaming decompressors for the initramfs compressions the kernel accepts
 * (lib/decompress.c: gzip, bzip2, lzma, xz, lz4 legacy, zstd), driven in small steps so the
 * caller can tell how many compressed bytes produced each range of output. */
#ifndef RF_DECODE_H
#define RF_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct insp_decoder;

/* Name of the compression whose magic starts buf ("gzip", "zstd", "xz", "lzma", "bzip2",
 * "lz4", "lzo"), as the kernel's decompress_method() recognizes it; NULL when none. */
const char *insp_decoder_detect(const uint8_t *buf, size_t len);

/* A decoder for the compression named (from insp_decoder_detect). *out is owned
 * (insp_decoder_free). Returns 0, -ENOMEM, or -ENOTSUP (lzo) with err filled naming what. */
int insp_decoder_new(const char *name, struct insp_decoder **out, struct rf_err *err);

/* One step: decode from in (the rest of the segment, in_len bytes) into out (out_cap bytes).
 * *in_used is the number of input bytes this step accounts for (the caller advances by it),
 * *out_len the bytes produced. Returns 0 (call again), 1 (end of the compressed stream) or a
 * negative errno with err filled ("corrupt gzip data: ..."; "truncated" when in runs out). */
int insp_decoder_step(struct insp_decoder *d, const uint8_t *in, size_t in_len, size_t *in_used,
		      uint8_t *out, size_t out_cap, size_t *out_len, struct rf_err *err);

void insp_decoder_free(struct insp_decoder *d);

#endif
