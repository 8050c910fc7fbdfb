/* The tcz layer: `tcz DIR PKG... [kernel=VERSION]`, TinyCore packages (squashfs images read
 * with libsquashfs, never mounted) and their .tcz.dep closure, presented as tce-load's copy2fs
 * leaves them: every package's files copied onto / in dependency order (`cp -ai` answering no,
 * so the first package to bring a path keeps it), then /usr/local/tce.installed/NAME. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <sqfs/xattr.h>
#include <sqfs/xattr_reader.h>

#include "layer.h"
#include "path.h"
#include "tcz.h"
#include "view.h"

#define TCE_INSTALLED "usr/local/tce.installed"
/* tce-load -b appends startup scripts here; tce-setup runs them once booting is done */
#define TCE_SETUP_LIST "tmp/setup.lst"
#define SQFS_NO_XATTR 0xFFFFFFFFu
/* sqfs_data_reader_read takes a 32-bit size */
#define TCZ_READ_CHUNK (1u << 30)
/* on-disk size of a fragment table entry and of an xattr id table entry */
#define SQFS_TABLE_ENTRY 16u

struct tcz_pkg {
	char *name; /* without ".tcz" */
	char *path; /* DIR/NAME.tcz */
	sqfs_file_t *file;
	sqfs_super_t super;
	sqfs_compressor_t *cmp;
	sqfs_data_reader_t *data;
	sqfs_tree_node_t *root; /* keeps the inodes that files[] point into */
	/* the data reader caches blocks and the file has one position: one reader at a time */
	pthread_mutex_t lock;
	bool has_lock;
};

struct tcz_file {
	size_t pkg;
	const sqfs_inode_generic_t *inode; /* borrowed from the package's tree */
	char *path;			   /* guest path, for messages */
};

struct tcz_priv {
	struct tcz_pkg *pkgs;
	size_t n_pkgs;
	struct tcz_file *files; /* the cookie of a regular file is its index here */
	size_t n_files, cap_files;
	char *setup_list; /* content of /tmp/setup.lst, NULL when no package has a script */
	size_t setup_len;
};

struct load_ctx {
	struct ovl_layer *layer;
	struct ovl_view *view;
	struct tcz_priv *priv;
	size_t pkg;
	sqfs_xattr_reader_t *xr;
	struct rf_err *err;
};

static const char *sqfs_reason(int e)
{
	switch (e) {
	case SQFS_ERROR_ALLOC:
		return "out of memory";
	case SQFS_ERROR_IO:
		return "read error";
	case SQFS_ERROR_COMPRESSOR:
		return "corrupt compressed block";
	case SFQS_ERROR_SUPER_MAGIC:
		return "not a squashfs image";
	case SFQS_ERROR_SUPER_VERSION:
		return "unsupported squashfs version";
	case SQFS_ERROR_SUPER_BLOCK_SIZE:
		return "bad block size in the super block";
	case SQFS_ERROR_UNSUPPORTED:
		return "unsupported compressor or feature";
	case SQFS_ERROR_OUT_OF_BOUNDS:
		return "truncated or corrupt (offset out of bounds)";
	case SQFS_ERROR_LINK_LOOP:
		return "directory loop";
	default:
		return "corrupt squashfs image";
	}
}

static int sqfs_errno(int e)
{
	return e == SQFS_ERROR_ALLOC ? ENOMEM : e == SQFS_ERROR_IO ? EIO : EINVAL;
}

static void pkg_close(struct tcz_pkg *p)
{
	if (p->root)
		sqfs_dir_tree_destroy(p->root);
	if (p->data)
		sqfs_destroy(p->data);
	if (p->cmp)
		sqfs_destroy(p->cmp);
	if (p->file)
		sqfs_destroy(p->file);
	if (p->has_lock)
		pthread_mutex_destroy(&p->lock);
	free(p->name);
	free(p->path);
}

/* Open the image, read its tables and its whole directory tree. On failure the caller
 * closes p. *xr (when the image has xattrs) is owned by the caller. */
