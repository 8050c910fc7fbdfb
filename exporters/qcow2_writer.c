/* The qcow2 writer: QEMU docs/interop/qcow2.txt, version 3. The layout is fixed before any
 * data is written: header, refcount table and blocks, L1 table, L2 tables (one per 512 MiB
 * of the virtual disk that holds data), then the data clusters in guest order. Pass 1 finds the
 * clusters that may hold data (SEEK_DATA/SEEK_HOLE) to size the metadata; pass 2 streams them. */
#include "qcow2_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define CLUSTER_BITS 16
#define CLUSTER (1u << CLUSTER_BITS)
#define L2_ENTRIES (CLUSTER / 8)
#define REFS_PER_BLOCK (CLUSTER / 2) /* refcount_order 4: 16-bit refcounts */
#define BATCH 16		     /* clusters read and written per system call */
#define OFLAG_COPIED (1ULL << 63)
#define OFLAG_COMPRESSED (1ULL << 62)
#define CSIZE_SHIFT (62 - (CLUSTER_BITS - 8))

struct qw {
	int in, out;
	const char *name;
	struct rf_err *err;
	uint64_t vsize, n_clusters, l1_size;
	uint8_t *cand;	    /* bitmap: virtual clusters that may hold data */
	uint64_t *l2_off;   /* host offset of the L2 table of each L1 entry, 0: none */
	uint64_t *l2;	    /* the L2 tables, L2_ENTRIES per table, in l2_off order */
	uint64_t *l2_index; /* L1 index -> slot in l2 */
	uint16_t *refs;	    /* refcount of each host cluster */
	uint64_t n_refs;    /* host clusters the refcount blocks cover */
	uint64_t pos;	    /* next free host byte */
	z_stream z;
	bool has_z;
};

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

static int put(struct qw *q, const void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t k =
		    pwrite(q->out, (const char *)buf + done, len - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return rf_err_errno(q->err, errno, "%s: write", q->name);
		done += (size_t)k;
	}
	return 0;
}

