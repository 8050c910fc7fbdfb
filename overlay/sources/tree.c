/* The tree layer: a host directory as a lower layer, `tree DIR [owner=root|host]`. Symlinks
 * are kept as symlinks and never followed, so nothing outside DIR is read. It honours the
 * upper layer's conventions (meta.h): OCI whiteouts, opaque directories, override_stat and
 * mapped xattrs, symlinks stored as files, so an old upper directory stacks as a lower
 * layer. */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "layer.h"
#include "meta.h"
#include "path.h"
#include "tree_scan.h"
#include "view.h"

struct tree_ctx {
	struct ovl_layer *layer;
	struct ovl_view *view;
	bool keep_host_owner;
	struct rf_err *err;
	struct tree_scan *scan; /* read-ahead of the listings, NULL: list in the walk */
};

/* The target of a symlink stored as a regular file (meta.h). Returns its length or a negative
 * errno with a message naming the file. */
static int read_stored_link(struct tree_ctx *c, const char *host, char *buf, size_t size)
{
	int fd = open(host, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(c->err, errno, "%s", host);
	ssize_t n = meta_read_link_file(fd, buf, size);
	close(fd);
	if (n == -ENAMETOOLONG)
		return rf_err_set(c->err, ENAMETOOLONG,
				  "%s: stored symlink target longer than %d bytes", host,
				  PATH_MAX - 1);
	if (n == -ENOENT)
		return rf_err_set(c->err, EINVAL, "%s: stored symlink target is empty", host);
	if (n == -EINVAL)
		return rf_err_set(c->err, EINVAL, "%s: stored symlink target holds a NUL byte",
				  host);
	if (n < 0)
		return rf_err_errno(c->err, (int)-n, "%s", host);
	return (int)n;
}

/* Put host (lstat'ed as st) into the view as guest; no_xattrs: the read-ahead found none. */
static int put_one(struct tree_ctx *c, const char *host, const char *guest, const struct stat *st,
		   bool no_xattrs)
{
	struct ovl_attr over;
	bool has_over = false;
	struct ovl_xattr *xs = NULL;
	size_t nx = 0;
	char target[PATH_MAX];
	int r = no_xattrs ? 0 : meta_read_xattrs(host, &xs, &nx, &over, &has_over);
	if (r)
		return rf_err_errno(c->err, -r, "%s: reading xattrs", host);
	struct ovl_entry e = {
		.path = guest,
		.attr = {.mode = st->st_mode,
			 .uid = c->keep_host_owner ? st->st_uid : 0,
			 .gid = c->keep_host_owner ? st->st_gid : 0,
			 .rdev_major = major(st->st_rdev),
			 .rdev_minor = minor(st->st_rdev),
			 .size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0,
			 .mtime_sec = st->st_mtim.tv_sec,
			 .mtime_nsec = (uint32_t)st->st_mtim.tv_nsec},
		.xattrs = xs,
		.n_xattrs = nx,
	};
	if (has_over) {
		/* a device, fifo or socket of the guest is stored as an empty regular file, a
		 * symlink with an owner as a regular file holding its target */
		e.attr.uid = over.uid;
		e.attr.gid = over.gid;
		e.attr.mode = over.mode;
		e.attr.rdev_major = over.rdev_major;
		e.attr.rdev_minor = over.rdev_minor;
		if ((over.mode & S_IFMT) != (st->st_mode & S_IFMT) && !S_ISREG(st->st_mode)) {
			r = rf_err_set(c->err, EINVAL, "%s: override_stat type does not match", host);
			goto out;
		}
		if (!S_ISREG(over.mode))
			e.attr.size = 0;
	}
	if (S_ISLNK(e.attr.mode) && S_ISREG(st->st_mode)) {
		r = read_stored_link(c, host, target, sizeof(target));
		if (r < 0)
			goto out;
		e.attr.size = (uint64_t)r;
		e.link_target = target;
	} else if (S_ISREG(e.attr.mode)) {
		e.src.kind = e.attr.size ? OVL_SRC_HOST : OVL_SRC_NONE;
		e.src.host_path = (char *)host;
		e.src.stamp = ovl_host_stamp_of(st);
		if (st->st_nlink > 1)
			e.hardlink_key = ((uint64_t)st->st_dev << 40) ^ (uint64_t)st->st_ino;
	} else if (S_ISLNK(e.attr.mode)) {
		ssize_t n = readlink(host, target, sizeof(target) - 1);
		if (n < 0) {
			r = rf_err_errno(c->err, errno, "%s", host);
			goto out;
		}
		target[n] = '\0';
		e.link_target = target;
	}
	r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
out:
	for (size_t i = 0; i < nx; i++) {
		free(xs[i].name);
		free(xs[i].value);
	}
	free(xs);
	return r;
}

#define MAX_DEPTH 4096

static int walk_dir(struct tree_ctx *c, const char *host, const char *guest, int depth)
{
	if (depth > MAX_DEPTH)
		return rf_err_set(c->err, ELOOP, "%s: directory tree too deep", host);
	struct scan_dir *sd = c->scan ? tree_scan_next(c->scan) : NULL;
	if (!sd && c->scan) { /* the read-ahead gave up: list the rest here */
		tree_scan_stop(c->scan);
		c->scan = NULL;
	}
	if (!sd && !(sd = tree_scan_list(host)))
		return rf_err_set(c->err, ENOMEM, "out of memory");
	int r = sd->err ? rf_err_errno(c->err, sd->err, "%s", host) : 0;
	/* the opaque marker and whiteouts act on lower layers: apply them first */
	for (size_t i = 0; i < sd->n && !r; i++) {
		const char *name = sd->e[i].name;
		if (!strcmp(name, META_OPAQUE_MARKER)) {
			r = ovl_view_make_opaque(c->view, c->layer, guest, c->err);
		} else if (meta_is_whiteout(name)) {
			char *g = path_join(guest, name + strlen(META_WHITEOUT_PREFIX));
			r = g ? ovl_view_whiteout(c->view, g, c->err)
			      : rf_err_set(c->err, ENOMEM, "out of memory");
			free(g);
		}
	}
	for (size_t i = 0; i < sd->n && !r; i++) {
		const struct scan_entry *e = &sd->e[i];
		if (!tree_scan_is_entry(e->name))
			continue;
		char *h = path_join(host, e->name);
		char *g = path_join(guest, e->name);
		if (!h || !g)
			r = rf_err_set(c->err, ENOMEM, "out of memory");
		else if (e->stat_err)
			r = rf_err_errno(c->err, e->stat_err, "%s", h);
		else
			r = put_one(c, h, g, &e->st, e->xattr_len == 0);
		if (!r && S_ISDIR(e->st.st_mode))
			r = walk_dir(c, h, g, depth + 1);
		free(h);
		free(g);
	}
	tree_scan_dir_free(sd);
	return r;
}

static int tree_load(struct ovl_layer *layer, struct ovl_view *view, struct rf_err *err)
{
	struct tree_ctx c = {.layer = layer, .view = view, .err = err};
	for (int i = 1; i < layer->argc; i++) {
		if (!strcmp(layer->argv[i], "owner=host"))
			c.keep_host_owner = true;
		else if (strcmp(layer->argv[i], "owner=root"))
			return rf_err_set(err, EINVAL, "unknown tree option '%s' (owner=root|host)",
					  layer->argv[i]);
	}
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(layer->argv[0], real) || stat(real, &st))
		return rf_err_errno(err, errno, "%s", layer->argv[0]);
	if (!S_ISDIR(st.st_mode))
		return rf_err_set(err, ENOTDIR, "%s: not a directory", layer->argv[0]);
	int r = put_one(&c, real, "", &st, false);
	if (!r && tree_scan_start(real, MAX_DEPTH, &c.scan))
		c.scan = NULL; /* no thread: the walk lists each directory itself */
	if (!r)
		r = walk_dir(&c, real, "", 0);
	tree_scan_stop(c.scan);
	return r;
}

const struct layer_ops layer_tree_ops = {
	.kind = "tree",
	.usage = "DIR [owner=root|host]",
	.min_args = 1,
	.max_args = 2,
	.path_args = 1u << 0,
	.load = tree_load,
};