static int pkg_open(struct tcz_pkg *p, sqfs_xattr_reader_t **xr, struct rf_err *err)
{
	sqfs_id_table_t *ids = NULL;
	sqfs_dir_reader_t *dr = NULL;
	int r, e;
	errno = 0;
	p->file = sqfs_open_file(p->path, SQFS_FILE_OPEN_READ_ONLY);
	if (!p->file)
		return rf_err_errno(err, errno ? errno : EIO, "%s", p->path);
	if ((e = sqfs_super_read(&p->super, p->file)))
		goto sqfs_fail;
	uint64_t size = p->file->get_size(p->file);
	if (p->super.bytes_used > size)
		return rf_err_set(err, EINVAL,
				  "%s: truncated squashfs image (%llu bytes, the super block says "
				  "%llu)",
				  p->path, (unsigned long long)size,
				  (unsigned long long)p->super.bytes_used);
	/* libsquashfs sizes its tables by the counts it reads: bound them by the image first, so a
	 * corrupt count is an error rather than a multi-gigabyte allocation */
	if ((uint64_t)p->super.fragment_entry_count * SQFS_TABLE_ENTRY > p->super.bytes_used)
		return rf_err_set(err, EINVAL, "%s: corrupt super block (%u fragments)", p->path,
				  p->super.fragment_entry_count);
	if (!(p->super.flags & SQFS_FLAG_NO_XATTRS) && p->super.xattr_id_table_start != ~0ull) {
		uint8_t hdr[16];
		if (p->super.bytes_used < sizeof(hdr) ||
		    p->super.xattr_id_table_start > p->super.bytes_used - sizeof(hdr) ||
		    p->file->read_at(p->file, p->super.xattr_id_table_start, hdr, sizeof(hdr)))
			return rf_err_set(err, EINVAL, "%s: corrupt xattr table location", p->path);
		uint32_t ids = (uint32_t)hdr[8] | (uint32_t)hdr[9] << 8 | (uint32_t)hdr[10] << 16 |
			       (uint32_t)hdr[11] << 24;
		if ((uint64_t)ids * SQFS_TABLE_ENTRY > p->super.bytes_used)
			return rf_err_set(err, EINVAL, "%s: corrupt xattr table (%u entries)",
					  p->path, ids);
	}
	sqfs_compressor_config_t cfg;
	if ((e = sqfs_compressor_config_init(&cfg, p->super.compression_id, p->super.block_size,
					     SQFS_COMP_FLAG_UNCOMPRESS)) ||
	    (e = sqfs_compressor_create(&cfg, &p->cmp)))
		goto sqfs_fail;
	if ((p->super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) &&
	    (e = p->cmp->read_options(p->cmp, p->file)) < 0)
		goto sqfs_fail;
	ids = sqfs_id_table_create(0);
	dr = sqfs_dir_reader_create(&p->super, p->cmp, p->file, 0);
	p->data = sqfs_data_reader_create(p->file, p->super.block_size, p->cmp, 0);
	if (!ids || !dr || !p->data) {
		e = SQFS_ERROR_ALLOC;
		goto sqfs_fail;
	}
	if ((e = sqfs_id_table_read(ids, p->file, &p->super, p->cmp)) ||
	    (e = sqfs_data_reader_load_fragment_table(p->data, &p->super)) ||
	    (e = sqfs_dir_reader_get_full_hierarchy(dr, ids, NULL, 0, &p->root)))
		goto sqfs_fail;
	if (!(p->super.flags & SQFS_FLAG_NO_XATTRS) && p->super.xattr_id_table_start != ~0ull) {
		*xr = sqfs_xattr_reader_create(0);
		if (!*xr) {
			e = SQFS_ERROR_ALLOC;
			goto sqfs_fail;
		}
		if ((e = sqfs_xattr_reader_load(*xr, &p->super, p->file, p->cmp)))
			goto sqfs_fail;
	}
	if (pthread_mutex_init(&p->lock, NULL))
		goto nomem;
	p->has_lock = true;
	r = 0;
	goto out;
nomem:
	e = SQFS_ERROR_ALLOC;
sqfs_fail:
	r = rf_err_set(err, sqfs_errno(e), "%s: %s", p->path, sqfs_reason(e));
out:
	if (ids)
		sqfs_destroy(ids);
	if (dr)
		sqfs_destroy(dr);
	return r;
}

