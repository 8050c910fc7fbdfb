/* The initramfs reader of `du`: segments as init/initramfs.c unpack_to_rootfs() walks them
 * (zero padding skipped, an aligned "0707" starts an uncompressed newc archive, else a
 * compression magic starts a compressed stream holding one or more archives), newc headers as
 * Documentation/driver-api/early-userspace/buffer-format.rst describes them. */
#include "readers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <xxhash.h>

#include "decode.h"

#define NEWC_HDR 110
#define NAME_MAX_BYTES 4096
/* large enough for a whole zstd block (128 KiB) or bzip2 block (900 kB) in one step, so a
 * block's input is spread over all of its output rather than its first piece */
#define OUT_STEP (1u << 20)
#define META_NAME "(cpio headers and padding)"

enum newc_state { N_HDR, N_NAME, N_NAME_PAD, N_DATA, N_DATA_PAD, N_RESET };

/* The newc state machine, fed the stream in chunks. Each chunk maps its stream offsets
 * [u0, u1) linearly onto the file offsets [c0, c1) it was produced from, so the compressed
 * cost of a data range is the difference of the mapped ends (costs then add up exactly). */
struct newc {
	enum newc_state state;
	bool in_compressed; /* after a trailer: go on (compressed) or hand back (uncompressed) */
	uint8_t hdr[NEWC_HDR];
	size_t have;
	char name[NAME_MAX_BYTES];
	size_t namesize;
	uint64_t pos; /* stream offset; alignment is relative to the stream's start */
	uint64_t filesize, left;
	uint32_t mode, uid, gid, nlink;
	uint64_t rdev;
	XXH3_state_t *xxh; /* insp_opts.digest: hashes the current entry's data; borrowed */
	uint64_t data_c0;
	uint64_t u0, u1, c0, c1;
	/* results */
	struct du_tree *t;
	const char *group;
	uint64_t file_sum, cost_sum;
};

static uint64_t cost_at(const struct newc *p, uint64_t u)
{
	if (p->u1 == p->u0)
		return p->c1;
	return p->c0 +
	       (uint64_t)((unsigned __int128)(u - p->u0) * (p->c1 - p->c0) / (p->u1 - p->u0));
}

static int hex8(const uint8_t *s, uint32_t *v)
{
	uint32_t r = 0;
	for (int i = 0; i < 8; i++) {
		int c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		r = r << 4 | (uint32_t)d;
	}
	*v = r;
	return 0;
}

static int header_done(struct newc *p, struct rf_err *err)
{
	uint32_t f[13];
	uint64_t at = p->pos - NEWC_HDR;
	if (memcmp(p->hdr, "070701", 6) && memcmp(p->hdr, "070702", 6))
		return rf_err_set(err, EINVAL, "bad cpio magic at stream offset %llu",
				  (unsigned long long)at);
	for (int i = 0; i < 13; i++)
		if (hex8(p->hdr + 6 + 8 * i, &f[i]))
			return rf_err_set(err, EINVAL, "bad cpio header at stream offset %llu",
					  (unsigned long long)at);
	p->mode = f[1];
	p->uid = f[2];
	p->gid = f[3];
	p->nlink = f[4];
	p->rdev = makedev(f[9], f[10]);
	p->filesize = f[6];
	p->namesize = f[11];
	if (!p->namesize || p->namesize > NAME_MAX_BYTES)
		return rf_err_set(err, EINVAL, "bad cpio name size %zu at stream offset %llu",
				  p->namesize, (unsigned long long)at);
	p->have = 0;
	p->state = N_NAME;
	return 0;
}

/* Normalize an archive name for the report: "./a//b/" -> "a/b", "." -> "" (the root). */
static void name_normalize(char *s)
{
	char *w = s;
	const char *r = s;
	while (*r) {
		while (*r == '/')
			r++;
		const char *e = r;
		while (*e && *e != '/')
			e++;
		if (e - r == 1 && *r == '.') {
			r = e;
			continue;
		}
		if (e > r) {
			if (w != s)
				*w++ = '/';
			memmove(w, r, (size_t)(e - r));
			w += e - r;
		}
		r = e;
	}
	*w = '\0';
}

static int entry_done(struct newc *p, struct rf_err *err)
{
	uint64_t cost = p->filesize ? cost_at(p, p->pos) - p->data_c0 : 0;
	name_normalize(p->name);
	enum du_type type = S_ISDIR(p->mode) ? DU_DIR : DU_FILE;
	struct du_attr a = {.mode = p->mode, .uid = p->uid, .gid = p->gid, .rdev = p->rdev};
	/* hard links: newc carries the data once (on the last name); the others have none */
	if (p->xxh && (S_ISLNK(p->mode) || (S_ISREG(p->mode) && (p->filesize || p->nlink < 2)))) {
		a.digest = XXH3_64bits_digest(p->xxh);
		a.has_digest = true;
	}
	if (du_tree_add_attr(p->t, p->group, NULL, p->name, type, p->filesize, cost, &a))
		return rf_err_set(err, ENOMEM, "out of memory");
	p->file_sum += p->filesize;
	p->cost_sum += cost;
	return 0;
}

