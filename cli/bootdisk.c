/* boot --format ext4|qcow2: the helper initramfs that reaches the root disk. See bootdisk.h.
 * The module list follows modules.dep(5) and modules.builtin as depmod(8) writes them; the
 * hand-over follows switch_root(8) (busybox): / must be the initramfs and /init a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bootdisk.h"

/* What the root disk needs from a stock distribution kernel; each may also be built in. */
static const char *const needed[] = {"virtio_pci", "virtio_blk", "ext4"};

static const char init_script[] =
	"#!/bin/busybox sh\n"
	"# rootfs-fuse helper initramfs: load the root disk's modules, mount it, switch_root\n"
	"/bin/busybox --install -s\n"
	"export PATH=/sbin:/usr/sbin:/bin:/usr/bin\n"
	"die() { echo \"rootfs-fuse initramfs: $*\"; exit 1; }\n"
	"mount -t proc proc /proc && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev ||\n"
	"	die \"cannot mount /proc, /sys, /dev\"\n"
	"# built-in drivers make modprobe fail harmlessly; /dev/vda decides below\n"
	"for m in virtio_pci virtio_blk crc32c_generic ext4; do modprobe -q $m; done\n"
	"i=0\n"
	"while [ ! -b /dev/vda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done\n"
	"[ -b /dev/vda ] || die \"no /dev/vda (virtio_blk not loaded?)\"\n"
	"mount -t ext4 /dev/vda /newroot || die \"cannot mount /dev/vda as ext4\"\n"
	"init=/init\n"
	"[ -e /newroot/init ] || [ -L /newroot/init ] || init=/sbin/init\n"
	"umount /proc /sys\n"
	"if [ -d /newroot/dev ]; then mount --move /dev /newroot/dev; else umount /dev; fi\n"
	"exec switch_root /newroot $init\n";

