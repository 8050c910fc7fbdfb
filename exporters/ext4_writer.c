/* The ext4 writer: mkfs with libext2fs as misc/mke2fs.c does (tables, root, lost+found,
 * reserved inodes, bad block inode, journal), then the view's nodes as misc/create_inode.c adds
 * them (ext2fs_new_inode, ext2fs_link with ext2fs_expand_dir, ext2fs_inode_alloc_stats2).
 * File data bypasses the io channel: blocks come from ext2fs_new_range, are written with pwrite
 * and described with ext2fs_extent_insert; all-zero blocks stay holes. */
#include "ext4_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext3_extents.h>

#include "ext4_dir.h"
#include "ext4_plan.h"

#define BS EXT4_PLAN_BLOCK
#define CHUNK (1u << 20)
#define MAX_EXTENT_LEN 32768u

struct ext4w {
	struct exp_ctx *c;
	ext2_filsys fs;
	int fd;		 /* the image file (borrowed) */
	uint64_t off;	 /* byte offset of the filesystem in fd */
	uint64_t blocks; /* filesystem size in blocks */
	ext2_ino_t *map; /* view inode number -> ext4 inode number */
	size_t n_map;
	ext2_ino_t lpf;			 /* lost+found */
	const struct ovl_node *view_lpf; /* the view's /lost+found when it is a directory */
	bool view_has_lpf;
	uint8_t *written; /* by view inode number: inode written (hard links: once) */
	blk64_t goal;	  /* next data block to try: files are laid out one after another */
	uint8_t uuid[16];
	char *buf; /* CHUNK bytes */
	/* the extent being grown for the current file */
	ext2_extent_handle_t eh;
	struct ext2fs_extent pending;
	bool has_pending;
	uint64_t file_blocks;
};

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* libext2fs errors are errcode_t values of com_err tables; errno values pass through. */
static int fs_err(struct ext4w *w, errcode_t e, const char *what, const char *path)
{
	int code = e == EXT2_ET_BLOCK_ALLOC_FAIL || e == EXT2_ET_INODE_ALLOC_FAIL ||
			   e == EXT2_ET_DIR_NO_SPACE || e == ENOSPC
		       ? ENOSPC
		   : e > 0 && e < 4096 ? (int)e
				       : EIO;
	if (code == ENOSPC)
		return rf_err_set(
		    w->c->err, ENOSPC,
		    "%s: ext4: the filesystem is full at /%s (%s); give a larger --size",
		    w->c->out_path, path, what);
	return rf_err_set(w->c->err, code, "%s: ext4: %s /%s: %s", w->c->out_path, what, path,
			  error_message(e));
}

static void format_size(uint64_t bytes, char *buf, size_t n)
{
	if (bytes && bytes % (1ULL << 30) == 0)
		snprintf(buf, n, "%" PRIu64 "G", bytes >> 30);
	else if (bytes && bytes % (1ULL << 20) == 0)
		snprintf(buf, n, "%" PRIu64 "M", bytes >> 20);
	else if (bytes && bytes % 1024 == 0)
		snprintf(buf, n, "%" PRIu64 "K", bytes >> 10);
	else
		snprintf(buf, n, "%" PRIu64, bytes);
}

int ext4w_parse_uuid(const char *s, uint8_t out[16])
{
	uint8_t u[16];
	int k = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '-')
			continue;
		int hi, lo;
		if (sscanf(p, "%1x%1x", &hi, &lo) != 2 || k >= 16)
			return -EINVAL;
		u[k++] = (uint8_t)(hi << 4 | lo);
		p++;
	}
	if (k != 16 || strlen(s) != 36)
		return -EINVAL;
	memcpy(out, u, 16);
	return 0;
}

/* Inodes for a filesystem of blocks blocks: what the view needs with headroom, and at least
 * one per 16 KiB as mke2fs's ext4 default (inode_ratio) gives, so the guest can add files. */
static uint64_t inodes_for(const struct ext4_plan *p, uint64_t blocks, bool headroom)
{
	uint64_t need = headroom ? p->inodes + p->inodes / 10 + 64 : p->inodes;
	uint64_t ratio = headroom ? blocks * BS / 16384 : 0;
	uint64_t n = need > ratio ? need : ratio;
	return n > UINT32_MAX - 65536 ? UINT32_MAX - 65536 : n;
}