/* Feed len bytes. Returns 0 when all were consumed, 1 after a trailer when not in a compressed
 * stream (*used then says how far), or a negative errno. */
static int newc_feed(struct newc *p, const uint8_t *buf, size_t len, size_t *used,
		     struct rf_err *err)
{
	size_t i = 0;
	int r;
	while (i < len) {
		size_t k;
		switch (p->state) {
		case N_HDR:
			k = NEWC_HDR - p->have < len - i ? NEWC_HDR - p->have : len - i;
			memcpy(p->hdr + p->have, buf + i, k);
			p->have += k;
			i += k;
			p->pos += k;
			if (p->have == NEWC_HDR && (r = header_done(p, err)))
				return r;
			break;
		case N_NAME:
			k = p->namesize - p->have < len - i ? p->namesize - p->have : len - i;
			memcpy(p->name + p->have, buf + i, k);
			p->have += k;
			i += k;
			p->pos += k;
			if (p->have == p->namesize) {
				if (p->name[p->namesize - 1])
					return rf_err_set(err, EINVAL,
							  "cpio name not NUL-terminated at stream "
							  "offset %llu",
							  (unsigned long long)p->pos);
				p->state = N_NAME_PAD;
			}
			break;
		case N_NAME_PAD:
		case N_DATA_PAD:
			if (p->pos & 3) {
				i++;
				p->pos++;
				break;
			}
			if (p->state == N_NAME_PAD) {
				if (!strcmp(p->name, "TRAILER!!!")) {
					p->state = N_RESET;
					if (!p->in_compressed) {
						p->state = N_HDR;
						p->have = 0;
						*used = i;
						return 1;
					}
					break;
				}
				p->state = N_DATA;
				p->left = p->filesize;
				p->data_c0 = cost_at(p, p->pos);
				if (p->xxh)
					XXH3_64bits_reset(p->xxh);
				if (!p->left) {
					if ((r = entry_done(p, err)))
						return r;
					p->state = N_DATA_PAD;
				}
			} else {
				p->state = N_HDR;
				p->have = 0;
			}
			break;
		case N_DATA:
			k = p->left < len - i ? (size_t)p->left : len - i;
			if (p->xxh)
				XXH3_64bits_update(p->xxh, buf + i, k);
			i += k;
			p->pos += k;
			p->left -= k;
			if (!p->left) {
				if ((r = entry_done(p, err)))
					return r;
				p->state = N_DATA_PAD;
			}
			break;
		case N_RESET:
			if (!buf[i]) {
				i++;
				p->pos++;
			} else if (buf[i] == '0' && !(p->pos & 3)) {
				p->state = N_HDR;
				p->have = 0;
			} else {
				return rf_err_set(
				    err, EINVAL,
				    "junk after the cpio trailer at stream offset %llu",
				    (unsigned long long)p->pos);
			}
			break;
		}
	}
	*used = i;
	return 0;
}

/* After a failure inside an entry's data: report the part of it that was read. */
static void newc_salvage(struct newc *p)
{
	if (p->state != N_DATA || p->left == p->filesize)
		return;
	uint64_t got = p->filesize - p->left, cost = cost_at(p, p->pos) - p->data_c0;
	name_normalize(p->name);
	if (!du_tree_add(p->t, p->group, NULL, p->name, DU_FILE, got, cost)) {
		p->file_sum += got;
		p->cost_sum += cost;
	}
}

/* Between entries (or after a trailer): the stream may end here. */
static bool newc_at_boundary(const struct newc *p)
{
	bool aligned = !(p->pos & 3);
	return p->state == N_RESET || (p->state == N_HDR && !p->have) ||
	       (p->state == N_DATA_PAD && aligned) ||
	       (p->state == N_NAME_PAD && aligned && !strcmp(p->name, "TRAILER!!!"));
}

struct reader {
	const uint8_t *buf;
	size_t len;
	const char *name;
	struct du_tree *t;
	const struct insp_opts *o;
	uint64_t file_sum, cost_sum, stream_bytes;
	unsigned n_seg;
	char group[96];
	XXH3_state_t *xxh; /* insp_opts.digest */
};

static void newc_init(struct newc *p, struct reader *rd, uint64_t pos, bool compressed)
{
	memset(p, 0, sizeof(*p));
	p->pos = pos;
	p->in_compressed = compressed;
	p->t = rd->t;
	p->group = rd->o->by_layer ? rd->group : NULL;
	p->xxh = rd->xxh;
}

