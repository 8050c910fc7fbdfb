/* A segment's newc stream through libarchive (archive_write_set_format_cpio_newc, no filter,
 * no blocking) into memory, and its cache key. See newc.h. */
#include "newc.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#define NEWC_TRAILER_BYTES 124u /* 110-byte header + "TRAILER!!!\0", padded to 4 */
#define DATA_CHUNK (256u << 10)
#define KEY_VERSION "rootfs-fuse newc segment v1"

static la_ssize_t to_buf(struct archive *a, void *arg, const void *p, size_t len)
{
	(void)a;
	return exp_buf_append(arg, p, len) ? -1 : (la_ssize_t)len;
}

static int entry_fill(struct archive_entry *ae, const struct seg_entry *s,
		      const struct exp_options *o)
{
	const struct ovl_node *n = s->n;
	archive_entry_clear(ae);
	archive_entry_copy_pathname(ae, s->path);
	archive_entry_set_mode(ae, n->attr.mode);
	archive_entry_set_uid(ae, n->attr.uid);
	archive_entry_set_gid(ae, n->attr.gid);
	archive_entry_set_nlink(ae, s->nlink);
	archive_entry_set_ino(ae, s->ino);
	archive_entry_set_dev(ae, 0);
	archive_entry_set_mtime(ae, exp_mtime(o, n), 0);
	if (S_ISCHR(n->attr.mode) || S_ISBLK(n->attr.mode)) {
		archive_entry_set_rdevmajor(ae, n->attr.rdev_major);
		archive_entry_set_rdevminor(ae, n->attr.rdev_minor);
	}
	if (S_ISLNK(n->attr.mode))
		archive_entry_copy_symlink(ae, n->link_target ? n->link_target : "");
	archive_entry_set_size(ae, S_ISREG(n->attr.mode) ? (la_int64_t)s->size : 0);
	return 0;
}

static int write_data(struct archive *a, const struct seg_entry *s, char *buf, struct rf_err *err)
{
	for (uint64_t off = 0; off < s->size;) {
		uint64_t want = s->size - off < DATA_CHUNK ? s->size - off : DATA_CHUNK;
		ssize_t got = ovl_node_pread(s->n, buf, (size_t)want, off, err);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return rf_err_set(err, EIO,
					  "/%s: changed while exporting (shorter than "
					  "%llu bytes)",
					  s->path, (unsigned long long)s->size);
		if (archive_write_data(a, buf, (size_t)got) != got)
			return rf_err_set(err, EIO, "/%s: %s", s->path, archive_error_string(a));
		off += (uint64_t)got;
	}
	return 0;
}

int newc_write(const struct seg_entry *e, size_t n, const struct exp_options *o, bool with_trailer,
	       struct exp_buf *out, struct rf_err *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	char *buf = malloc(DATA_CHUNK);
	size_t start = out->len;
	int r = 0;
	if (!a || !ae || !buf) {
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (archive_write_set_format_cpio_newc(a) || archive_write_add_filter_none(a) ||
	    archive_write_set_bytes_per_block(a, 0) ||
	    archive_write_open2(a, out, NULL, to_buf, NULL, NULL)) {
		r = rf_err_set(err, EIO, "libarchive: %s", archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < n && !r; i++) {
		entry_fill(ae, &e[i], o);
		if (archive_write_header(a, ae) < ARCHIVE_WARN) {
			r = rf_err_set(err, EIO, "/%s: %s", e[i].path, archive_error_string(a));
			break;
		}
		if (S_ISREG(e[i].n->attr.mode))
			r = write_data(a, &e[i], buf, err);
	}
	if (!r && archive_write_close(a) != ARCHIVE_OK)
		r = rf_err_set(err, EIO, "libarchive: %s", archive_error_string(a));
	if (!r && !with_trailer) {
		/* drop the trailer: a segment other than the last ends with its entries */
		size_t len = out->len - start;
		if (len < NEWC_TRAILER_BYTES ||
		    memcmp(out->data + out->len - NEWC_TRAILER_BYTES + 110, "TRAILER!!!", 11))
			r = rf_err_set(err, EIO, "libarchive: unexpected end of a newc stream");
		else
			out->len -= NEWC_TRAILER_BYTES;
	}
out:
	if (r)
		out->len = start;
	free(buf);
	archive_entry_free(ae);
	archive_write_free(a);
	return r;
}

int newc_key(const struct seg_entry *e, size_t n, const struct exp_options *o, bool with_trailer,
	     const char *compress, struct hash_memo *memo, uint8_t key[16], struct rf_err *err)
{
	XXH3_state_t *s = XXH3_createState();
	if (!s)
		return rf_err_set(err, ENOMEM, "out of memory");
	XXH3_128bits_reset(s);
	int64_t head[] = {with_trailer, o->level, (int64_t)n};
	XXH3_128bits_update(s, KEY_VERSION, sizeof(KEY_VERSION));
	XXH3_128bits_update(s, compress, strlen(compress) + 1);
	XXH3_128bits_update(s, head, sizeof(head));
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		const struct ovl_node *nd = e[i].n;
		int64_t f[] = {
		    nd->attr.mode,     nd->attr.uid,	 nd->attr.gid,	      e[i].nlink,
		    e[i].ino,	       exp_mtime(o, nd), nd->attr.rdev_major, nd->attr.rdev_minor,
		    (int64_t)e[i].size};
		XXH3_128bits_update(s, f, sizeof(f));
		XXH3_128bits_update(s, e[i].path, strlen(e[i].path) + 1);
		if (S_ISLNK(nd->attr.mode) && nd->link_target)
			XXH3_128bits_update(s, nd->link_target, strlen(nd->link_target) + 1);
		if (S_ISREG(nd->attr.mode) && e[i].size) {
			uint8_t h[16];
			r = memo_content_hash(memo, nd, h, err);
			XXH3_128bits_update(s, h, sizeof(h));
		}
	}
	if (!r) {
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s));
		memcpy(key, c.digest, 16);
	}
	XXH3_freeState(s);
	return r;
}
