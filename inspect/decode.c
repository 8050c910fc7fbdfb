/* Streaming decompressors: see decode.h. Magic numbers from the kernel's lib/decompress.c
 * (compressed_formats[]); the lz4 legacy frame as lib/decompress_unlz4.c reads it. Input is
 * handed to the libraries a few KiB at a time so consumption tracks output closely. */
#include "decode.h"

#include <bzlib.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define IN_STEP 4096
/* liblzma memory limit: `lzma -9` needs a 64 MiB dictionary; a corrupt header asking for more
 * fails with a message instead of allocating gigabytes */
#define LZMA_MEMLIMIT (160u << 20)
#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

enum dec_kind { DEC_GZIP, DEC_ZSTD, DEC_XZ, DEC_LZMA, DEC_BZIP2, DEC_LZ4 };

struct insp_decoder {
	enum dec_kind kind;
	const char *name;
	z_stream z;
	ZSTD_DStream *zs;
	lzma_stream lz;
	bz_stream bz;
	/* lz4 legacy: the decoded block and how much of it (and of its input) was handed out */
	uint8_t *blk;
	size_t blk_len, blk_done;
	size_t blk_in, blk_in_done;
	bool lz4_started;
};

static const struct {
	const char *name;
	uint8_t magic[6];
	size_t len;
} magics[] = {
    {"gzip", {0x1f, 0x8b}, 2},
    {"gzip", {0x1f, 0x9e}, 2},
    {"bzip2", {'B', 'Z', 'h'}, 3},
    {"lzma", {0x5d, 0x00, 0x00}, 3},
    {"xz", {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6},
    {"lzo", {0x89, 'L', 'Z', 'O'}, 4},
    {"lz4", {0x02, 0x21}, 2},
    {"zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4},
};

const char *insp_decoder_detect(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].len && !memcmp(buf, magics[i].magic, magics[i].len))
			return magics[i].name;
	return NULL;
}

int insp_decoder_new(const char *name, struct insp_decoder **out, struct rf_err *err)
{
	struct insp_decoder *d = calloc(1, sizeof(*d));
	if (!d)
		return rf_err_set(err, ENOMEM, "out of memory");
	d->name = name;
	int ok = 1;
	if (!strcmp(name, "gzip")) {
		d->kind = DEC_GZIP;
		ok = inflateInit2(&d->z, 16 + MAX_WBITS) == Z_OK;
	} else if (!strcmp(name, "zstd")) {
		d->kind = DEC_ZSTD;
		ok = (d->zs = ZSTD_createDStream()) != NULL;
	} else if (!strcmp(name, "xz") || !strcmp(name, "lzma")) {
		d->kind = name[0] == 'x' ? DEC_XZ : DEC_LZMA;
		lzma_stream init = LZMA_STREAM_INIT;
		d->lz = init;
		ok = (d->kind == DEC_XZ ? lzma_stream_decoder(&d->lz, LZMA_MEMLIMIT, 0)
					: lzma_alone_decoder(&d->lz, LZMA_MEMLIMIT)) == LZMA_OK;
	} else if (!strcmp(name, "bzip2")) {
		d->kind = DEC_BZIP2;
		ok = BZ2_bzDecompressInit(&d->bz, 0, 0) == BZ_OK;
	} else if (!strcmp(name, "lz4")) {
		d->kind = DEC_LZ4;
		ok = (d->blk = malloc(LZ4_LEGACY_BLOCK)) != NULL;
	} else {
		free(d);
		return rf_err_set(err, ENOTSUP, "%s compression is not supported", name);
	}
	if (!ok) {
		insp_decoder_free(d);
		return rf_err_set(err, ENOMEM, "%s: cannot initialize the decompressor", name);
	}
	*out = d;
	return 0;
}

