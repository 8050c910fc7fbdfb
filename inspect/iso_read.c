/* du's ISO 9660 reader: the directory tree as libisofs imports it (ECMA-119 with Rock Ridge,
 * RRIP 1.12: names, PX modes/owners, PN device numbers, SL targets and the CL/PL/RE relocation
 * of directories deeper than 8 levels; else Joliet), each file's data extents read from the
 * image for the bytes it costs there and, for diff, its XXH3-64 digest. */
#include "readers.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* struct burn_source is declared by libisofs.h only for programs without libburn */
#define LIBISOFS_WITHOUT_LIBBURN yes
#include <libisofs/libisofs.h>

#include "isofs.h"

#define ISO_BLOCK 2048u
#define DIGEST_CHUNK (1u << 18)
/* RRIP relocation lets a tree be arbitrarily deep; a crafted one must not exhaust the stack */
#define MAX_DEPTH 1024
#define META_NAME "(ISO 9660 metadata and padding)"

/* A file's data already seen at the same first block: a hard link (Rock Ridge names sharing
 * one extent), counted and hashed at its first name. */
struct extent_seen {
	uint64_t block_plus1; /* 0: empty slot */
	uint64_t digest;
	bool has_digest;
};

struct iso_ctx {
	const char *name; /* the image, for messages */
	int fd;
	uint64_t image_bytes;
	uint64_t volume_bytes; /* the volume space size the primary volume descriptor records */
	uint64_t short_block;  /* read_block past the end of the file: that block + 1 */
	uint64_t blocks_read;  /* by libisofs's import, through src_read_block */
	uint64_t rereads;      /* of blocks it had read before */
	bool is_looping;       /* rereads past any sane count: the import was stopped */
	bool is_importing;     /* else reads are zisofs data, and counted is the charged blocks */
	struct du_tree *t;
	bool digest;
	XXH3_state_t *xxh;
	uint8_t *buf;	  /* DIGEST_CHUNK bytes */
	uint8_t *counted; /* one bit per image block whose bytes an entry already costs */
	uint64_t extent_bytes;
	struct extent_seen *seen;
	size_t seen_cap, seen_used;
	char *path; /* guest path of the node being read, no leading slash */
	size_t path_len, path_cap;
	struct rf_err *err;
};

/* Why a block lies past the end of the file: the file is shorter than the volume it holds, or
 * a damaged record points outside it. */
static const char *damage(const struct iso_ctx *c)
{
	return c->volume_bytes > c->image_bytes ? "truncated image" : "corrupt image";
}

/* IsoDataSource over our descriptor: pread, and a short read names the block it missed. */
static int src_open(IsoDataSource *src)
{
	(void)src;
	return ISO_SUCCESS;
}

static int src_close(IsoDataSource *src)
{
	(void)src;
	return ISO_SUCCESS;
}

static int src_read_block(IsoDataSource *src, uint32_t lba, uint8_t *buffer)
{
	struct iso_ctx *c = src->data;
	/* libisofs's import follows directory records without loop detection: a record pointing
	 * back at an ancestor recurses until the stack overflows. A sound image rereads about as
	 * many blocks as it reads once (each directory's first block: its listing, then its "."
	 * record); a loop rereads the same few forever, so stop it. (counted is free for this
	 * until the extents are charged after the import.) */
	if (c->is_importing) {
		c->blocks_read++;
		if ((uint64_t)lba < c->image_bytes / ISO_BLOCK) {
			if (c->counted[lba / 8] & (1u << (lba % 8)))
				c->rereads++;
			c->counted[lba / 8] |= (uint8_t)(1u << (lba % 8));
		}
		if (c->rereads > 4 * (c->blocks_read - c->rereads) + 1024) {
			c->is_looping = true;
			return ISO_DATA_SOURCE_FATAL;
		}
	}
	ssize_t got = pread(c->fd, buffer, ISO_BLOCK, (off_t)lba * ISO_BLOCK);
	if (got == (ssize_t)ISO_BLOCK)
		return ISO_SUCCESS;
	if (got >= 0 && !c->short_block)
		c->short_block = (uint64_t)lba + 1;
	return ISO_DATA_SOURCE_MISHAP;
}