static uint64_t journal_blocks(uint64_t blocks)
{
	int j = ext2fs_default_journal_size(blocks);
	return j < 0 ? UINT64_MAX / 4 : (uint64_t)j;
}

/* An initialized (in memory) filesystem of blocks blocks in w->fd with ext4's features. */
static errcode_t make_fs(struct ext4w *w, uint64_t blocks, uint64_t inodes, ext2_filsys *out)
{
	struct ext2_super_block param;
	memset(&param, 0, sizeof(param));
	ext2fs_blocks_count_set(&param, blocks);
	param.s_log_block_size = 2; /* 4096 */
	param.s_rev_level = EXT2_DYNAMIC_REV;
	param.s_inode_size = 256;
	param.s_inodes_count = (uint32_t)inodes;
	param.s_log_groups_per_flex = 4;
	param.s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
	param.s_min_extra_isize = param.s_want_extra_isize =
	    sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	param.s_creator_os = EXT2_OS_LINUX;
	param.s_feature_compat = EXT2_FEATURE_COMPAT_EXT_ATTR | EXT2_FEATURE_COMPAT_DIR_INDEX;
	param.s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_EXTENTS |
				   EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG;
	param.s_feature_ro_compat =
	    EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE |
	    EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_DIR_NLINK |
	    EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
	param.s_default_mount_opts = EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL;
	char name[32];
	int dfd = dup(w->fd);
	if (dfd < 0)
		return errno;
	snprintf(name, sizeof(name), "%d", dfd); /* the unixfd manager takes the fd as its name */
	ext2_filsys fs;
	errcode_t e = ext2fs_initialize(name, EXT2_FLAG_64BITS, &param, unixfd_io_manager, &fs);
	if (e) {
		close(dfd);
		return e;
	}
	if (w->off) {
		char o[48];
		snprintf(o, sizeof(o), "offset=%" PRIu64, w->off);
		e = io_channel_set_options(fs->io, o);
		if (e) {
			ext2fs_free(fs);
			return e;
		}
	}
	*out = fs;
	return 0;
}

/* Does a filesystem of blocks blocks hold the plan (with headroom or exactly)? */
static errcode_t fits(struct ext4w *w, const struct ext4_plan *p, uint64_t blocks, bool headroom,
		      uint64_t *shortfall)
{
	ext2_filsys fs;
	errcode_t e = make_fs(w, blocks, inodes_for(p, blocks, headroom), &fs);
	if (e == EXT2_ET_TOOSMALL || e == EXT2_ET_TOO_MANY_INODES) {
		*shortfall = blocks / 2 + 256;
		return 0;
	}
	if (e)
		return e;
	uint64_t need = p->data_blocks + p->meta_blocks + 1 + journal_blocks(blocks);
	if (headroom)
		need += need / 10 + 256;
	uint64_t avail = ext2fs_free_blocks_count(fs->super);
	*shortfall = avail >= need ? 0 : need - avail;
	ext2fs_free(fs);
	return 0;
}

/* Smallest size (in 1 MiB steps of 256 blocks) that fits, starting from an estimate. */
static errcode_t size_for(struct ext4w *w, const struct ext4_plan *p, bool headroom,
			  uint64_t *blocks_out)
{
	uint64_t b = p->data_blocks + p->meta_blocks;
	b += (headroom ? b / 10 : 0) + 2048;
	b += journal_blocks(b < 2048 ? 2048 : b) < UINT64_MAX / 8 ? journal_blocks(b) : 1024;
	for (int i = 0; i < 64; i++) {
		b = (b + 255) & ~255ULL;
		uint64_t short_by;
		errcode_t e = fits(w, p, b, headroom, &short_by);
		if (e)
			return e;
		if (!short_by) {
			*blocks_out = b;
			return 0;
		}
		b += short_by + short_by / 8 + 256;
	}
	return EXT2_ET_TOOSMALL;
}

