/* The image layer: `image FILE [partition=N]`, an ext2/3/4 filesystem in a raw or qcow2 disk
 * image, on the whole disk or in an MBR/GPT partition, read-only through libext2fs over our
 * io_manager (qcow_io.c). Owners, modes, device numbers, xattrs and hard links are the
 * image's; file content is read on demand (ext4 layout: kernel Documentation/filesystems/ext4). */
#include <errno.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layer.h"
#include "partition.h"
#include "path.h"
#include "qcow_io.h"
#include "view.h"

#define IMAGE_MAX_DEPTH 4096

struct image {
	struct rf_disk *disk;
	ext2_filsys fs;
	char *what;	      /* "FILE" or "FILE partition N", for messages */
	pthread_mutex_t lock; /* libext2fs is not thread-safe: one caller at a time */
};

struct image_ctx {
	struct ovl_layer *layer;
	struct ovl_view *view;
	struct image *img;
	struct rf_err *err;
	ext2_ino_t stack[IMAGE_MAX_DEPTH]; /* directories being walked: a cycle is corruption */
	int depth;
};

struct dent {
	char *name;
	ext2_ino_t ino;
};

struct dent_list {
	struct dent *d;
	size_t n, cap;
	int err;
};

static int collect_dent(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
			int blocksize, char *buf, void *priv)
{
	(void)dir, (void)entry, (void)offset, (void)blocksize, (void)buf;
	struct dent_list *l = priv;
	int len = ext2fs_dirent_name_len(de);
	if ((len == 1 && de->name[0] == '.') || (len == 2 && !memcmp(de->name, "..", 2)))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct dent *n = realloc(l->d, cap * sizeof(*n));
		if (!n) {
			l->err = ENOMEM;
			return DIRENT_ABORT;
		}
		l->d = n;
		l->cap = cap;
	}
	if (!(l->d[l->n].name = strndup(de->name, (size_t)len))) {
		l->err = ENOMEM;
		return DIRENT_ABORT;
	}
	l->d[l->n++].ino = de->inode;
	return 0;
}

struct xattr_list {
	struct ovl_xattr *x;
	size_t n, cap;
	int err;
};

static int collect_xattr(char *name, char *value, size_t value_len, void *priv)
{
	struct xattr_list *l = priv;
	if (!strcmp(name, "system.data")) /* inline data, the file's content, not an xattr */
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct ovl_xattr *n = realloc(l->x, cap * sizeof(*n));
		if (!n) {
			l->err = ENOMEM;
			return XATTR_ABORT;
		}
		l->x = n;
		l->cap = cap;
	}
	struct ovl_xattr *x = &l->x[l->n];
	x->name = strdup(name);
	x->value = malloc(value_len ? value_len : 1);
	x->size = value_len;
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		l->err = ENOMEM;
		return XATTR_ABORT;
	}
	memcpy(x->value, value, value_len);
	l->n++;
	return 0;
}

static void free_xattrs(struct xattr_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->x[i].name);
		free(l->x[i].value);
	}
	free(l->x);
}

static int fs_error(struct image_ctx *c, errcode_t e, const char *guest, ext2_ino_t ino)
{
	return rf_err_set(c->err, EIO, "%s: /%s (inode %u): %s", c->img->what, guest, ino,
			  error_message(e));
}

/* Read a slow symlink's target (in blocks or inline data) into buf (size > i_size). */
static errcode_t read_slow_link(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode, char *buf,
				unsigned size)
{
	ext2_file_t f;
	errcode_t e = ext2fs_file_open2(fs, ino, inode, 0, &f);
	if (e)
		return e;
	unsigned got = 0;
	e = ext2fs_file_read(f, buf, size, &got);
	ext2fs_file_close(f);
	if (!e && got != size)
		e = EXT2_ET_SHORT_READ;
	return e;
}