static void src_free(IsoDataSource *src)
{
	(void)src;
}

static int path_push(struct iso_ctx *c, const char *name, size_t *saved)
{
	size_t len = strlen(name), need = c->path_len + 1 + len + 1;
	if (need > c->path_cap) {
		size_t cap = c->path_cap ? c->path_cap : 256;
		while (cap < need)
			cap *= 2;
		char *p = realloc(c->path, cap);
		if (!p)
			return rf_err_set(c->err, ENOMEM, "out of memory");
		c->path = p;
		c->path_cap = cap;
	}
	*saved = c->path_len;
	if (c->path_len)
		c->path[c->path_len++] = '/';
	memcpy(c->path + c->path_len, name, len + 1);
	c->path_len += len;
	return 0;
}

static size_t extent_slot(uint64_t block_plus1, size_t cap)
{
	return (size_t)((block_plus1 * 0x9e3779b97f4a7c15u) >> 32) & (cap - 1);
}

/* The first name at this block: *first true and *slot where its digest goes. */
static int extent_lookup(struct iso_ctx *c, uint32_t block, bool *first, struct extent_seen **slot)
{
	if ((c->seen_used + 1) * 2 > c->seen_cap) {
		size_t cap = c->seen_cap ? c->seen_cap * 2 : 1024;
		struct extent_seen *n = calloc(cap, sizeof(*n));
		if (!n)
			return rf_err_set(c->err, ENOMEM, "out of memory");
		for (size_t i = 0; i < c->seen_cap; i++) {
			if (!c->seen[i].block_plus1)
				continue;
			size_t k = extent_slot(c->seen[i].block_plus1, cap);
			while (n[k].block_plus1)
				k = (k + 1) & (cap - 1);
			n[k] = c->seen[i];
		}
		free(c->seen);
		c->seen = n;
		c->seen_cap = cap;
	}
	uint64_t key = (uint64_t)block + 1;
	size_t k = extent_slot(key, c->seen_cap);
	while (c->seen[k].block_plus1 && c->seen[k].block_plus1 != key)
		k = (k + 1) & (c->seen_cap - 1);
	*first = !c->seen[k].block_plus1;
	if (*first) {
		c->seen[k].block_plus1 = key;
		c->seen_used++;
	}
	*slot = &c->seen[k];
	return 0;
}

/* Bytes of the image [block, block + size rounded up to blocks) not yet charged to an entry:
 * each block is charged once, so the entries and the metadata line add up to the file. */
static uint64_t charge(struct iso_ctx *c, uint32_t block, uint64_t size)
{
	uint64_t cost = 0;
	uint64_t end = (uint64_t)block + (size + ISO_BLOCK - 1) / ISO_BLOCK;
	for (uint64_t b = block; b < end; b++) {
		if (c->counted[b / 8] & (1u << (b % 8)))
			continue;
		c->counted[b / 8] |= (uint8_t)(1u << (b % 8));
		uint64_t off = b * ISO_BLOCK;
		cost += c->image_bytes - off < ISO_BLOCK ? c->image_bytes - off : ISO_BLOCK;
	}
	c->extent_bytes += cost;
	return cost;
}

/* Every extent lies inside the image file. */
static int check_extents(struct iso_ctx *c, const struct iso_file_section *s, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t off = (uint64_t)s[i].block * ISO_BLOCK;
		if (s[i].size && off + s[i].size > c->image_bytes)
			return rf_err_set(
			    c->err, EIO,
			    "%s: /%s: data at byte %" PRIu64 " (%" PRIu32
			    " bytes) past the end of the image (%" PRIu64 " bytes): %s",
			    c->name, c->path, off, s[i].size, c->image_bytes, damage(c));
	}
	return 0;
}