static errcode_t setup_fs(struct ext4w *w, const struct ext4_plan *p)
{
	ext2_filsys fs = w->fs;
	struct ext2_super_block *sb = fs->super;
	int64_t now = w->c->opt->has_epoch ? w->c->opt->epoch : p->max_mtime;
	/* fs->now == 0 means "ask time()": a view whose times are all 0 gets 1 s */
	fs->now = now > 0 ? (time_t)now : 1;
	sb->s_mkfs_time = sb->s_lastcheck = (uint32_t)fs->now;
	memcpy(sb->s_uuid, w->uuid, 16);
	XXH128_hash_t hs = XXH3_128bits_withSeed(w->uuid, 16, 0x68747265 /* "htre" */);
	XXH128_canonical_t can;
	XXH128_canonicalFromHash(&can, hs);
	memcpy(sb->s_hash_seed, can.digest, 16);
	sb->s_def_hash_version = EXT2_HASH_HALF_MD4;
	sb->s_flags |= ((char)-1 < 0) ? EXT2_FLAGS_SIGNED_HASH : EXT2_FLAGS_UNSIGNED_HASH;
	sb->s_max_mnt_count = -1;
	sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
	ext2fs_init_csum_seed(fs);
	errcode_t e = ext2fs_allocate_tables(fs);
	if (e)
		return e;
	/* the image file is sparse: inode tables read as zeros, as mke2fs's zeroing leaves them */
	for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
		ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);
		ext2fs_group_desc_csum_set(fs, g);
	}
	ext2fs_inode_alloc_stats2(fs, EXT2_ROOT_INO, +1, 1);
	/* the reserved inodes before lost+found, so that it gets inode 11 as mke2fs gives it */
	for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(sb); i++)
		ext2fs_inode_alloc_stats2(fs, i, +1, 0);
	ext2fs_mark_ib_dirty(fs);
	ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
	ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
	e = ext2fs_update_bb_inode(fs, NULL);
	if (e)
		return e;
	const struct ovl_node *lpf = ovl_node_child(ovl_view_root(w->c->view), "lost+found");
	if (!lpf || S_ISDIR(lpf->attr.mode)) { /* a view's non-directory lost+found wins */
		e = ext2fs_new_inode(fs, EXT2_ROOT_INO, LINUX_S_IFDIR | 0700, 0, &w->lpf);
		if (e)
			return e;
		ext2fs_inode_alloc_stats2(fs, w->lpf, +1, 1);
		w->view_lpf = lpf;
		w->view_has_lpf = lpf != NULL;
	}
	struct ext2fs_journal_params jp;
	e = ext2fs_get_journal_params(&jp, fs);
	if (!e)
		e = ext2fs_add_journal_inode3(
		    fs, &jp, ~0ULL, EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK);
	return e;
}

int ext4w_open(struct exp_ctx *c, int fd, uint64_t offset_bytes, struct ext4w **out)
{
	struct ext4w *w = calloc(1, sizeof(*w));
	if (!w)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	w->c = c;
	w->fd = fd;
	w->off = offset_bytes;
	struct ext4_plan p;
	int r = ext4_plan_view(c->view, c->opt, &p, c->err);
	if (r)
		goto out;
	w->n_map = ovl_view_count(c->view) + 2;
	w->map = calloc(w->n_map, sizeof(*w->map));
	w->written = calloc(w->n_map, 1);
	w->buf = aligned_alloc(4096, CHUNK);
	if (!w->map || !w->written || !w->buf) {
		r = rf_err_set(c->err, ENOMEM, "out of memory");
		goto out;
	}
	if (c->opt->uuid) {
		if (ext4w_parse_uuid(c->opt->uuid, w->uuid)) {
			r = rf_err_set(c->err, EINVAL, "--uuid '%s' is not a UUID", c->opt->uuid);
			goto out;
		}
	} else {
		memcpy(w->uuid, p.content_hash, 16);
		w->uuid[6] = (uint8_t)((w->uuid[6] & 0x0f) | 0x40);
		w->uuid[8] = (uint8_t)((w->uuid[8] & 0x3f) | 0x80);
	}
	errcode_t e;
	if (c->opt->size_bytes) {
		uint64_t blocks = c->opt->size_bytes / BS, short_by = 1;
		e = blocks >= 2048 ? fits(w, &p, blocks, false, &short_by) : 0;
		if (!e && short_by) {
			uint64_t min_blocks = 0;
			e = size_for(w, &p, false, &min_blocks);
			if (!e) {
				char given[32];
				format_size(c->opt->size_bytes, given, sizeof(given));
				r = rf_err_set(
				    c->err, ENOSPC,
				    "%s: --size %s is too small: the view needs at least "
				    "%" PRIu64 "M",
				    c->out_path, given, div_up(min_blocks * BS, 1 << 20));
				goto out;
			}
		}
		w->blocks = blocks;
	} else {
		e = size_for(w, &p, true, &w->blocks);
	}
	if (e) {
		r = fs_err(w, e, "sizing", "");
		goto out;
	}
	if (ftruncate(fd, (off_t)(offset_bytes + w->blocks * BS))) {
		r = rf_err_errno(c->err, errno, "%s: cannot size the image", c->out_path);
		goto out;
	}
	e = make_fs(w, w->blocks, inodes_for(&p, w->blocks, true), &w->fs);
	if (!e)
		e = setup_fs(w, &p);
	if (e) {
		r = fs_err(w, e, "mkfs", "");
		goto out;
	}
	*out = w;
	return 0;
out:
	ext4w_free(w);
	return r;
}