static int put_inode(struct image_ctx *c, const char *guest, ext2_ino_t ino, bool *is_dir)
{
	struct ext2_inode_large in;
	errcode_t e = ext2fs_read_inode_full(c->img->fs, ino, (struct ext2_inode *)&in, sizeof(in));
	if (e)
		return fs_error(c, e, guest, ino);
	char target[PATH_MAX + 1];
	struct xattr_list xl = {0};
	struct ovl_entry ent = {
	    .path = guest,
	    .attr = {.mode = in.i_mode,
		     .uid = inode_uid(in),
		     .gid = inode_gid(in),
		     .mtime_sec = (int32_t)in.i_mtime},
	};
	if (EXT2_INODE_SIZE(c->img->fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
	    in.i_extra_isize >= offsetof(struct ext2_inode_large, i_mtime_extra) +
				    sizeof(in.i_mtime_extra) - EXT2_GOOD_OLD_INODE_SIZE) {
		ent.attr.mtime_sec += (int64_t)(in.i_mtime_extra & EXT4_EPOCH_MASK) << 32;
		ent.attr.mtime_nsec = in.i_mtime_extra >> EXT4_EPOCH_BITS;
		if (ent.attr.mtime_nsec > 999999999)
			ent.attr.mtime_nsec = 0;
	}
	uint64_t size = EXT2_I_SIZE(&in);
	*is_dir = false;
	int r = 0;
	switch (in.i_mode & S_IFMT) {
	case S_IFDIR:
		*is_dir = true;
		break;
	case S_IFREG:
		ent.attr.size = size;
		ent.src.kind = size ? OVL_SRC_LAYER : OVL_SRC_NONE;
		ent.src.cookie = ino;
		break;
	case S_IFLNK:
		if (size == 0 || size > PATH_MAX)
			return rf_err_set(c->err, EINVAL,
					  "%s: /%s (inode %u): bad symlink length %llu",
					  c->img->what, guest, ino, (unsigned long long)size);
		if (ext2fs_is_fast_symlink((struct ext2_inode *)&in)) {
			if (size >= sizeof(in.i_block))
				return rf_err_set(c->err, EINVAL,
						  "%s: /%s (inode %u): bad fast symlink",
						  c->img->what, guest, ino);
			memcpy(target, in.i_block, size);
		} else if ((e = read_slow_link(c->img->fs, ino, (struct ext2_inode *)&in, target,
					       (unsigned)size))) {
			return fs_error(c, e, guest, ino);
		}
		target[size] = '\0';
		if (strlen(target) != size)
			return rf_err_set(c->err, EINVAL,
					  "%s: /%s (inode %u): NUL in symlink target", c->img->what,
					  guest, ino);
		ent.attr.size = size;
		ent.link_target = target;
		break;
	case S_IFCHR:
	case S_IFBLK:
		/* old encoding in i_block[0] (8-bit major and minor), new one in i_block[1] */
		if (in.i_block[0]) {
			ent.attr.rdev_major = (in.i_block[0] >> 8) & 0xff;
			ent.attr.rdev_minor = in.i_block[0] & 0xff;
		} else {
			uint32_t dev = in.i_block[1];
			ent.attr.rdev_major = (dev & 0xfff00) >> 8;
			ent.attr.rdev_minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
		}
		break;
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return rf_err_set(c->err, EINVAL, "%s: /%s (inode %u): unknown file type 0%o",
				  c->img->what, guest, ino, in.i_mode & S_IFMT);
	}
	if (!*is_dir && in.i_links_count > 1)
		ent.hardlink_key = ino;
	struct ext2_xattr_handle *h = NULL;
	e = ext2fs_xattrs_open(c->img->fs, ino, &h);
	if (!e)
		e = ext2fs_xattrs_read(
		    h); /* reads the whole on-disk inode, in-inode EA area included */
	if (!e)
		e = ext2fs_xattrs_iterate(h, collect_xattr, &xl);
	if (h)
		ext2fs_xattrs_close(&h);
	if (xl.err)
		r = rf_err_set(c->err, xl.err, "out of memory");
	else if (e && e != EXT2_ET_NO_INLINE_DATA)
		r = fs_error(c, e, guest, ino);
	if (!r) {
		ent.xattrs = xl.x;
		ent.n_xattrs = xl.n;
		r = ovl_view_put(c->view, c->layer, &ent, NULL, c->err);
	}
	free_xattrs(&xl);
	return r;
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

static int walk_dir(struct image_ctx *c, ext2_ino_t dir, const char *guest)
{
	for (int i = 0; i < c->depth; i++)
		if (c->stack[i] == dir)
			return rf_err_set(c->err, ELOOP, "%s: /%s: directory loop (corrupt image)",
					  c->img->what, guest);
	if (c->depth == IMAGE_MAX_DEPTH)
		return rf_err_set(c->err, ELOOP, "%s: /%s: directory tree too deep", c->img->what,
				  guest);
	c->stack[c->depth++] = dir;
	struct dent_list l = {0};
	errcode_t e = ext2fs_dir_iterate2(c->img->fs, dir, 0, NULL, collect_dent, &l);
	int r = 0;
	if (l.err)
		r = rf_err_set(c->err, l.err, "out of memory");
	else if (e)
		r = fs_error(c, e, guest, dir);
	if (!r && l.n)
		qsort(l.d, l.n, sizeof(*l.d), dent_cmp);
	for (size_t i = 0; i < l.n && !r; i++) {
		if (strchr(l.d[i].name, '/') || !l.d[i].ino ||
		    l.d[i].ino > c->img->fs->super->s_inodes_count) {
			r = rf_err_set(c->err, EINVAL,
				       "%s: /%s: bad directory entry (corrupt image)", c->img->what,
				       guest);
			break;
		}
		char *g = path_join(guest, l.d[i].name);
		bool is_dir = false;
		if (!g)
			r = rf_err_set(c->err, ENOMEM, "out of memory");
		else
			r = put_inode(c, g, l.d[i].ino, &is_dir);
		if (!r && is_dir)
			r = walk_dir(c, l.d[i].ino, g);
		free(g);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.d[i].name);
	free(l.d);
	c->depth--;
	return r;
}

static void image_free(struct image *img)
{
	if (!img)
		return;
	if (img->fs)
		ext2fs_close_free(&img->fs);
	rf_disk_close(img->disk);
	pthread_mutex_destroy(&img->lock);
	free(img->what);
	free(img);
}

static void image_init_errors(void)
{
	/* so that error_message() names libext2fs's codes ("Bad magic number in super-block") */
	initialize_ext2_error_table();
}

static int image_load(struct ovl_layer *layer, struct ovl_view *view, struct rf_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, image_init_errors);
	const char *path = layer->argv[0];
	unsigned part = 0;
	if (layer->argc > 1) {
		char *end;
		const char *a = layer->argv[1];
		unsigned long n = 0;
		if (strncmp(a, "partition=", 10) || !a[10] ||
		    ((n = strtoul(a + 10, &end, 10)), *end) || n == 0 || n > 65536)
			return rf_err_set(err, EINVAL,
					  "unknown image option '%s' (partition=N, N >= 1)", a);
		part = (unsigned)n;
	}
	struct image *img = calloc(1, sizeof(*img));
	if (!img)
		return rf_err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&img->lock, NULL);
	int r = part ? asprintf(&img->what, "%s partition %u", path, part)
		     : asprintf(&img->what, "%s", path);
	if (r < 0) {
		img->what = NULL;
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	r = rf_disk_open(path, &img->disk, err);
	if (r)
		goto fail;
	/* a regular file's stamp names its content; a block device's may change unseen */
	struct stat st;
	layer_note_source(layer, !stat(path, &st) && S_ISREG(st.st_mode) ? &st : NULL);
	uint64_t offset = 0, length = rf_disk_size(img->disk);
	if (part && (r = rf_partition_find(img->disk, path, part, &offset, &length, err)))
		goto fail;
	char name[96];
	rf_disk_io_name(img->disk, offset, length, name, sizeof(name));
	errcode_t e =
	    ext2fs_open2(name, NULL, EXT2_FLAG_64BITS, 0, 0, rf_disk_io_manager, &img->fs);
	if (e) {
		img->fs = NULL;
		r = rf_err_set(err, EINVAL, "%s: not a readable ext2/3/4 filesystem (%s)",
			       img->what, error_message(e));
		goto fail;
	}
	layer->priv = img;
	struct image_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return rf_err_set(err, ENOMEM, "out of memory");
	*c = (struct image_ctx){.layer = layer, .view = view, .img = img, .err = err};
	bool is_dir = false;
	r = put_inode(c, "", EXT2_ROOT_INO, &is_dir);
	if (!r && !is_dir)
		r = rf_err_set(err, EINVAL, "%s: the root inode is not a directory", img->what);
	if (!r)
		r = walk_dir(c, EXT2_ROOT_INO, "");
	free(c);
	return r; /* on failure, destroy() frees img */
fail:
	image_free(img);
	return r;
}

static ssize_t image_read(struct ovl_layer *layer, uint64_t cookie, void *buf, size_t len,
			  uint64_t off, struct rf_err *err)
{
	struct image *img = layer->priv;
	ext2_file_t f = NULL;
	size_t done = 0;
	pthread_mutex_lock(&img->lock);
	errcode_t e = ext2fs_file_open(img->fs, (ext2_ino_t)cookie, 0, &f);
	if (!e)
		e = ext2fs_file_llseek(f, off, EXT2_SEEK_SET, NULL);
	while (!e && done < len) {
		unsigned chunk = len - done > (1u << 30) ? 1u << 30 : (unsigned)(len - done);
		unsigned got = 0;
		e = ext2fs_file_read(f, (char *)buf + done, chunk, &got);
		if (!got)
			break;
		done += got;
	}
	if (f)
		ext2fs_file_close(f);
	pthread_mutex_unlock(&img->lock);
	if (e)
		return rf_err_set(err, EIO, "%s: inode %llu: %s", img->what,
				  (unsigned long long)cookie, error_message(e));
	return (ssize_t)done;
}

static void image_destroy(struct ovl_layer *layer)
{
	image_free(layer->priv);
	layer->priv = NULL;
}

const struct layer_ops layer_image_ops = {
    .kind = "image",
    .usage = "FILE [partition=N]",
    .min_args = 1,
    .max_args = 2,
    .path_args = 1u << 0,
    .load = image_load,
    .read = image_read,
    .destroy = image_destroy,
};