/* Charge extents (checked) and hash their bytes when asked. */
static int read_extents(struct iso_ctx *c, const struct iso_file_section *s, int n, bool hash,
			uint64_t *cost, uint64_t *digest)
{
	*cost = 0;
	for (int i = 0; i < n; i++)
		if (s[i].size)
			*cost += charge(c, s[i].block, s[i].size);
	if (!hash)
		return 0;
	XXH3_64bits_reset(c->xxh);
	for (int i = 0; i < n; i++) {
		for (uint64_t done = 0; done < s[i].size;) {
			size_t want = s[i].size - done < DIGEST_CHUNK ? (size_t)(s[i].size - done)
								      : DIGEST_CHUNK;
			ssize_t got = pread(c->fd, c->buf, want,
					    (off_t)((uint64_t)s[i].block * ISO_BLOCK + done));
			if (got < 0)
				return rf_err_errno(c->err, errno, "%s: /%s", c->name, c->path);
			if (!got) /* the file shrank while we read it */
				return rf_err_set(c->err, EIO, "%s: /%s: truncated image", c->name,
						  c->path);
			XXH3_64bits_update(c->xxh, c->buf, (size_t)got);
			done += (uint64_t)got;
		}
	}
	*digest = XXH3_64bits_digest(c->xxh);
	return 0;
}

static int add(struct iso_ctx *c, enum du_type type, uint64_t size, uint64_t cost,
	       const struct du_attr *a)
{
	if (du_tree_add_attr(c->t, NULL, NULL, c->path, type, size, cost, a))
		return rf_err_set(c->err, ENOMEM, "out of memory");
	return 0;
}

/* A zisofs file (Rock Ridge ZF): its extents hold the compressed data, and libisofs's import
 * reads it through a decompression filter ("osiz") that yields the content. */
static int zisofs_digest(struct iso_ctx *c, IsoFile *f, uint64_t *digest)
{
	int ir;
	IsoStream *st = iso_file_get_stream(f);
	if ((ir = iso_stream_open(st)) < 0)
		return rf_err_set(c->err, EIO, "%s: /%s: zisofs data: %s", c->name, c->path,
				  iso_error_to_msg(ir));
	XXH3_64bits_reset(c->xxh);
	while ((ir = iso_stream_read(st, c->buf, DIGEST_CHUNK)) > 0)
		XXH3_64bits_update(c->xxh, c->buf, (size_t)ir);
	iso_stream_close(st);
	if (ir < 0)
		return rf_err_set(c->err, EIO, "%s: /%s: zisofs data: %s", c->name, c->path,
				  iso_error_to_msg(ir));
	*digest = XXH3_64bits_digest(c->xxh);
	return 0;
}

static int read_file(struct iso_ctx *c, IsoFile *f, struct du_attr *a)
{
	struct iso_file_section *s = NULL;
	int n = 0;
	int ir = iso_file_get_old_image_sections(f, &n, &s, 0);
	if (ir < 0)
		return rf_err_set(c->err, EINVAL, "%s: /%s: %s", c->name, c->path,
				  iso_error_to_msg(ir));
	uint64_t size = (uint64_t)iso_file_get_size(f), cost = 0;
	bool first = true;
	struct extent_seen *slot = NULL;
	if (ir != 1)
		n = 0;
	int r = check_extents(c, s, n);
	if (!r && n > 0 && size)
		r = extent_lookup(c, s[0].block, &first, &slot);
	if (!r && first) {
		uint64_t stored = 0;
		for (int i = 0; i < n; i++)
			stored += s[i].size;
		bool is_zisofs = stored != size;
		r = read_extents(c, s, n, c->digest && !is_zisofs, &cost, &a->digest);
		if (!r && c->digest && is_zisofs)
			r = zisofs_digest(c, f, &a->digest);
		a->has_digest = c->digest;
		if (!r && slot) {
			slot->digest = a->digest;
			slot->has_digest = a->has_digest;
		}
	} else if (!r) {
		/* a hard link: its data is counted (and hashed) at the first name */
		a->digest = slot->digest;
		a->has_digest = slot->has_digest;
		size = 0;
	}
	free(s);
	return r ? r : add(c, DU_FILE, size, cost, a);
}