static void free_xattrs(struct ovl_xattr *xs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(xs[i].name);
		free(xs[i].value);
	}
	free(xs);
}

static int read_xattrs(struct load_ctx *c, const sqfs_inode_generic_t *in, const char *path,
		       struct ovl_xattr **out, size_t *n_out)
{
	sqfs_u32 idx = SQFS_NO_XATTR;
	*out = NULL;
	*n_out = 0;
	if (!c->xr || sqfs_inode_get_xattr_index(in, &idx) || idx == SQFS_NO_XATTR)
		return 0;
	const char *img = c->priv->pkgs[c->pkg].path;
	sqfs_xattr_id_t desc;
	int e = sqfs_xattr_reader_get_desc(c->xr, idx, &desc);
	if (!e)
		e = sqfs_xattr_reader_seek_kv(c->xr, &desc);
	if (e)
		return rf_err_set(c->err, sqfs_errno(e), "%s: /%s: xattrs: %s", img, path,
				  sqfs_reason(e));
	struct ovl_xattr *xs = calloc(desc.count ? desc.count : 1, sizeof(*xs));
	if (!xs)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	size_t n = 0;
	int r = 0;
	for (sqfs_u32 i = 0; i < desc.count && !r; i++) {
		sqfs_xattr_entry_t *key = NULL;
		sqfs_xattr_value_t *val = NULL;
		if ((e = sqfs_xattr_reader_read_key(c->xr, &key)) ||
		    (e = sqfs_xattr_reader_read_value(c->xr, key, &val))) {
			r = rf_err_set(c->err, sqfs_errno(e), "%s: /%s: xattrs: %s", img, path,
				       sqfs_reason(e));
		} else {
			const char *prefix =
			    sqfs_get_xattr_prefix(key->type & SQFS_XATTR_PREFIX_MASK);
			/* libsquashfs 1.x hands back the key with its namespace prefix already
			 * prepended and NUL-terminated; key->size counts the name alone */
			const char *kname = (const char *)key->key;
			bool full = prefix && !strncmp(kname, prefix, strlen(prefix));
			if (!prefix) {
				r = rf_err_set(c->err, EINVAL,
					       "%s: /%s: unknown xattr namespace %u", img, path,
					       key->type & SQFS_XATTR_PREFIX_MASK);
			} else if (asprintf(&xs[n].name, "%s%s", full ? "" : prefix, kname) < 0 ||
				   !(xs[n].value = malloc(val->size ? val->size : 1))) {
				r = rf_err_set(c->err, ENOMEM, "out of memory");
			} else {
				memcpy(xs[n].value, val->value, val->size);
				xs[n].size = val->size;
				n++;
			}
		}
		sqfs_free(key);
		sqfs_free(val);
	}
	if (r) {
		free_xattrs(xs, n);
		return r;
	}
	*out = xs;
	*n_out = n;
	return 0;
}

static int add_file(struct load_ctx *c, const sqfs_inode_generic_t *in, const char *path,
		    uint64_t *cookie)
{
	struct tcz_priv *p = c->priv;
	if (p->n_files == p->cap_files) {
		size_t cap = p->cap_files ? p->cap_files * 2 : 256;
		struct tcz_file *nf = realloc(p->files, cap * sizeof(*nf));
		if (!nf)
			return rf_err_set(c->err, ENOMEM, "out of memory");
		p->files = nf;
		p->cap_files = cap;
	}
	char *dup = strdup(path);
	if (!dup)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	p->files[p->n_files] = (struct tcz_file){.pkg = c->pkg, .inode = in, .path = dup};
	*cookie = p->n_files++;
	return 0;
}

