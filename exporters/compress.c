/* Whole-buffer compressors for cpio segments: see compress.h. Formats as the kernel reads them:
 * lib/decompress_inflate.c (gzip members), decompress_unzstd.c (zstd frames), decompress_unxz.c
 * (xz streams, CRC32 or no check only), decompress_unlz4.c (legacy magic 0x184C2102, blocks of
 * at most 8 MiB each preceded by a little-endian 32-bit compressed size). */
#include "compress.h"

#include <errno.h>
#include <libdeflate.h>
#include <lz4.h>
#include <lz4hc.h>
#include <lzma.h>
#include <string.h>
#include <zstd.h>

#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

static const char *const names[] = {
    [CMP_NONE] = "none", [CMP_GZIP] = "gzip", [CMP_ZSTD] = "zstd",
    [CMP_XZ] = "xz",	 [CMP_LZ4] = "lz4",
};

int cmp_parse(const char *name, enum cmp_alg *out)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name)) {
			*out = (enum cmp_alg)i;
			return 0;
		}
	return -EINVAL;
}

const char *cmp_name(enum cmp_alg alg)
{
	return names[alg];
}

static int clamp(int level, int def, int lo, int hi)
{
	if (level < 0)
		return def;
	return level < lo ? lo : level > hi ? hi : level;
}

static int gzip_compress(int level, const void *in, size_t len, struct exp_buf *out)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(clamp(level, 6, 1, 12));
	if (!c)
		return -ENOMEM;
	size_t bound = libdeflate_gzip_compress_bound(c, len);
	int r = exp_buf_reserve(out, bound);
	if (!r) {
		size_t n = libdeflate_gzip_compress(c, in, len, out->data + out->len, bound);
		if (n)
			out->len += n;
		else
			r = -EIO;
	}
	libdeflate_free_compressor(c);
	return r;
}

static int zstd_compress(int level, const void *in, size_t len, struct exp_buf *out)
{
	size_t bound = ZSTD_compressBound(len);
	int r = exp_buf_reserve(out, bound);
	if (r)
		return r;
	ZSTD_CCtx *c = ZSTD_createCCtx();
	if (!c)
		return -ENOMEM;
	/* with the content checksum, as the zstd tool writes by default */
	size_t n = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel,
					  clamp(level, 3, 1, ZSTD_maxCLevel()));
	if (!ZSTD_isError(n))
		n = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(n))
		n = ZSTD_compress2(c, out->data + out->len, bound, in, len);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(n))
		return -EIO;
	out->len += n;
	return 0;
}

static int xz_compress(int level, const void *in, size_t len, struct exp_buf *out)
{
	lzma_options_lzma opt;
	if (lzma_lzma_preset(&opt, (uint32_t)clamp(level, 6, 0, 9)))
		return -EIO;
	opt.dict_size = 1u << 20; /* the kernel's XZ_DEC_DYNALLOC dictionary, as kbuild uses */
	lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &opt}, {LZMA_VLI_UNKNOWN, NULL}};
	size_t bound = lzma_stream_buffer_bound(len);
	int r = exp_buf_reserve(out, bound);
	if (r)
		return r;
	size_t pos = out->len;
	if (lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, len, out->data, &pos,
				      out->len + bound) != LZMA_OK)
		return -EIO;
	out->len = pos;
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int lz4_compress(int level, const void *in, size_t len, struct exp_buf *out)
{
	level = clamp(level, 1, 1, LZ4HC_CLEVEL_MAX);
	int r = exp_buf_reserve(out, 4);
	if (r)
		return r;
	put_le32(out->data + out->len, LZ4_LEGACY_MAGIC);
	out->len += 4;
	const char *src = in;
	for (size_t off = 0; off < len; off += LZ4_LEGACY_BLOCK) {
		int n = (int)(len - off < LZ4_LEGACY_BLOCK ? len - off : LZ4_LEGACY_BLOCK);
		int bound = LZ4_compressBound(n);
		if ((r = exp_buf_reserve(out, 4 + (size_t)bound)))
			return r;
		char *dst = (char *)out->data + out->len + 4;
		int c = level < LZ4HC_CLEVEL_MIN ? LZ4_compress_default(src + off, dst, n, bound)
						 : LZ4_compress_HC(src + off, dst, n, bound, level);
		if (c <= 0)
			return -EIO;
		put_le32(out->data + out->len, (uint32_t)c);
		out->len += 4 + (size_t)c;
	}
	return 0;
}