uint64_t ext4w_size_bytes(const struct ext4w *w)
{
	return w->blocks * BS;
}

const uint8_t *ext4w_uuid(const struct ext4w *w)
{
	return w->uuid;
}

static int file_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return EXT2_FT_REG_FILE;
	case S_IFDIR:
		return EXT2_FT_DIR;
	case S_IFLNK:
		return EXT2_FT_SYMLINK;
	case S_IFCHR:
		return EXT2_FT_CHRDEV;
	case S_IFBLK:
		return EXT2_FT_BLKDEV;
	case S_IFIFO:
		return EXT2_FT_FIFO;
	case S_IFSOCK:
		return EXT2_FT_SOCK;
	}
	return EXT2_FT_UNKNOWN;
}

/* ext4's 34-bit seconds: the low 32 bits in the inode, epoch bits and nanoseconds in _extra. */
static uint32_t time_extra(int64_t sec, uint32_t nsec)
{
	return (uint32_t)(((sec - (int64_t)(int32_t)sec) >> 32) & 3) | (nsec << 2);
}

/* Owner, permissions, link count and times of n onto il (the type bits come from n too). */
static void put_attrs(struct ext4w *w, struct ext2_inode_large *il, const struct ovl_node *n)
{
	const struct ovl_attr *a = &n->attr;
	int64_t t = exp_mtime(w->c->opt, n);
	uint32_t ns = w->c->opt->has_epoch ? 0 : a->mtime_nsec;
	il->i_mode = (uint16_t)a->mode;
	il->i_uid = (uint16_t)a->uid;
	il->osd2.linux2.l_i_uid_high = (uint16_t)(a->uid >> 16);
	il->i_gid = (uint16_t)a->gid;
	il->osd2.linux2.l_i_gid_high = (uint16_t)(a->gid >> 16);
	il->i_atime = il->i_ctime = il->i_mtime = il->i_crtime = (uint32_t)t;
	il->i_extra_isize = sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
	il->i_atime_extra = il->i_ctime_extra = il->i_mtime_extra = il->i_crtime_extra =
	    time_extra(t, ns);
}

static errcode_t read_il(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *il)
{
	memset(il, 0, sizeof(*il));
	return ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)il, sizeof(*il));
}

static errcode_t write_il(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *il)
{
	return ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)il, sizeof(*il));
}

static errcode_t flush_extent(struct ext4w *w, ext2_ino_t ino)
{
	if (!w->has_pending)
		return 0;
	errcode_t e = 0;
	int flags = EXT2_EXTENT_INSERT_AFTER;
	if (!w->eh) {
		e = ext2fs_extent_open2(w->fs, ino, NULL, &w->eh);
		if (e)
			return e;
		flags = 0; /* an empty tree: the first extent */
	}
	e = ext2fs_extent_insert(w->eh, flags, &w->pending);
	w->has_pending = false;
	return e;
}