/* Fill e from a squashfs inode. *target is malloc'd for symlinks (caller frees). */
static int inode_entry(struct load_ctx *c, const sqfs_tree_node_t *n, const char *path,
		       struct ovl_entry *e, char **target)
{
	const sqfs_inode_generic_t *in = n->inode;
	const char *img = c->priv->pkgs[c->pkg].path;
	uint32_t type, devno = 0;
	*target = NULL;
	memset(e, 0, sizeof(*e));
	e->path = path;
	e->attr.uid = n->uid;
	e->attr.gid = n->gid;
	e->attr.mtime_sec = in->base.mod_time;
	switch (in->base.type) {
	case SQFS_INODE_DIR:
	case SQFS_INODE_EXT_DIR:
		type = S_IFDIR;
		break;
	case SQFS_INODE_FILE:
	case SQFS_INODE_EXT_FILE: {
		type = S_IFREG;
		sqfs_u64 size = 0;
		sqfs_inode_get_file_size(in, &size);
		e->attr.size = size;
		if (size) {
			e->src.kind = OVL_SRC_LAYER;
			int r = add_file(c, in, path, &e->src.cookie);
			if (r)
				return r;
		}
		/* hard links share one inode number inside an image */
		if (in->base.type == SQFS_INODE_EXT_FILE && in->data.file_ext.nlink > 1)
			e->hardlink_key = ((uint64_t)(c->pkg + 1) << 32) | in->base.inode_number;
		break;
	}
	case SQFS_INODE_SLINK:
	case SQFS_INODE_EXT_SLINK: {
		type = S_IFLNK;
		sqfs_u32 len = in->base.type == SQFS_INODE_SLINK ? in->data.slink.target_size
								 : in->data.slink_ext.target_size;
		if (!(*target = malloc((size_t)len + 1)))
			return rf_err_set(c->err, ENOMEM, "out of memory");
		memcpy(*target, in->extra, len);
		(*target)[len] = '\0';
		if (strlen(*target) != len || !len)
			return rf_err_set(c->err, EINVAL, "%s: /%s: bad symlink target", img, path);
		e->link_target = *target;
		e->attr.size = len;
		break;
	}
	case SQFS_INODE_BDEV:
	case SQFS_INODE_CDEV:
		type = in->base.type == SQFS_INODE_BDEV ? S_IFBLK : S_IFCHR;
		devno = in->data.dev.devno;
		break;
	case SQFS_INODE_EXT_BDEV:
	case SQFS_INODE_EXT_CDEV:
		type = in->base.type == SQFS_INODE_EXT_BDEV ? S_IFBLK : S_IFCHR;
		devno = in->data.dev_ext.devno;
		break;
	case SQFS_INODE_FIFO:
	case SQFS_INODE_EXT_FIFO:
		type = S_IFIFO;
		break;
	case SQFS_INODE_SOCKET:
	case SQFS_INODE_EXT_SOCKET:
		type = S_IFSOCK;
		break;
	default:
		return rf_err_set(c->err, EINVAL, "%s: /%s: unknown inode type %u", img, path,
				  in->base.type);
	}
	e->attr.mode = type | (in->base.mode & 07777);
	/* the kernel's new_encode_dev layout, which squashfs stores */
	e->attr.rdev_major = (devno & 0xfff00) >> 8;
	e->attr.rdev_minor = (devno & 0xff) | ((devno >> 12) & 0xfff00);
	return 0;
}

/* copy2fs runs `cp -ai IMAGE/. /` answering no: a path that an earlier package of this layer
 * brought stays as it is, unless both are directories (they merge). */
static bool kept_by_earlier(struct load_ctx *c, const char *path, bool is_dir)
{
	struct ovl_node *ex = ovl_view_lookup(c->view, path);
	return ex && ex->layer == c->layer && !(is_dir && S_ISDIR(ex->attr.mode));
}