/* The El Torito boot catalog: no stream, its bytes come from iso_image_get_bootcat. */
static int read_bootcat(struct iso_ctx *c, IsoImage *img, struct du_attr *a)
{
	IsoBoot *cat = NULL;
	uint32_t lba = 0;
	char *content = NULL;
	off_t size = 0;
	int ir = iso_image_get_bootcat(img, &cat, &lba, &content, &size);
	if (ir < 0)
		return rf_err_set(c->err, EINVAL, "%s: /%s: %s", c->name, c->path,
				  iso_error_to_msg(ir));
	a->mode = S_IFREG | (a->mode & 07777);
	uint64_t cost = 0;
	int r = 0;
	if (ir == 1 && size > 0) {
		struct iso_file_section s = {lba, (uint32_t)size};
		r = check_extents(c, &s, 1);
		if (!r)
			r = read_extents(c, &s, 1, false, &cost, &a->digest);
		if (!r && c->digest && content) {
			a->digest = XXH3_64bits(content, (size_t)size);
			a->has_digest = true;
		}
	}
	free(content);
	return r ? r : add(c, DU_FILE, ir == 1 && size > 0 ? (uint64_t)size : 0, cost, a);
}

static int read_dir(struct iso_ctx *c, IsoImage *img, IsoDir *dir, int depth);

static int read_node(struct iso_ctx *c, IsoImage *img, IsoNode *node, int depth)
{
	struct du_attr a = {.mode = iso_node_get_mode(node),
			    .uid = iso_node_get_uid(node),
			    .gid = iso_node_get_gid(node)};
	switch (iso_node_get_type(node)) {
	case LIBISO_DIR: {
		int r = add(c, DU_DIR, 0, 0, &a);
		return r ? r : read_dir(c, img, (IsoDir *)node, depth + 1);
	}
	case LIBISO_FILE:
		return read_file(c, (IsoFile *)node, &a);
	case LIBISO_SYMLINK: {
		const char *target = iso_symlink_get_dest((IsoSymlink *)node);
		size_t len = target ? strlen(target) : 0;
		if (c->digest && target) {
			a.digest = XXH3_64bits(target, len);
			a.has_digest = true;
		}
		/* as a view or newc counts a symlink: its target */
		return add(c, DU_FILE, len, 0, &a);
	}
	case LIBISO_SPECIAL:
		a.rdev = iso_special_get_dev((IsoSpecial *)node);
		return add(c, DU_FILE, 0, 0, &a);
	case LIBISO_BOOT:
		return read_bootcat(c, img, &a);
	}
	return rf_err_set(c->err, EINVAL, "%s: /%s: unknown node type", c->name, c->path);
}

static int read_dir(struct iso_ctx *c, IsoImage *img, IsoDir *dir, int depth)
{
	if (depth > MAX_DEPTH)
		return rf_err_set(c->err, ELOOP,
				  "%s: /%s: directories nested deeper than %d levels", c->name,
				  c->path, MAX_DEPTH);
	IsoDirIter *it = NULL;
	int ir = iso_dir_get_children(dir, &it);
	if (ir < 0)
		return rf_err_set(c->err, ENOMEM, "%s: /%s: %s", c->name, c->path,
				  iso_error_to_msg(ir));
	IsoNode *node;
	int r = 0;
	while (!r && iso_dir_iter_next(it, &node) == 1) {
		const char *name = iso_node_get_name(node);
		/* a crafted Rock Ridge NM must not make a path of "..", "." or "a/b" */
		if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") ||
		    !strcmp(name, "..")) {
			r = rf_err_set(c->err, EINVAL, "%s: /%s: invalid file name '%s'", c->name,
				       c->path, name ? name : "");
			break;
		}
		size_t saved;
		if ((r = path_push(c, name, &saved)))
			break;
		r = read_node(c, img, node, depth);
		c->path_len = saved;
		c->path[saved] = '\0';
	}
	iso_dir_iter_free(it);
	return r;
}

/* The reason iso_image_import gave or, a block our data source could not read or a loop it
 * stopped (libisofs may go on without that directory and report success). */
static int import_error(struct iso_ctx *c, int ir)
{
	if (c->is_looping)
		return rf_err_set(c->err, ELOOP,
				  "%s: corrupt image: directory records loop (%" PRIu64
				  " blocks read, %" PRIu64 " of them again)",
				  c->name, c->blocks_read, c->rereads);
	if (c->short_block)
		return rf_err_set(c->err, EIO,
				  "%s: block %" PRIu64 " is past the end of the image (%" PRIu64
				  " bytes): %s",
				  c->name, c->short_block - 1, c->image_bytes, damage(c));
	return rf_err_set(c->err, EINVAL, "%s: %s", c->name, iso_error_to_msg(ir));
}