/* Map logical blocks lblk.. of the current file to pblk.., merging with the pending extent. */
static errcode_t add_extent(struct ext4w *w, ext2_ino_t ino, blk64_t lblk, blk64_t pblk,
			    blk64_t len)
{
	struct ext2fs_extent *x = &w->pending;
	while (len) {
		if (w->has_pending && x->e_lblk + x->e_len == lblk &&
		    x->e_pblk + x->e_len == pblk && x->e_len < MAX_EXTENT_LEN) {
			blk64_t n =
			    MAX_EXTENT_LEN - x->e_len < len ? MAX_EXTENT_LEN - x->e_len : len;
			x->e_len += (uint32_t)n;
			lblk += n;
			pblk += n;
			len -= n;
			continue;
		}
		errcode_t e = flush_extent(w, ino);
		if (e)
			return e;
		*x = (struct ext2fs_extent){.e_lblk = lblk, .e_pblk = pblk, .e_len = 0};
		w->has_pending = true;
	}
	return 0;
}

/* Write count blocks of data (non-zero) at logical block lblk of the current file. */
static int put_run(struct ext4w *w, ext2_ino_t ino, const char *path, blk64_t lblk,
		   const char *data, blk64_t count)
{
	while (count) {
		blk64_t pblk, plen;
		errcode_t e = ext2fs_new_range(w->fs, 0, w->goal, count, NULL, &pblk, &plen);
		if (e)
			return fs_err(w, e == EXT2_ET_BLOCK_ALLOC_FAIL ? ENOSPC : e, "data", path);
		ext2fs_block_alloc_stats_range(w->fs, pblk, plen, +1);
		size_t bytes = (size_t)plen * BS;
		for (size_t done = 0; done < bytes;) {
			ssize_t k = pwrite(w->fd, data + done, bytes - done,
					   (off_t)(w->off + pblk * BS + done));
			if (k < 0) {
				if (errno == EINTR)
					continue;
				return rf_err_errno(w->c->err, errno, "%s: write", w->c->out_path);
			}
			done += (size_t)k;
		}
		e = add_extent(w, ino, lblk, pblk, plen);
		if (e)
			return fs_err(w, e, "extent tree", path);
		w->goal = pblk + plen;
		w->file_blocks += plen;
		lblk += plen;
		data += bytes;
		count -= plen;
	}
	return 0;
}

static bool is_zero(const char *p, size_t n)
{
	static const char z[16];
	return !memcmp(p, z, 16) && !memcmp(p, p + 16, n - 16);
}

/* Bytes [start, end) of the file (block aligned start): read, split into runs of non-zero
 * blocks, written. */
static int put_range(struct ext4w *w, ext2_ino_t ino, const struct ovl_node *n, const char *path,
		     int hfd, uint64_t start, uint64_t end)
{
	for (uint64_t pos = start; pos < end;) {
		size_t len = end - pos < CHUNK ? (size_t)(end - pos) : CHUNK;
		for (size_t got = 0; got < len;) {
			ssize_t k;
			if (hfd >= 0) {
				k = pread(hfd, w->buf + got, len - got, (off_t)(pos + got));
				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0)
					return rf_err_errno(w->c->err, errno, "%s",
							    n->src.host_path);
			} else {
				k = ovl_node_pread(n, w->buf + got, len - got, pos + got,
						   w->c->err);
				if (k < 0)
					return (int)k;
			}
			if (k == 0)
				return rf_err_set(w->c->err, EIO,
						  "/%s: the file shrank during export", path);
			got += (size_t)k;
		}
		size_t padded = (len + BS - 1) & ~(size_t)(BS - 1);
		memset(w->buf + len, 0, padded - len);
		size_t nb = padded / BS, i = 0;
		while (i < nb) {
			if (is_zero(w->buf + i * BS, BS)) {
				i++;
				continue;
			}
			size_t j = i + 1;
			while (j < nb && !is_zero(w->buf + j * BS, BS))
				j++;
			int r = put_run(w, ino, path, pos / BS + i, w->buf + i * BS, j - i);
			if (r)
				return r;
			i = j;
		}
		pos += len;
	}
	return 0;
}