static int seg_uncompressed(struct reader *rd, size_t *off, struct rf_err *err)
{
	struct newc *p = malloc(sizeof(*p));
	if (!p)
		return rf_err_set(err, ENOMEM, "out of memory");
	snprintf(rd->group, sizeof(rd->group), "segment %u (cpio at byte %zu)", rd->n_seg + 1,
		 *off);
	newc_init(p, rd, *off, false);
	p->u0 = p->c0 = *off;
	p->u1 = p->c1 = rd->len;
	size_t used = 0;
	int r = newc_feed(p, rd->buf + *off, rd->len - *off, &used, err);
	if (r == 0 && !newc_at_boundary(p))
		r = rf_err_set(err, EIO, "truncated cpio archive");
	if (r == 1)
		r = 0;
	if (r)
		used = (size_t)(p->pos - *off);
	if (du_tree_add_segment(rd->t, "none", *off, used, used) && !r)
		r = rf_err_set(err, ENOMEM, "out of memory");
	if (r)
		newc_salvage(p);
	rd->file_sum += p->file_sum;
	rd->cost_sum += p->cost_sum;
	rd->stream_bytes += used;
	*off += used; /* on failure: where reading stopped */
	free(p);
	rd->n_seg++;
	return r;
}

static int seg_compressed(struct reader *rd, const char *method, size_t *off, struct rf_err *err)
{
	struct insp_decoder *d = NULL;
	struct newc *p = malloc(sizeof(*p));
	uint8_t *out = malloc(OUT_STEP);
	int r = 0;
	size_t start = *off, in = *off;
	if (!p || !out) {
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	snprintf(rd->group, sizeof(rd->group), "segment %u (%s at byte %zu)", rd->n_seg + 1, method,
		 start);
	newc_init(p, rd, 0, true);
	if ((r = insp_decoder_new(method, &d, err)))
		goto out;
	uint64_t produced = 0, c_last = start;
	for (;;) {
		size_t in_used = 0, out_len = 0;
		int end = insp_decoder_step(d, rd->buf + in, rd->len - in, &in_used, out, OUT_STEP,
					    &out_len, err);
		if (end < 0) {
			r = end;
			break;
		}
		in += in_used;
		if (out_len) {
			p->u0 = produced;
			p->u1 = produced + out_len;
			p->c0 = c_last;
			p->c1 = in;
			size_t used;
			if ((r = newc_feed(p, out, out_len, &used, err)))
				break;
			produced += out_len;
			c_last = in;
		}
		if (end) {
			if (!newc_at_boundary(p))
				r = rf_err_set(err, EIO, "truncated cpio archive in the %s stream",
					       method);
			break;
		}
	}
	if (du_tree_add_segment(rd->t, method, start, (r ? c_last : in) - start, produced) && !r)
		r = rf_err_set(err, ENOMEM, "out of memory");
	if (r)
		newc_salvage(p);
	rd->file_sum += p->file_sum;
	rd->cost_sum += p->cost_sum;
	rd->stream_bytes += produced;
	*off = r ? c_last : in;
out:
	insp_decoder_free(d);
	free(p);
	free(out);
	rd->n_seg++;
	return r;
}

int insp_read_cpio(const uint8_t *buf, size_t len, const char *name, struct du_tree *t,
		   const struct insp_opts *o, struct rf_err *err)
{
	struct reader rd = {.buf = buf, .len = len, .name = name, .t = t, .o = o};
	struct rf_err e = {0};
	size_t off = 0;
	int r = 0;
	t->has_compressed = true;
	t->file_bytes = len;
	if (o->digest && !(rd.xxh = XXH3_createState()))
		return rf_err_set(err, ENOMEM, "out of memory");
	while (off < len) {
		if (!buf[off]) {
			off++;
			continue;
		}
		size_t seg_at = off;
		const char *method = NULL;
		if (buf[off] == '0' && !(off & 3))
			r = seg_uncompressed(&rd, &off, &e);
		else if ((method = insp_decoder_detect(buf + off, len - off)))
			r = seg_compressed(&rd, method, &off, &e);
		else
			r = rf_err_set(&e, EINVAL,
				       "byte %zu: neither a cpio archive nor a "
				       "compressed stream the kernel accepts",
				       off);
		if (r) {
			char msg[sizeof(e.msg)];
			snprintf(msg, sizeof(msg), "%s", e.msg);
			if (method || buf[seg_at] == '0')
				rf_err_set(err, -r, "%s: segment %u (%s at byte %zu): %s", name,
					   rd.n_seg, method ? method : "cpio", seg_at, msg);
			else
				rf_err_set(err, -r, "%s: %s", name, msg);
			break;
		}
	}
	/* everything not attributed to an entry's data up to where reading stopped */
	uint64_t reached = r ? off : len;
	int m = du_tree_add(t, NULL, NULL, META_NAME, DU_META, rd.stream_bytes - rd.file_sum,
			    reached - rd.cost_sum);
	if (!m && reached < len)
		m = du_tree_add(t, NULL, NULL, "(unread)", DU_META, 0, len - reached);
	t->stream_bytes = rd.stream_bytes;
	XXH3_freeState(rd.xxh);
	if (m && !r)
		r = rf_err_set(err, ENOMEM, "out of memory");
	return r;
}