int cmp_compress(enum cmp_alg alg, int level, const void *in, size_t len, struct exp_buf *out)
{
	switch (alg) {
	case CMP_NONE:
		return exp_buf_append(out, in, len);
	case CMP_GZIP:
		return gzip_compress(level, in, len, out);
	case CMP_ZSTD:
		return zstd_compress(level, in, len, out);
	case CMP_XZ:
		return xz_compress(level, in, len, out);
	case CMP_LZ4:
		return lz4_compress(level, in, len, out);
	}
	return -EINVAL;
}

static int gzip_decompress(const uint8_t *in, size_t len, struct exp_buf *out)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	if (!d)
		return -ENOMEM;
	int r = 0;
	while (len && !r) {
		size_t want = len * 4 + 4096, in_used = 0, n = 0;
		for (;;) {
			if ((r = exp_buf_reserve(out, want)))
				break;
			enum libdeflate_result res = libdeflate_gzip_decompress_ex(
			    d, in, len, out->data + out->len, out->cap - out->len, &in_used, &n);
			if (res == LIBDEFLATE_SUCCESS)
				break;
			if (res != LIBDEFLATE_INSUFFICIENT_SPACE) {
				r = -EBADMSG;
				break;
			}
			want = (out->cap - out->len) * 2;
		}
		if (!r) {
			out->len += n;
			in += in_used;
			len -= in_used;
		}
	}
	libdeflate_free_decompressor(d);
	return r;
}

static int zstd_decompress(const void *in, size_t len, struct exp_buf *out)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	if (!d)
		return -ENOMEM;
	ZSTD_inBuffer ib = {in, len, 0};
	int r = 0;
	size_t ret = 1;
	while (!r && (ib.pos < ib.size || ret)) {
		if ((r = exp_buf_reserve(out, ZSTD_DStreamOutSize())))
			break;
		ZSTD_outBuffer ob = {out->data, out->cap, out->len};
		ret = ZSTD_decompressStream(d, &ob, &ib);
		out->len = ob.pos;
		if (ZSTD_isError(ret) || (ib.pos == ib.size && ret && ob.pos < ob.size))
			r = -EBADMSG;
	}
	ZSTD_freeDStream(d);
	return r;
}

static int xz_decompress(const void *in, size_t len, struct exp_buf *out)
{
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	int r = 0;
	for (;;) {
		if ((r = exp_buf_reserve(out, 1 << 16)))
			break;
		s.next_out = out->data + out->len;
		s.avail_out = out->cap - out->len;
		lzma_ret ret = lzma_code(&s, s.avail_in ? LZMA_RUN : LZMA_FINISH);
		out->len = out->cap - s.avail_out;
		if (ret == LZMA_STREAM_END)
			break;
		if (ret != LZMA_OK) {
			r = ret == LZMA_MEM_ERROR ? -ENOMEM : -EBADMSG;
			break;
		}
	}
	lzma_end(&s);
	return r;
}

static int lz4_decompress(const uint8_t *in, size_t len, struct exp_buf *out)
{
	if (len < 4 || get_le32(in) != LZ4_LEGACY_MAGIC)
		return -EBADMSG;
	size_t off = 4;
	while (off < len) {
		if (len - off < 4)
			return -EBADMSG;
		uint32_t c = get_le32(in + off);
		off += 4;
		if (c == LZ4_LEGACY_MAGIC) /* the next concatenated stream */
			continue;
		if (c > len - off || c > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return -EBADMSG;
		int r = exp_buf_reserve(out, LZ4_LEGACY_BLOCK);
		if (r)
			return r;
		int n = LZ4_decompress_safe((const char *)in + off, (char *)out->data + out->len,
					    (int)c, LZ4_LEGACY_BLOCK);
		if (n < 0)
			return -EBADMSG;
		out->len += (size_t)n;
		off += c;
	}
	return 0;
}

int cmp_decompress(enum cmp_alg alg, const void *in, size_t len, struct exp_buf *out)
{
	switch (alg) {
	case CMP_NONE:
		return exp_buf_append(out, in, len);
	case CMP_GZIP:
		return gzip_decompress(in, len, out);
	case CMP_ZSTD:
		return zstd_decompress(in, len, out);
	case CMP_XZ:
		return xz_decompress(in, len, out);
	case CMP_LZ4:
		return lz4_decompress(in, len, out);
	}
	return -EINVAL;
}