static int put_data(struct ext4w *w, ext2_ino_t ino, const struct ovl_node *n, const char *path)
{
	uint64_t size = n->attr.size;
	if (!size || n->src.kind == OVL_SRC_NONE)
		return 0;
	int hfd = -1, r = 0;
	if (n->src.kind == OVL_SRC_HOST) {
		hfd = open(n->src.host_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (hfd < 0)
			return rf_err_errno(w->c->err, errno, "%s", n->src.host_path);
		/* the host's holes are skipped without reading them */
		uint64_t pos = 0;
		while (!r && pos < size) {
			off_t d = lseek(hfd, (off_t)pos, SEEK_DATA);
			if (d < 0 && errno == ENXIO)
				break;
			if (d < 0) { /* no SEEK_DATA: all of it */
				r = put_range(w, ino, n, path, hfd, pos, size);
				break;
			}
			off_t h = lseek(hfd, d, SEEK_HOLE);
			uint64_t s = (uint64_t)d & ~(uint64_t)(BS - 1);
			uint64_t e = h < 0 || (uint64_t)h > size ? size : (uint64_t)h;
			e = (e + BS - 1) & ~(uint64_t)(BS - 1);
			if (e > size)
				e = size;
			if (s < pos)
				s = pos;
			if (e <= s)
				e = s + BS < size ? s + BS : size;
			r = put_range(w, ino, n, path, hfd, s, e);
			pos = e;
		}
		close(hfd);
	} else {
		r = put_range(w, ino, n, path, -1, 0, size);
	}
	return r;
}

/* A fresh extent-mapped inode for n: attributes, an empty extent tree, size_bytes. */
static int begin_inode(struct ext4w *w, ext2_ino_t ino, const struct ovl_node *n, uint16_t links,
		       uint64_t size_bytes, const char *path)
{
	struct ext2_inode_large il;
	memset(&il, 0, sizeof(il));
	put_attrs(w, &il, n);
	il.i_links_count = links;
	il.i_flags = EXT4_EXTENTS_FL;
	struct ext3_extent_header *eh = (struct ext3_extent_header *)il.i_block;
	eh->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
	eh->eh_max =
	    ext2fs_cpu_to_le16((sizeof(il.i_block) - sizeof(*eh)) / sizeof(struct ext3_extent));
	errcode_t e = ext2fs_inode_size_set(w->fs, (struct ext2_inode *)&il, size_bytes);
	if (!e)
		e = write_il(w->fs, ino, &il);
	if (e)
		return fs_err(w, e, "inode", path);
	w->eh = NULL;
	w->has_pending = false;
	w->file_blocks = 0;
	return 0;
}

/* After the data: the last extent, and the data blocks counted in i_blocks (the extent code
 * counted its own tree blocks). */
static int end_inode(struct ext4w *w, ext2_ino_t ino, const char *path, int r)
{
	errcode_t e = 0;
	if (!r)
		e = flush_extent(w, ino);
	if (w->eh) {
		ext2fs_extent_free(w->eh);
		w->eh = NULL;
	}
	if (r || e || !w->file_blocks)
		return r ? r : e ? fs_err(w, e, "extent tree", path) : 0;
	struct ext2_inode_large il;
	e = read_il(w->fs, ino, &il);
	if (!e)
		e = ext2fs_iblk_add_blocks(w->fs, (struct ext2_inode *)&il, w->file_blocks);
	if (!e)
		e = write_il(w->fs, ino, &il);
	return e ? fs_err(w, e, "inode", path) : 0;
}

static int add_file(struct ext4w *w, ext2_ino_t ino, const struct ovl_node *n, const char *path)
{
	int r = begin_inode(w, ino, n, (uint16_t)(n->nlink ? n->nlink : 1), n->attr.size, path);
	if (r)
		return r;
	return end_inode(w, ino, path, put_data(w, ino, n, path));
}

static int add_symlink(struct ext4w *w, ext2_ino_t ino, const struct ovl_node *n, const char *path)
{
	const char *t = n->link_target ? n->link_target : "";
	size_t len = strlen(t);
	uint16_t links = (uint16_t)(n->nlink ? n->nlink : 1);
	if (len >= BS)
		return rf_err_set(w->c->err, ENAMETOOLONG, "/%s: symlink target too long", path);
	struct ext2_inode_large il;
	memset(&il, 0, sizeof(il));
	if (len < sizeof(il.i_block)) { /* a fast symlink: the target in i_block */
		put_attrs(w, &il, n);
		il.i_links_count = links;
		il.i_size = (uint32_t)len;
		memcpy(il.i_block, t, len);
		errcode_t e = write_il(w->fs, ino, &il);
		return e ? fs_err(w, e, "inode", path) : 0;
	}
	int r = begin_inode(w, ino, n, links, len, path);
	if (r)
		return r;
	memset(w->buf, 0, BS);
	memcpy(w->buf, t, len);
	return end_inode(w, ino, path, put_run(w, ino, path, 0, w->buf, 1));
}

static int add_special(struct ext4w *w, ext2_ino_t ino, const struct ovl_node *n, const char *path)
{
	struct ext2_inode_large il;
	memset(&il, 0, sizeof(il));
	put_attrs(w, &il, n);
	il.i_links_count = (uint16_t)(n->nlink ? n->nlink : 1);
	if (S_ISCHR(n->attr.mode) || S_ISBLK(n->attr.mode)) {
		uint32_t ma = n->attr.rdev_major, mi = n->attr.rdev_minor;
		/* old 8:8 encoding in i_block[0] when it fits, else the new one in i_block[1] */
		if (ma < 256 && mi < 256)
			il.i_block[0] = ext2fs_cpu_to_le32(ma << 8 | mi);
		else
			il.i_block[1] =
			    ext2fs_cpu_to_le32((mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12));
	}
	errcode_t e = write_il(w->fs, ino, &il);
	return e ? fs_err(w, e, "inode", path) : 0;
}

static int add_xattrs(struct ext4w *w, ext2_ino_t ino, const struct ovl_node *n, const char *path)
{
	if (!n->n_xattrs)
		return 0;
	struct ext2_xattr_handle *h;
	errcode_t e = ext2fs_xattrs_open(w->fs, ino, &h);
	if (e)
		return fs_err(w, e, "xattrs of", path);
	e = ext2fs_xattrs_read(h);
	for (size_t i = 0; !e && i < n->n_xattrs; i++)
		e = ext2fs_xattr_set(h, n->xattrs[i].name, n->xattrs[i].value, n->xattrs[i].size);
	errcode_t e2 = ext2fs_xattrs_close(&h);
	if (!e)
		e = e2;
	return e ? fs_err(w, e, "xattrs of", path) : 0;
}

/* Write directory ino (node n, or lost+found made here when n is NULL) from d's blocks. */
static int write_dir(struct ext4w *w, ext2_ino_t ino, const struct ovl_node *n,
		     struct ext4_dirbuf *d, uint16_t links, const char *path)
{
	ext4_dir_close_block(w->fs, d);
	struct ovl_node lpf_node = {.attr = {.mode = S_IFDIR | 0700}};
	if (!n) {
		lpf_node.attr.mtime_sec = w->fs->now;
		n = &lpf_node;
	}
	int r = begin_inode(w, ino, n, links, d->n_blocks * BS, path);
	if (r)
		return r;
	for (size_t i = 0; i < d->n_blocks; i++) {
		errcode_t e = ext2fs_dir_block_csum_set(w->fs, ino,
							(struct ext2_dir_entry *)(d->buf + i * BS));
		if (e)
			return end_inode(w, ino, path, fs_err(w, e, "directory", path));
	}
	return end_inode(w, ino, path, put_run(w, ino, path, 0, d->buf, d->n_blocks));
}

/* lost+found as mke2fs makes it: 16 KiB, so e2fsck can reconnect without allocating. */
static int make_lost_found(struct ext4w *w)
{
	struct ext4_dirbuf d = {0};
	int r = ext4_dir_add(w->fs, &d, w->lpf, ".", EXT2_FT_DIR);
	if (!r)
		r = ext4_dir_add(w->fs, &d, EXT2_ROOT_INO, "..", EXT2_FT_DIR);
	for (int i = 0; !r && i < 3; i++) {
		ext4_dir_close_block(w->fs, &d);
		r = ext4_dir_new_block(&d);
	}
	if (!r)
		r = write_dir(w, w->lpf, NULL, &d, 2, "lost+found");
	else
		r = rf_err_set(w->c->err, ENOMEM, "out of memory");
	free(d.buf);
	return r;
}

/* A directory: inode numbers for its children are taken now (so its blocks are written once,
 * in one go, instead of an ext2fs_link per entry rescanning them); the children's own inodes
 * are written when the walk reaches them. */
static int add_dir(struct ext4w *w, ext2_ino_t ino, ext2_ino_t parent, const struct ovl_node *n,
		   const char *path)
{
	struct ext4_dirbuf d = {0};
	uint32_t links = 2;
	bool is_root = ino == EXT2_ROOT_INO;
	int r = ext4_dir_add(w->fs, &d, ino, ".", EXT2_FT_DIR);
	if (!r)
		r = ext4_dir_add(w->fs, &d, parent, "..", EXT2_FT_DIR);
	if (!r && is_root && w->lpf && !w->view_has_lpf) {
		r = ext4_dir_add(w->fs, &d, w->lpf, "lost+found", EXT2_FT_DIR);
		links++;
	}
	for (size_t i = 0; !r && i < n->n_children; i++) {
		const struct ovl_node *ch = n->children[i];
		if (ch->ino >= w->n_map) {
			r = -EINVAL;
			break;
		}
		bool is_dir = S_ISDIR(ch->attr.mode);
		if (strlen(ch->name) > EXT2_NAME_LEN) {
			free(d.buf);
			return rf_err_set(w->c->err, ENAMETOOLONG,
					  "%s: ext4: /%s%s%s: a name longer than 255 bytes",
					  w->c->out_path, path, *path ? "/" : "", ch->name);
		}
		if (!w->map[ch->ino]) {
			ext2_ino_t ci = 0;
			if (is_root && w->view_has_lpf && ch == w->view_lpf) {
				ci = w->lpf;
			} else {
				errcode_t e =
				    ext2fs_new_inode(w->fs, ino, (int)ch->attr.mode, 0, &ci);
				if (e) {
					free(d.buf);
					return fs_err(w, e, "inode for", path);
				}
				ext2fs_inode_alloc_stats2(w->fs, ci, +1, is_dir);
			}
			w->map[ch->ino] = ci;
		}
		if (is_dir)
			links++;
		r = ext4_dir_add(w->fs, &d, w->map[ch->ino], ch->name, file_type(ch->attr.mode));
	}
	if (r) {
		free(d.buf);
		return r == -ENOMEM ? rf_err_set(w->c->err, ENOMEM, "out of memory")
				    : rf_err_set(w->c->err, EINVAL, "/%s: bad inode number", path);
	}
	/* dir_nlink: a directory with more than 65000 links counts 1, as the kernel keeps it */
	r = write_dir(w, ino, n, &d, links >= EXT2_LINK_MAX ? 1 : (uint16_t)links, path);
	free(d.buf);
	if (!r && is_root && w->lpf && !w->view_has_lpf)
		r = make_lost_found(w);
	return r;
}

int ext4w_add(struct ext4w *w, const struct ovl_node *n, const char *path)
{
	if (n->ino >= w->n_map)
		return rf_err_set(w->c->err, EINVAL, "/%s: inode number out of range", path);
	if (!n->parent)
		w->map[n->ino] = EXT2_ROOT_INO;
	ext2_ino_t ino = w->map[n->ino];
	if (!ino)
		return rf_err_set(w->c->err, EINVAL, "/%s: parent not exported yet", path);
	if (w->written[n->ino])
		return 0; /* a further name of a hard link: its entry is in the parent already */
	w->written[n->ino] = 1;
	int r;
	if (S_ISDIR(n->attr.mode))
		r = add_dir(w, ino, n->parent ? w->map[n->parent->ino] : EXT2_ROOT_INO, n, path);
	else if (S_ISREG(n->attr.mode))
		r = add_file(w, ino, n, path);
	else if (S_ISLNK(n->attr.mode))
		r = add_symlink(w, ino, n, path);
	else
		r = add_special(w, ino, n, path);
	return r ? r : add_xattrs(w, ino, n, path);
}

int ext4w_close(struct ext4w *w)
{
	errcode_t e = ext2fs_close_free(&w->fs);
	if (e)
		return fs_err(w, e, "writing the superblock and group descriptors of", "");
	return 0;
}

void ext4w_free(struct ext4w *w)
{
	if (!w)
		return;
	if (w->eh)
		ext2fs_extent_free(w->eh);
	if (w->fs)
		ext2fs_free(w->fs);
	free(w->map);
	free(w->written);
	free(w->buf);
	free(w);
}