int insp_read_iso(const char *path, struct du_tree *t, const struct insp_opts *o,
		  struct rf_err *err)
{
	struct iso_ctx c = {.name = path, .fd = -1, .t = t, .digest = o->digest, .err = err};
	IsoDataSource src = {.version = 0,
			     .refcount = 1,
			     .open = src_open,
			     .close = src_close,
			     .read_block = src_read_block,
			     .free_data = src_free,
			     .data = &c};
	IsoReadOpts *ro = NULL;
	IsoImage *img = NULL;
	int r = 0, ir = rf_isofs_init();
	if (ir < 0)
		return rf_err_set(err, ENOMEM, "libisofs: %s", iso_error_to_msg(ir));
	if ((c.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rf_err_errno(err, errno, "%s", path);
	struct stat st;
	if (fstat(c.fd, &st)) {
		r = rf_err_errno(err, errno, "%s", path);
		goto out;
	}
	c.image_bytes = (uint64_t)st.st_size;
	/* ECMA-119 8.4.8: the volume space size, both-endian at byte 80 of the descriptor */
	uint8_t vs[4];
	if (pread(c.fd, vs, 4, 16 * ISO_BLOCK + 80) == 4)
		c.volume_bytes = ((uint64_t)vs[0] | (uint64_t)vs[1] << 8 | (uint64_t)vs[2] << 16 |
				  (uint64_t)vs[3] << 24) *
				 ISO_BLOCK;
	if (!(c.counted = calloc(c.image_bytes / ISO_BLOCK / 8 + 1, 1)) ||
	    (o->digest && (!(c.xxh = XXH3_createState()) || !(c.buf = malloc(DIGEST_CHUNK)))) ||
	    path_push(&c, "", &(size_t){0})) {
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* Rock Ridge first (libisofs's default), Joliet when there is none; no ISO 9660:1999
	 * tree; the PX inode numbers are kept, and MD5 tags are not checked (du reads, it does
	 * not verify) */
	if ((ir = iso_read_opts_new(&ro, 0)) < 0 ||
	    (ir = iso_read_opts_set_no_iso1999(ro, 1)) < 0 ||
	    (ir = iso_read_opts_set_no_md5(ro, 1)) < 0 ||
	    (ir = iso_read_opts_set_no_aaip(ro, 1)) < 0 ||
	    (ir = iso_read_opts_set_input_charset(ro, "UTF-8")) < 0 ||
	    (ir = iso_image_new("du", &img)) < 0) {
		r = rf_err_set(err, ENOMEM, "%s: libisofs: %s", path, iso_error_to_msg(ir));
		goto out;
	}
	c.is_importing = true;
	ir = iso_image_import(img, &src, ro, NULL);
	c.is_importing = false;
	if (ir < 0 || c.is_looping || c.short_block) {
		r = import_error(&c, ir);
		goto out;
	}
	memset(c.counted, 0, c.image_bytes / ISO_BLOCK / 8 + 1);
	r = read_dir(&c, img, iso_image_get_root(img), 0);
	/* volume descriptors, path tables, directory records, the system area, tail padding,
	 * boot images without a name: the bytes no entry costs */
	if (!r && du_tree_add(t, NULL, NULL, META_NAME, DU_META, c.image_bytes - c.extent_bytes,
			      c.image_bytes - c.extent_bytes))
		r = rf_err_set(err, ENOMEM, "out of memory");
	if (!r) {
		t->has_compressed = true;
		t->file_bytes = c.image_bytes;
	}
out:
	/* the image holds references to src until it is freed: before src leaves scope */
	if (img)
		iso_image_unref(img);
	if (ro)
		iso_read_opts_free(ro);
	if (c.fd >= 0)
		close(c.fd);
	free(c.counted);
	free(c.seen);
	free(c.path);
	free(c.buf);
	XXH3_freeState(c.xxh);
	return r;
}