static int get(struct qw *q, void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t k = pread(q->in, (char *)buf + done, len - done, (off_t)(off + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return rf_err_errno(q->err, errno, "%s: reading the raw image", q->name);
		if (k == 0) { /* past the end: zeros */
			memset((char *)buf + done, 0, len - done);
			break;
		}
		done += (size_t)k;
	}
	return 0;
}

/* Pass 1: mark the clusters overlapping data extents of the raw image. */
static void find_candidates(struct qw *q)
{
	uint64_t pos = 0;
	while (pos < q->vsize) {
		off_t d = lseek(q->in, (off_t)pos, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			return;
		off_t h = d < 0 ? (off_t)q->vsize : lseek(q->in, d, SEEK_HOLE);
		if (d < 0)
			d = (off_t)pos; /* no SEEK_DATA here: every cluster */
		if (h < 0 || (uint64_t)h > q->vsize)
			h = (off_t)q->vsize;
		for (uint64_t c = (uint64_t)d / CLUSTER; c < div_up((uint64_t)h, CLUSTER); c++)
			q->cand[c / 8] |= (uint8_t)(1u << (c % 8));
		pos = (uint64_t)h > pos ? (uint64_t)h : pos + CLUSTER;
	}
}

static bool is_cand(const struct qw *q, uint64_t c)
{
	return q->cand[c / 8] & (1u << (c % 8));
}

static bool is_zero(const uint8_t *p, size_t n)
{
	static const uint8_t z[16];
	return !memcmp(p, z, 16) && !memcmp(p, p + 16, n - 16);
}

static void ref_range(struct qw *q, uint64_t off, uint64_t len)
{
	for (uint64_t c = off / CLUSTER; c < div_up(off + len, CLUSTER); c++)
		q->refs[c]++;
}

/* Store one non-zero cluster of guest cluster vc; data is CLUSTER bytes. out/out_len collect
 * uncompressed clusters for one write at out_off. */
static int store(struct qw *q, uint64_t vc, const uint8_t *data, uint8_t *cbuf)
{
	uint64_t *e = &q->l2[q->l2_index[vc / L2_ENTRIES] * L2_ENTRIES + vc % L2_ENTRIES];
	if (q->has_z) {
		deflateReset(&q->z);
		q->z.next_in = (uint8_t *)data;
		q->z.avail_in = CLUSTER;
		q->z.next_out = cbuf;
		q->z.avail_out = CLUSTER;
		int zr = deflate(&q->z, Z_FINISH);
		size_t clen = CLUSTER - q->z.avail_out;
		/* kept only when it saves at least a sector, as QEMU keeps it only when smaller */
		if (zr == Z_STREAM_END && clen + 512 < CLUSTER) {
			uint64_t off = q->pos;
			uint64_t sectors = ((off + clen - 1) >> 9) - (off >> 9) + 1;
			*e = OFLAG_COMPRESSED | ((sectors - 1) << CSIZE_SHIFT) | off;
			ref_range(q, off & ~511ULL, sectors * 512);
			q->pos += clen;
			return put(q, cbuf, clen, off);
		}
	}
	q->pos = div_up(q->pos, CLUSTER) * CLUSTER;
	*e = q->pos | OFLAG_COPIED;
	q->refs[q->pos / CLUSTER] = 1;
	int r = put(q, data, CLUSTER, q->pos);
	q->pos += CLUSTER;
	return r;
}

/* Pass 2: read the candidate clusters in runs of up to BATCH and store the non-zero ones. */
static int stream_data(struct qw *q)
{
	uint8_t *buf = malloc((size_t)BATCH * CLUSTER), *cbuf = malloc(CLUSTER);
	int r = 0;
	if (!buf || !cbuf) {
		r = rf_err_set(q->err, ENOMEM, "out of memory");
		goto out;
	}
	for (uint64_t c = 0; !r && c < q->n_clusters;) {
		if (!is_cand(q, c)) {
			c++;
			continue;
		}
		uint64_t n = 1;
		while (n < BATCH && c + n < q->n_clusters && is_cand(q, c + n))
			n++;
		uint64_t len = n * CLUSTER;
		if (c * CLUSTER + len > q->vsize) { /* the last cluster is partial: zero-padded */
			memset(buf, 0, len);
			len = q->vsize - c * CLUSTER;
		}
		r = get(q, buf, len, c * CLUSTER);
		if (q->has_z) {
			for (uint64_t i = 0; !r && i < n; i++)
				if (!is_zero(buf + i * CLUSTER, CLUSTER))
					r = store(q, c + i, buf + i * CLUSTER, cbuf);
		} else {
			/* uncompressed: compact the non-zero clusters and write them at once */
			uint64_t k = 0, start = div_up(q->pos, CLUSTER) * CLUSTER;
			for (uint64_t i = 0; i < n; i++) {
				if (is_zero(buf + i * CLUSTER, CLUSTER))
					continue;
				if (k != i)
					memcpy(buf + k * CLUSTER, buf + i * CLUSTER, CLUSTER);
				uint64_t vc = c + i, host = start + k * CLUSTER;
				q->l2[q->l2_index[vc / L2_ENTRIES] * L2_ENTRIES + vc % L2_ENTRIES] =
				    host | OFLAG_COPIED;
				q->refs[host / CLUSTER] = 1;
				k++;
			}
			if (!r && k)
				r = put(q, buf, k * CLUSTER, start);
			q->pos = start + k * CLUSTER;
		}
		c += n;
	}
out:
	free(buf);
	free(cbuf);
	return r;
}

static int write_header(struct qw *q, uint64_t l1_off, uint64_t rt_off, uint64_t rt_clusters)
{
	uint8_t h[112] = {0}; /* the header (104 bytes) and the end-of-extensions marker */
	be32(h, 0x514649fb);
	be32(h + 4, 3);
	be32(h + 20, CLUSTER_BITS);
	be64(h + 24, q->vsize);
	be32(h + 36, (uint32_t)q->l1_size);
	be64(h + 40, l1_off);
	be64(h + 48, rt_off);
	be32(h + 56, (uint32_t)rt_clusters);
	be32(h + 96, 4);    /* refcount_order: 16 bits */
	be32(h + 100, 104); /* header_length */
	return put(q, h, sizeof(h), 0);
}

static int convert(struct qw *q, const struct qcow2_opts *o)
{
	q->n_clusters = div_up(q->vsize, CLUSTER);
	q->l1_size = div_up(q->n_clusters, L2_ENTRIES);
	if (q->l1_size > (1u << 25))
		return rf_err_set(q->err, EFBIG, "%s: the disk is too large for qcow2", q->name);
	q->cand = calloc(div_up(q->n_clusters, 8) + 1, 1);
	q->l2_off = calloc(q->l1_size + 1, sizeof(uint64_t));
	q->l2_index = calloc(q->l1_size + 1, sizeof(uint64_t));
	if (!q->cand || !q->l2_off || !q->l2_index)
		return rf_err_set(q->err, ENOMEM, "out of memory");
	find_candidates(q);
	uint64_t n_cand = 0, n_l2 = 0;
	for (uint64_t c = 0; c < q->n_clusters; c++) {
		if (!is_cand(q, c))
			continue;
		n_cand++;
		if (!q->l2_off[c / L2_ENTRIES]) {
			q->l2_off[c / L2_ENTRIES] = 1; /* placed below */
			q->l2_index[c / L2_ENTRIES] = n_l2++;
		}
	}
	/* metadata sized for the worst case: every candidate cluster stored (compressed data
	 * may straddle one more) */
	uint64_t l1_clusters = div_up(q->l1_size * 8, CLUSTER);
	uint64_t rb = 1, rt = 1;
	for (;;) {
		uint64_t total = 1 + rt + rb + l1_clusters + n_l2 + n_cand + 1;
		uint64_t nrb = div_up(total, REFS_PER_BLOCK), nrt = div_up(nrb * 8, CLUSTER);
		if (nrb == rb && nrt == rt)
			break;
		rb = nrb;
		rt = nrt;
	}
	uint64_t rt_off = CLUSTER, rb_off = rt_off + rt * CLUSTER;
	uint64_t l1_off = rb_off + rb * CLUSTER, l2_start = l1_off + l1_clusters * CLUSTER;
	q->n_refs = rb * REFS_PER_BLOCK;
	q->refs = calloc(q->n_refs, sizeof(uint16_t));
	q->l2 = calloc(n_l2 ? n_l2 * L2_ENTRIES : 1, sizeof(uint64_t));
	if (!q->refs || !q->l2)
		return rf_err_set(q->err, ENOMEM, "out of memory");
	for (uint64_t i = 0; i < q->l1_size; i++)
		if (q->l2_off[i])
			q->l2_off[i] = l2_start + q->l2_index[i] * CLUSTER;
	q->pos = l2_start + n_l2 * CLUSTER;
	for (uint64_t c = 0; c < q->pos / CLUSTER; c++)
		q->refs[c] = 1; /* header, refcount table and blocks, L1, L2 */
	if (o->compress) {
		/* raw deflate with a 4 KiB window: QEMU inflates with windowBits -12 */
		if (deflateInit2(&q->z, o->level < 0 ? Z_DEFAULT_COMPRESSION : o->level, Z_DEFLATED,
				 -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
			return rf_err_set(q->err, ENOMEM, "%s: deflate: out of memory", q->name);
		q->has_z = true;
	}
	int r = stream_data(q);
	if (r)
		return r;
	uint64_t end = div_up(q->pos, CLUSTER) * CLUSTER;
	/* L2 tables, then L1, refcount blocks, refcount table; the header last */
	uint8_t *tab = malloc(CLUSTER);
	if (!tab)
		return rf_err_set(q->err, ENOMEM, "out of memory");
	for (uint64_t i = 0; !r && i < q->l1_size; i++) {
		if (!q->l2_off[i])
			continue;
		const uint64_t *l2 = q->l2 + q->l2_index[i] * L2_ENTRIES;
		for (unsigned k = 0; k < L2_ENTRIES; k++)
			be64(tab + 8 * k, l2[k]);
		r = put(q, tab, CLUSTER, q->l2_off[i]);
	}
	for (uint64_t i = 0; !r && i < l1_clusters; i++) {
		memset(tab, 0, CLUSTER);
		for (unsigned k = 0; k < L2_ENTRIES && i * L2_ENTRIES + k < q->l1_size; k++) {
			uint64_t off = q->l2_off[i * L2_ENTRIES + k];
			be64(tab + 8 * k, off ? off | OFLAG_COPIED : 0);
		}
		r = put(q, tab, CLUSTER, l1_off + i * CLUSTER);
	}
	for (uint64_t b = 0; !r && b < rb; b++) {
		for (unsigned k = 0; k < REFS_PER_BLOCK; k++)
			be16(tab + 2 * k, q->refs[b * REFS_PER_BLOCK + k]);
		r = put(q, tab, CLUSTER, rb_off + b * CLUSTER);
	}
	for (uint64_t i = 0; !r && i < rt; i++) {
		memset(tab, 0, CLUSTER);
		for (unsigned k = 0; k < CLUSTER / 8 && i * (CLUSTER / 8) + k < rb; k++)
			be64(tab + 8 * k, rb_off + (i * (CLUSTER / 8) + k) * CLUSTER);
		r = put(q, tab, CLUSTER, rt_off + i * CLUSTER);
	}
	free(tab);
	if (!r)
		r = write_header(q, l1_off, rt_off, rt);
	if (!r && ftruncate(q->out, (off_t)end))
		r = rf_err_errno(q->err, errno, "%s: truncate", q->name);
	return r;
}

int qcow2_convert(int in_fd, uint64_t virtual_bytes, int out_fd, const struct qcow2_opts *o,
		  const char *name, struct rf_err *err)
{
	struct qw q = {
	    .in = in_fd, .out = out_fd, .name = name, .err = err, .vsize = virtual_bytes};
	int r = convert(&q, o);
	if (q.has_z)
		deflateEnd(&q.z);
	free(q.cand);
	free(q.l2_off);
	free(q.l2_index);
	free(q.l2);
	free(q.refs);
	return r;
}