static int put_children(struct load_ctx *c, const sqfs_tree_node_t *dir, const char *dir_path,
			int depth)
{
	const char *img = c->priv->pkgs[c->pkg].path;
	if (depth > 4096)
		return rf_err_set(c->err, ELOOP, "%s: directory tree too deep", img);
	int r = 0;
	for (const sqfs_tree_node_t *n = dir->children; n && !r; n = n->next) {
		const char *name = (const char *)n->name;
		if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
			return rf_err_set(c->err, EINVAL, "%s: bad entry name '%s' in /%s", img,
					  name, dir_path);
		char *path = path_join(dir_path, name);
		if (!path)
			return rf_err_set(c->err, ENOMEM, "out of memory");
		bool is_dir = n->inode->base.type == SQFS_INODE_DIR ||
			      n->inode->base.type == SQFS_INODE_EXT_DIR;
		if (kept_by_earlier(c, path, is_dir)) {
			free(path);
			continue;
		}
		struct ovl_entry e;
		char *target = NULL;
		struct ovl_xattr *xs = NULL;
		size_t nx = 0;
		r = inode_entry(c, n, path, &e, &target);
		if (!r)
			r = read_xattrs(c, n->inode, path, &xs, &nx);
		if (!r) {
			e.xattrs = xs;
			e.n_xattrs = nx;
			r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
		}
		if (!r && is_dir)
			r = put_children(c, n, path, depth + 1);
		free_xattrs(xs, nx);
		free(target);
		free(path);
	}
	return r;
}

static int append_setup(struct tcz_priv *p, const char *name)
{
	char *line;
	int len = asprintf(&line, "/%s/%s\n", TCE_INSTALLED, name);
	if (len < 0)
		return -ENOMEM;
	char *s = realloc(p->setup_list, p->setup_len + (size_t)len + 1);
	if (!s) {
		free(line);
		return -ENOMEM;
	}
	memcpy(s + p->setup_len, line, (size_t)len + 1);
	p->setup_list = s;
	p->setup_len += (size_t)len;
	free(line);
	return 0;
}

/* What tce-load's update_system leaves: the package's own startup script (executable, shipped
 * as usr/local/tce.installed/NAME) queued in /tmp/setup.lst for tce-setup, or an empty marker
 * so that tce-load sees the package as installed. */
static int put_installed(struct load_ctx *c)
{
	struct tcz_priv *p = c->priv;
	struct ovl_node *d = ovl_view_lookup(c->view, TCE_INSTALLED);
	int r = 0;
	if (!d || !S_ISDIR(d->attr.mode)) {
		struct ovl_entry e = {.path = TCE_INSTALLED, .attr = {.mode = S_IFDIR | 0755}};
		r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
	}
	for (size_t i = 0; i < p->n_pkgs && !r; i++) {
		char *path = path_join(TCE_INSTALLED, p->pkgs[i].name);
		if (!path)
			return rf_err_set(c->err, ENOMEM, "out of memory");
		struct ovl_node *n = ovl_view_lookup(c->view, path);
		if (n && n->layer == c->layer) {
			if (S_ISREG(n->attr.mode) && (n->attr.mode & 0111) &&
			    append_setup(p, p->pkgs[i].name))
				r = rf_err_set(c->err, ENOMEM, "out of memory");
		} else {
			struct ovl_entry e = {.path = path, .attr = {.mode = S_IFREG | 0644}};
			r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
		}
		free(path);
	}
	if (!r && p->setup_list) {
		struct ovl_entry e = {
		    .path = TCE_SETUP_LIST,
		    .attr = {.mode = S_IFREG | 0644, .size = p->setup_len},
		    .src = {.kind = OVL_SRC_MEM, .data = p->setup_list},
		};
		r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
	}
	return r;
}

static void tcz_destroy(struct ovl_layer *layer)
{
	struct tcz_priv *p = layer->priv;
	if (!p)
		return;
	for (size_t i = 0; i < p->n_pkgs; i++)
		pkg_close(&p->pkgs[i]);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i].path);
	free(p->pkgs);
	free(p->files);
	free(p->setup_list);
	free(p);
	layer->priv = NULL;
}

