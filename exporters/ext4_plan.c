/* Sizing of an ext4 export: how many blocks and inodes the view needs (data blocks without
 * holes, directory blocks, slow symlinks, xattr blocks, extent index blocks), and the content
 * hash that seeds the deterministic UUID. Block counts follow the on-disk layout of the kernel's
 * Documentation/filesystems/ext4/ (directory entries, extent tree, xattr block). */
#include "ext4_plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

struct plan_walk {
	struct ext4_plan *p;
	const struct exp_options *opt;
	uint8_t *seen; /* by view inode number */
	size_t n_seen;
	XXH3_state_t *h;
	struct rf_err *err;
};

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* Blocks holding data in a host file: SEEK_DATA/SEEK_HOLE when st_blocks says it is sparse. */
static uint64_t host_data_blocks(const char *path, uint64_t size, uint64_t *extents)
{
	uint64_t all = div_up(size, EXT4_PLAN_BLOCK);
	*extents = div_up(all, 32768) + 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return all;
	struct stat st;
	if (fstat(fd, &st) || (uint64_t)st.st_blocks * 512 >= size) {
		close(fd);
		return all;
	}
	uint64_t blocks = 0, runs = 0;
	off_t pos = 0;
	while ((uint64_t)pos < size) {
		off_t d = lseek(fd, pos, SEEK_DATA);
		if (d < 0)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > size)
			h = (off_t)size;
		uint64_t b0 = (uint64_t)d / EXT4_PLAN_BLOCK,
			 b1 = div_up((uint64_t)h, EXT4_PLAN_BLOCK);
		blocks += b1 - b0;
		runs += div_up(b1 - b0, 32768);
		pos = h;
	}
	close(fd);
	*extents = runs + 1;
	return blocks < all ? blocks : all;
}

static int plan_node(const struct ovl_node *n, const char *path, void *arg)
{
	struct plan_walk *w = arg;
	struct ext4_plan *p = w->p;
	const struct ovl_attr *a = &n->attr;
	int64_t mtime = exp_mtime(w->opt, n);
	if (mtime > p->max_mtime)
		p->max_mtime = mtime;
	/* an array, not a struct: no padding bytes in the hash */
	uint64_t rec[] = {a->mode,	 a->uid,  a->gid, a->rdev_major,
			  a->rdev_minor, a->size, n->ino, (uint64_t)mtime};
	XXH3_128bits_update(w->h, path, strlen(path) + 1);
	XXH3_128bits_update(w->h, &rec, sizeof(rec));
	if (n->link_target)
		XXH3_128bits_update(w->h, n->link_target, strlen(n->link_target) + 1);
	if (n->ino < w->n_seen && w->seen[n->ino])
		return 0; /* a further name of a hard-linked inode: only a directory entry */
	if (n->ino < w->n_seen)
		w->seen[n->ino] = 1;
	p->inodes++;
	if (S_ISREG(a->mode)) {
		uint64_t ext = div_up(div_up(a->size, EXT4_PLAN_BLOCK), 32768) + 1;
		uint64_t b = n->src.kind == OVL_SRC_HOST
				 ? host_data_blocks(n->src.host_path, a->size, &ext)
				 : div_up(a->size, EXT4_PLAN_BLOCK);
		p->data_blocks += b;
		if (ext > 4) /* past the four extents held in the inode: index/leaf blocks */
			p->meta_blocks += div_up(ext, 340) + 1;
	} else if (S_ISDIR(a->mode)) {
		uint64_t bytes = 24; /* "." and ".." */
		for (size_t i = 0; i < n->n_children; i++)
			bytes += 8 + ((strlen(n->children[i]->name) + 3) & ~3ULL);
		/* 12 bytes of each block go to the checksum tail; blocks are filled in order */
		uint64_t b = div_up(bytes, EXT4_PLAN_BLOCK - 12);
		p->meta_blocks += b + (b > 4 ? div_up(b, 340) + 1 : 0);
	} else if (S_ISLNK(a->mode)) {
		if (a->size >= 60)
			p->meta_blocks++;
	}
	uint64_t xattr_bytes = 0;
	for (size_t i = 0; i < n->n_xattrs; i++)
		xattr_bytes += 16 + ((strlen(n->xattrs[i].name) + 3) & ~3ULL) +
			       ((n->xattrs[i].size + 3) & ~3ULL);
	/* 256-byte inodes leave about 92 bytes for in-inode xattrs after the 32 extra bytes */
	if (xattr_bytes > 92)
		p->meta_blocks++;
	return 0;
}

int ext4_plan_view(const struct ovl_view *v, const struct exp_options *opt, struct ext4_plan *out,
		   struct rf_err *err)
{
	struct ext4_plan p = {0};
	struct plan_walk w = {.p = &p, .opt = opt, .err = err};
	w.n_seen = ovl_view_count(v) + 2;
	w.seen = calloc(w.n_seen, 1);
	w.h = XXH3_createState();
	if (!w.seen || !w.h) {
		free(w.seen);
		XXH3_freeState(w.h);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	XXH3_128bits_reset(w.h);
	int r = ovl_view_walk(v, plan_node, &w);
	if (!r) {
		XXH128_hash_t hv = XXH3_128bits_digest(w.h);
		XXH128_canonical_t can;
		XXH128_canonicalFromHash(&can, hv);
		memcpy(p.content_hash, can.digest, 16);
		p.inodes += 16;	    /* lost+found and the reserved inodes 1..10 and 11 */
		p.meta_blocks += 4; /* lost+found: 16 KiB as mke2fs makes it */
		*out = p;
	}
	free(w.seen);
	XXH3_freeState(w.h);
	return r;
}