/* Read a whole regular file of the view (NUL-terminated, malloc'd) into *out. */
static int read_node(const struct ovl_node *n, char **out, struct rf_err *err)
{
	char *buf = malloc(n->attr.size + 1);
	if (!buf)
		return rf_err_set(err, ENOMEM, "out of memory");
	size_t done = 0;
	while (done < n->attr.size) {
		ssize_t r = ovl_node_pread(n, buf + done, n->attr.size - done, done, err);
		if (r < 0) {
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	buf[done] = '\0';
	*out = buf;
	return 0;
}

/* True when text (modules.dep or modules.builtin) names module NAME: a path ending in
 * "/NAME.ko" (any compression suffix) at the start of a line. '-' and '_' are the same. */
static bool lists_module(const char *text, const char *name)
{
	size_t nl = strlen(name);
	for (const char *line = text, *next; *line; line = next) {
		next = line + strcspn(line, "\n");
		next += *next == '\n';
		const char *end = line + strcspn(line, ":\n");
		const char *base = line;
		for (const char *p = line; p < end; p++)
			if (*p == '/')
				base = p + 1;
		if ((size_t)(end - base) < nl + 3)
			continue;
		bool same = true;
		for (size_t i = 0; i < nl && same; i++) {
			char a = base[i] == '-' ? '_' : base[i], b = name[i] == '-' ? '_' : name[i];
			same = a == b;
		}
		if (same && !strncmp(base + nl, ".ko", 3))
			return true;
	}
	return false;
}

static char *host_builtin(const char *version)
{
	char path[512];
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", version);
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[8192];
	size_t r;
	while (m && (r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, r, m);
	if (m)
		fclose(m);
	fclose(f);
	return buf;
}

/* The kernel version whose modules the helper carries: the only directory under the view's
 * /lib/modules, else the one named like the kernel (vmlinuz-VERSION), else the kernel's. */
static char *pick_version(const struct ovl_view *v, const char *kernel, const struct ovl_node **dir)
{
	const char *base = strrchr(kernel, '/') ? strrchr(kernel, '/') + 1 : kernel;
	const char *kver = !strncmp(base, "vmlinuz-", 8) ? base + 8 : NULL;
	*dir = NULL;
	const struct ovl_node *mods = ovl_view_resolve(v, "lib/modules", true);
	if (mods && S_ISDIR(mods->attr.mode)) {
		const struct ovl_node *only = NULL;
		size_t n_dirs = 0;
		for (size_t i = 0; i < mods->n_children; i++) {
			const struct ovl_node *c = mods->children[i];
			if (!S_ISDIR(c->attr.mode))
				continue;
			n_dirs++;
			only = c;
			if (kver && !strcmp(c->name, kver)) {
				*dir = c;
				return strdup(c->name);
			}
		}
		if (n_dirs == 1) {
			*dir = only;
			return strdup(only->name);
		}
	}
	return strdup(kver ? kver : "VERSION");
}

struct copy_ctx {
	struct ovl_view *helper;
	struct rf_err *err;
};

/* Put one node of the view's modules directory into the helper view, content shared: the
 * node keeps its layer (owned by the view, which outlives the helper). */
static int copy_node(struct copy_ctx *c, const struct ovl_node *n, const char *path)
{
	struct ovl_entry e = {
	    .path = path,
	    .attr = n->attr,
	    .link_target = n->link_target,
	    .src = n->src,
	    .hardlink_key = n->hardlink_key,
	};
	int r = ovl_view_put(c->helper, n->layer, &e, NULL, c->err);
	if (r || !S_ISDIR(n->attr.mode))
		return r;
	for (size_t i = 0; i < n->n_children; i++) {
		char *sub;
		if (asprintf(&sub, "%s/%s", path, n->children[i]->name) < 0)
			return rf_err_set(c->err, ENOMEM, "out of memory");
		r = copy_node(c, n->children[i], sub);
		free(sub);
		if (r)
			return r;
	}
	return 0;
}

static int put_simple(struct ovl_view *h, const char *path, uint32_t mode, const char *data,
		      uint32_t major, uint32_t minor, struct rf_err *err)
{
	struct ovl_entry e = {.path = path, .attr = {.mode = mode, .rdev_major = major,
						      .rdev_minor = minor}};
	if (data) {
		e.attr.size = strlen(data);
		e.src.kind = OVL_SRC_MEM;
		e.src.data = (void *)data;
	}
	return ovl_view_put(h, NULL, &e, NULL, err);
}

/* Check that every module in needed[] is in the view's modules.dep or built in. */
static int check_modules(const struct ovl_node *dir, const char *version, struct rf_err *err)
{
	char *dep = NULL, *builtin = NULL;
	const struct ovl_node *depn = dir ? ovl_node_child(dir, "modules.dep") : NULL;
	if (depn && S_ISREG(depn->attr.mode)) {
		int r = read_node(depn, &dep, err);
		if (r)
			return r;
	}
	const struct ovl_node *bn = dir ? ovl_node_child(dir, "modules.builtin") : NULL;
	if (bn && S_ISREG(bn->attr.mode)) {
		int r = read_node(bn, &builtin, err);
		if (r) {
			free(dep);
			return r;
		}
	} else {
		builtin = host_builtin(version);
	}
	int r = 0;
	for (size_t i = 0; i < sizeof(needed) / sizeof(*needed) && !r; i++) {
		const char *m = needed[i];
		if ((dep && lists_module(dep, m)) || (builtin && lists_module(builtin, m)))
			continue;
		r = rf_err_set(err, ENOENT,
			       "the kernel needs the module %s to reach its root disk and the view "
			       "has none: add `modules /lib/modules/%s virtio_pci virtio_blk ext4` "
			       "to the SPEC",
			       m, version);
	}
	free(dep);
	free(builtin);
	return r;
}

int bootdisk_initrd(const struct ovl_view *v, const char *kernel, const char *out_path,
		    const struct exp_options *o, struct rf_err *err)
{
	const struct ovl_node *bb = ovl_view_resolve(v, "bin/busybox", true);
	if (!bb || !S_ISREG(bb->attr.mode))
		return rf_err_set(err, ENOENT, "the view has no /bin/busybox to load modules with");
	const struct ovl_node *dir;
	char *version = pick_version(v, kernel, &dir);
	if (!version)
		return rf_err_set(err, ENOMEM, "out of memory");
	int r = check_modules(dir, version, err);
	struct ovl_view *h = NULL;
	if (!r)
		r = ovl_view_new(&h);
	struct copy_ctx c = {.helper = h, .err = err};
	if (!r && dir) {
		/* the view may reach its modules through a symlink (/lib -> usr/lib): the helper
		 * keeps them at the path modprobe looks at */
		char *dst;
		if (asprintf(&dst, "lib/modules/%s", version) < 0)
			r = rf_err_set(err, ENOMEM, "out of memory");
		else {
			r = copy_node(&c, dir, dst);
			free(dst);
		}
	}
	if (!r) {
		struct ovl_entry e = {.path = "bin/busybox", .attr = bb->attr, .src = bb->src};
		e.attr.mode = S_IFREG | 0755;
		r = ovl_view_put(h, bb->layer, &e, NULL, err);
	}
	static const char *const dirs[] = {"dev", "proc", "sys", "newroot", "sbin", "usr/bin",
					   "usr/sbin"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs) && !r; i++)
		r = put_simple(h, dirs[i], S_IFDIR | 0755, NULL, 0, 0, err);
	if (!r)
		r = put_simple(h, "dev/console", S_IFCHR | 0600, NULL, 5, 1, err);
	if (!r)
		r = put_simple(h, "init", S_IFREG | 0755, init_script, 0, 0, err);
	if (!r)
		r = ovl_view_finalize(h) ? rf_err_set(err, ENOMEM, "out of memory") : 0;
	if (!r) {
		struct exp_options ho = {.format = "cpio", .compress = "gzip", .level = -1,
					 .has_epoch = o->has_epoch, .epoch = o->epoch,
					 .threads = o->threads, .one_piece = true, .quiet = true};
		r = exp_export_file(h, out_path, &ho, err);
	}
	ovl_view_free(h);
	free(version);
	return r;
}