static int tcz_load(struct ovl_layer *layer, struct ovl_view *view, struct rf_err *err)
{
	const char *dir = layer->argv[0];
	const char *kernel = NULL;
	char **names = calloc((size_t)layer->argc, sizeof(*names));
	size_t n_names = 0;
	struct tcz_plan plan = {0};
	struct tcz_priv *p = NULL;
	int r = 0;
	if (!names)
		return rf_err_set(err, ENOMEM, "out of memory");
	for (int i = 1; i < layer->argc; i++) {
		const char *a = layer->argv[i];
		if (!strncmp(a, "kernel=", 7) && a[7])
			kernel = a + 7;
		else if (strchr(a, '='))
			r = rf_err_set(err, EINVAL, "unknown tcz option '%s' (kernel=VERSION)", a);
		else
			names[n_names++] = layer->argv[i];
	}
	struct stat st;
	if (!r && !n_names)
		r = rf_err_set(err, EINVAL, "tcz: no package named (tcz DIR PKG...)");
	if (!r && stat(dir, &st))
		r = rf_err_errno(err, errno, "%s", dir);
	if (!r && !S_ISDIR(st.st_mode))
		r = rf_err_set(err, ENOTDIR, "%s: not a directory", dir);
	if (!r)
		r = tcz_plan_resolve(dir, names, n_names, kernel, &plan, err);
	if (r)
		goto out;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->pkgs = calloc(plan.n, sizeof(*p->pkgs)))) {
		free(p);
		p = NULL;
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	layer->priv = p;
	struct load_ctx c = {.layer = layer, .view = view, .priv = p, .err = err};
	for (size_t i = 0; i < plan.n && !r; i++) {
		struct tcz_pkg *pkg = &p->pkgs[i];
		p->n_pkgs++;
		pkg->name = strdup(plan.names[i]);
		if (!pkg->name || asprintf(&pkg->path, "%s/%s.tcz", dir, plan.names[i]) < 0) {
			pkg->path = NULL;
			r = rf_err_set(err, ENOMEM, "out of memory");
			break;
		}
		c.pkg = i;
		c.xr = NULL;
		layer_note_source(layer, stat(pkg->path, &st) ? NULL : &st);
		r = pkg_open(pkg, &c.xr, err);
		if (!r)
			r = put_children(&c, pkg->root, "", 0);
		if (c.xr)
			sqfs_destroy(c.xr);
	}
	if (!r)
		r = put_installed(&c);
out:
	tcz_plan_free(&plan);
	free(names);
	return r;
}

static ssize_t tcz_read(struct ovl_layer *layer, uint64_t cookie, void *buf, size_t len,
			uint64_t off, struct rf_err *err)
{
	struct tcz_priv *p = layer->priv;
	if (!p || cookie >= p->n_files)
		return rf_err_set(err, EINVAL, "%s: bad content cookie", layer->label);
	const struct tcz_file *f = &p->files[cookie];
	struct tcz_pkg *pkg = &p->pkgs[f->pkg];
	size_t done = 0;
	ssize_t r = 0;
	pthread_mutex_lock(&pkg->lock);
	while (done < len) {
		size_t chunk = len - done < TCZ_READ_CHUNK ? len - done : TCZ_READ_CHUNK;
		sqfs_s32 got = sqfs_data_reader_read(pkg->data, f->inode, off + done,
						     (char *)buf + done, (sqfs_u32)chunk);
		if (got < 0) {
			r = rf_err_set(err, sqfs_errno(got), "%s: /%s: %s", pkg->path, f->path,
				       sqfs_reason(got));
			break;
		}
		if (!got)
			break;
		done += (size_t)got;
	}
	pthread_mutex_unlock(&pkg->lock);
	return r ? r : (ssize_t)done;
}

const struct layer_ops layer_tcz_ops = {
    .kind = "tcz",
    .usage = "DIR PKG... [kernel=VERSION]",
    .min_args = 2,
    .max_args = -1,
    .path_args = 1u << 0,
    .load = tcz_load,
    .read = tcz_read,
    .destroy = tcz_destroy,
};

const char *layer_tcz_package(const struct ovl_layer *layer, const struct ovl_node *n)
{
	const struct tcz_priv *p = layer && layer->ops == &layer_tcz_ops ? layer->priv : NULL;
	if (!p || !n || n->layer != layer || n->src.kind != OVL_SRC_LAYER ||
	    n->src.cookie >= p->n_files)
		return NULL;
	return p->pkgs[p->files[n->src.cookie].pkg].name;
}