void insp_decoder_free(struct insp_decoder *d)
{
	if (!d)
		return;
	switch (d->kind) {
	case DEC_GZIP:
		inflateEnd(&d->z);
		break;
	case DEC_ZSTD:
		ZSTD_freeDStream(d->zs);
		break;
	case DEC_XZ:
	case DEC_LZMA:
		lzma_end(&d->lz);
		break;
	case DEC_BZIP2:
		BZ2_bzDecompressEnd(&d->bz);
		break;
	case DEC_LZ4:
		free(d->blk);
		break;
	}
	free(d);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* lz4 legacy: [magic] then blocks of (le32 size, data), each up to 8 MiB decoded; the frame
 * ends at the end of input, a size that cannot be a block, or (skipped) a repeated magic. A
 * decoded block is handed out in out_cap pieces, each accounting for its share of the block's
 * input so the attribution stays proportional. */
static int lz4_step(struct insp_decoder *d, const uint8_t *in, size_t in_len, size_t *in_used,
		    uint8_t *out, size_t out_cap, size_t *out_len, struct rf_err *err)
{
	*in_used = 0;
	*out_len = 0;
	if (d->blk_done == d->blk_len) {
		size_t hdr = 0;
		if (!d->lz4_started) {
			if (in_len < 4 || le32(in) != LZ4_LEGACY_MAGIC)
				return rf_err_set(err, EINVAL, "corrupt lz4 data: bad magic");
			d->lz4_started = true;
			hdr = 4;
		}
		while (in_len - hdr >= 4 && le32(in + hdr) == LZ4_LEGACY_MAGIC)
			hdr += 4;
		if (in_len - hdr < 4) {
			*in_used = hdr;
			return 1;
		}
		uint32_t csize = le32(in + hdr);
		if (csize == 0 || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK)) {
			*in_used = hdr;
			return 1;
		}
		if (csize > in_len - hdr - 4)
			return rf_err_set(err, EIO, "truncated lz4 data");
		int n = LZ4_decompress_safe((const char *)in + hdr + 4, (char *)d->blk, (int)csize,
					    LZ4_LEGACY_BLOCK);
		if (n < 0)
			return rf_err_set(err, EINVAL, "corrupt lz4 data");
		d->blk_len = (size_t)n;
		d->blk_done = 0;
		d->blk_in = hdr + 4 + csize;
		d->blk_in_done = 0;
		if (!n) {
			*in_used = d->blk_in;
			return 0;
		}
	}
	size_t k = d->blk_len - d->blk_done < out_cap ? d->blk_len - d->blk_done : out_cap;
	memcpy(out, d->blk + d->blk_done, k);
	d->blk_done += k;
	*out_len = k;
	size_t in_to = d->blk_done == d->blk_len
			   ? d->blk_in
			   : (size_t)((unsigned __int128)d->blk_in * d->blk_done / d->blk_len);
	*in_used = in_to - d->blk_in_done;
	d->blk_in_done = in_to;
	return 0;
}

int insp_decoder_step(struct insp_decoder *d, const uint8_t *in, size_t in_len, size_t *in_used,
		      uint8_t *out, size_t out_cap, size_t *out_len, struct rf_err *err)
{
	if (d->kind == DEC_LZ4)
		return lz4_step(d, in, in_len, in_used, out, out_cap, out_len, err);
	size_t avail = in_len < IN_STEP ? in_len : IN_STEP;
	int end = 0;
	*in_used = *out_len = 0;
	switch (d->kind) {
	case DEC_GZIP: {
		d->z.next_in = (Bytef *)in;
		d->z.avail_in = (uInt)avail;
		d->z.next_out = out;
		d->z.avail_out = (uInt)out_cap;
		int r = inflate(&d->z, Z_NO_FLUSH);
		*in_used = avail - d->z.avail_in;
		*out_len = out_cap - d->z.avail_out;
		if (r == Z_STREAM_END)
			end = 1;
		else if (r == Z_BUF_ERROR && !*in_used && !*out_len)
			return rf_err_set(err, EIO, "truncated gzip data");
		else if (r != Z_OK && r != Z_BUF_ERROR)
			return rf_err_set(err, EINVAL, "corrupt gzip data: %s",
					  d->z.msg ? d->z.msg : "inflate failed");
		break;
	}
	case DEC_ZSTD: {
		ZSTD_inBuffer ib = {in, avail, 0};
		ZSTD_outBuffer ob = {out, out_cap, 0};
		size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
		if (ZSTD_isError(r))
			return rf_err_set(err, EINVAL, "corrupt zstd data: %s",
					  ZSTD_getErrorName(r));
		*in_used = ib.pos;
		*out_len = ob.pos;
		if (!r)
			end = 1;
		else if (!ib.pos && !ob.pos)
			return rf_err_set(err, EIO, "truncated zstd data");
		break;
	}
	case DEC_XZ:
	case DEC_LZMA: {
		d->lz.next_in = in;
		d->lz.avail_in = avail;
		d->lz.next_out = out;
		d->lz.avail_out = out_cap;
		lzma_ret r = lzma_code(&d->lz, LZMA_RUN);
		*in_used = avail - d->lz.avail_in;
		*out_len = out_cap - d->lz.avail_out;
		if (r == LZMA_STREAM_END)
			end = 1;
		else if (r == LZMA_BUF_ERROR || (r == LZMA_OK && !*in_used && !*out_len))
			return rf_err_set(err, EIO, "truncated %s data", d->name);
		else if (r != LZMA_OK)
			return rf_err_set(err, EINVAL, "corrupt %s data (liblzma error %d)",
					  d->name, (int)r);
		break;
	}
	case DEC_BZIP2: {
		d->bz.next_in = (char *)in;
		d->bz.avail_in = (unsigned)avail;
		d->bz.next_out = (char *)out;
		d->bz.avail_out = (unsigned)out_cap;
		int r = BZ2_bzDecompress(&d->bz);
		*in_used = avail - d->bz.avail_in;
		*out_len = out_cap - d->bz.avail_out;
		if (r == BZ_STREAM_END)
			end = 1;
		else if (r != BZ_OK)
			return rf_err_set(err, EINVAL, "corrupt bzip2 data (libbz2 error %d)", r);
		else if (!*in_used && !*out_len)
			return rf_err_set(err, EIO, "truncated bzip2 data");
		break;
	}
	case DEC_LZ4:
		break;
	}
	return end;
}
