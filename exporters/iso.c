/* The ISO 9660 exporter: the view as an ISO 9660 image with Rock Ridge (owners, modes, device
 * numbers, symlinks, hard links, long names) and Joliet, built with libisofs (the library
 * behind xorriso; libisofs.h is its reference). Content is streamed from the view at write
 * time through a libisofs stream class, never copied. With a kernel the image is also
 * El Torito bootable with isolinux and isohybrid (iso_boot.c).
 *
 * Why libisofs and not libarchive's iso9660 writer: Debian 12's libarchive 3.6.2 crashes in
 * archive_write_close() on trees deeper than 8 levels that Rock Ridge must relocate (e.g.
 * /usr/share/fpcsrc, and lib/modules/VERSION/kernel/drivers/net/ethernet/VENDOR/DRIVER;
 * libarchive issues #1517, #3235), and it spools every file's content to a temporary file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* struct burn_source is declared by libisofs.h only for programs without libburn */
#define LIBISOFS_WITHOUT_LIBBURN yes
#include <libisofs/libisofs.h>

#include "exporter.h"
#include "iso_boot.h"
#include "isofs.h"

#define ISO_WRITE_CHUNK (256u * 1024u)
#define ISO_SECTOR 2048
/* the fs_id our streams report in get_id(): libisofs's own sources use small numbers */
#define RF_ISO_FS_ID 0x52465553u

/* A directory of the image being built and the view node it stands for. */
struct dir_slot {
	const struct ovl_node *node;
	IsoDir *dir;
};

struct iso_priv {
	IsoImage *image;
	struct dir_slot *stack; /* the directories from the root down to the last one added */
	size_t depth, cap;
	IsoStream **by_ino; /* hard-linked files: the stream of the first name, by inode */
	size_t n_ino;
	ino_t next_extra_ino;  /* ids for the boot files' streams, past the view's inodes */
	struct iso_boot *boot; /* NULL unless a kernel was given */
	pthread_mutex_t err_lock;
	struct rf_err read_err; /* a content read failure in libisofs's writer thread */
};

/* --- the stream class: content from a view node or from an open host file --- */

struct rf_stream {
	struct iso_priv *p;
	const struct ovl_node *node; /* NULL: read fd */
	int fd;
	const char *label; /* names fd in messages; static or owned by iso_boot */
	uint64_t size, off;
	ino_t ino;
};

static void record_read_error(struct iso_priv *p, const struct rf_err *e)
{
	pthread_mutex_lock(&p->err_lock);
	if (!p->read_err.code)
		p->read_err = *e;
	pthread_mutex_unlock(&p->err_lock);
}

static int st_open(IsoStream *s)
{
	((struct rf_stream *)s->data)->off = 0;
	return ISO_SUCCESS;
}

static int st_close(IsoStream *s)
{
	(void)s;
	return ISO_SUCCESS;
}

static off_t st_get_size(IsoStream *s)
{
	return (off_t)((struct rf_stream *)s->data)->size;
}

/* libisofs wants count bytes unless the end is reached: loop over short reads. */
static int st_read(IsoStream *s, void *buf, size_t count)
{
	struct rf_stream *rs = s->data;
	size_t done = 0;
	while (done < count && rs->off < rs->size) {
		size_t want = count - done;
		if (want > rs->size - rs->off)
			want = (size_t)(rs->size - rs->off);
		struct rf_err e = {0};
		ssize_t n;
		if (rs->node) {
			n = ovl_node_pread(rs->node, (char *)buf + done, want, rs->off, &e);
		} else {
			n = pread(rs->fd, (char *)buf + done, want, (off_t)rs->off);
			if (n < 0)
				rf_err_errno(&e, errno, "%s: read", rs->label);
		}
		if (n == 0) {
			char *path = rs->node ? ovl_node_path(rs->node) : NULL;
			rf_err_set(&e, EIO, "%s%s: file shrank while exporting",
				   rs->node ? "/" : "", path ? path : rs->label);
			free(path);
		}
		if (n <= 0) {
			record_read_error(rs->p, &e);
			return (int)ISO_FILE_READ_ERROR;
		}
		done += (size_t)n;
		rs->off += (uint64_t)n;
	}
	return (int)done;
}

static int st_is_repeatable(IsoStream *s)
{
	(void)s;
	return 1;
}

static void st_get_id(IsoStream *s, unsigned int *fs_id, dev_t *dev_id, ino_t *ino_id)
{
	*fs_id = RF_ISO_FS_ID;
	*dev_id = 0;
	*ino_id = ((struct rf_stream *)s->data)->ino;
}

static void st_free(IsoStream *s)
{
	free(s->data);
}

static IsoStreamIface rf_stream_class = {
    .version = 0,
    .type = "user",
    .open = st_open,
    .close = st_close,
    .get_size = st_get_size,
    .read = st_read,
    .is_repeatable = st_is_repeatable,
    .get_id = st_get_id,
    .free = st_free,
};

static IsoStream *stream_new(struct iso_priv *p, const struct ovl_node *node, int fd,
			     const char *label, uint64_t size, ino_t ino)
{
	IsoStream *s = malloc(sizeof(*s));
	struct rf_stream *rs = calloc(1, sizeof(*rs));
	if (!s || !rs) {
		free(s);
		free(rs);
		return NULL;
	}
	*rs = (struct rf_stream){
	    .p = p, .node = node, .fd = fd, .label = label, .size = size, .ino = ino};
	s->class = &rf_stream_class;
	s->refcount = 1;
	s->data = rs;
	return s;
}

/* --- building the tree --- */

static int iso_fail(struct exp_ctx *c, int code, const char *what)
{
	if (code == (int)ISO_OUT_OF_MEM)
		return -ENOMEM;
	return rf_err_set(c->err, EIO, "%s: %s: %s", c->out_path, what, iso_error_to_msg(code));
}

static void set_meta(IsoNode *node, uint32_t mode, uint32_t uid, uint32_t gid, time_t mtime)
{
	iso_node_set_permissions(node, mode & 07777);
	iso_node_set_uid(node, uid);
	iso_node_set_gid(node, gid);
	iso_node_set_mtime(node, mtime);
	iso_node_set_atime(node, mtime);
	iso_node_set_ctime(node, mtime);
}

static int iso_open(struct exp_ctx *c)
{
	int init = rf_isofs_init();
	if (init < 0)
		return iso_fail(c, init, "libisofs");
	struct iso_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	c->priv = p;
	pthread_mutex_init(&p->err_lock, NULL);
	p->n_ino = ovl_view_count(c->view) + 1;
	p->next_extra_ino = (ino_t)p->n_ino + 1;
	p->by_ino = calloc(p->n_ino, sizeof(*p->by_ino));
	if (!p->by_ino)
		return -ENOMEM;
	int r = iso_image_new("ROOTFS_FUSE", &p->image);
	if (r < 0)
		return iso_fail(c, r, "new image");
	/* no ACLs or xattrs from the host: the view's metadata is the image's */
	iso_image_set_ignore_aclea(p->image, 3);
	if (c->opt->kernel)
		return iso_boot_prepare(c, &p->boot);
	return 0;
}

static int iso_add(struct exp_ctx *c, const struct ovl_node *n, const char *path)
{
	struct iso_priv *p = c->priv;
	uint32_t mode = n->attr.mode;
	time_t mtime = (time_t)exp_mtime(c->opt, n);
	if (!*path) {
		IsoDir *root = iso_image_get_root(p->image);
		set_meta((IsoNode *)root, mode, n->attr.uid, n->attr.gid, mtime);
		p->stack = malloc(16 * sizeof(*p->stack));
		if (!p->stack)
			return -ENOMEM;
		p->cap = 16;
		p->stack[0] = (struct dir_slot){n, root};
		p->depth = 1;
		return 0;
	}
	/* pre-order: the parent is on the stack, below the directories already finished */
	while (p->depth > 1 && p->stack[p->depth - 1].node != n->parent)
		p->depth--;
	IsoDir *parent = p->stack[p->depth - 1].dir;
	IsoNode *node = NULL;
	int r;
	if (S_ISDIR(mode)) {
		IsoDir *d;
		r = iso_tree_add_new_dir(parent, n->name, &d);
		if (r >= 0) {
			node = (IsoNode *)d;
			if (p->depth == p->cap) {
				struct dir_slot *s = realloc(p->stack, 2 * p->cap * sizeof(*s));
				if (!s)
					return -ENOMEM;
				p->stack = s;
				p->cap *= 2;
			}
			p->stack[p->depth++] = (struct dir_slot){n, d};
		}
	} else if (S_ISREG(mode)) {
		IsoStream **shared = n->nlink > 1 && n->ino < p->n_ino ? &p->by_ino[n->ino] : NULL;
		IsoStream *s;
		if (shared && *shared) {
			s = *shared;
			iso_stream_ref(s);
		} else {
			s = stream_new(p, n, -1, NULL, n->attr.size, (ino_t)n->ino);
			if (!s)
				return -ENOMEM;
			if (shared) {
				*shared = s;
				iso_stream_ref(s); /* the table's reference */
			}
		}
		IsoFile *f;
		r = iso_tree_add_new_file(parent, n->name, s, &f);
		if (r < 0)
			iso_stream_unref(s);
		node = (IsoNode *)f;
	} else if (S_ISLNK(mode)) {
		IsoSymlink *l;
		r = iso_tree_add_new_symlink(parent, n->name, n->link_target, &l);
		node = (IsoNode *)l;
	} else {
		IsoSpecial *sp;
		dev_t dev = S_ISCHR(mode) || S_ISBLK(mode)
				? makedev(n->attr.rdev_major, n->attr.rdev_minor)
				: 0;
		r = iso_tree_add_new_special(parent, n->name, mode & (S_IFMT | 07777), dev, &sp);
		node = (IsoNode *)sp;
	}
	if (r < 0)
		return rf_err_set(c->err, r == (int)ISO_OUT_OF_MEM ? ENOMEM : EINVAL, "%s: /%s: %s",
				  c->out_path, path, iso_error_to_msg(r));
	set_meta(node, mode, n->attr.uid, n->attr.gid, mtime);
	return 0;
}

int exp_iso_add_fd(struct exp_ctx *c, const char *dir_path, const char *name, int fd,
		   const char *label)
{
	struct iso_priv *p = c->priv;
	struct stat st;
	if (fstat(fd, &st))
		return rf_err_errno(c->err, errno, "%s", label);
	if (!S_ISREG(st.st_mode))
		return rf_err_set(c->err, EINVAL, "%s: not a regular file", label);
	IsoNode *dir;
	int r = iso_tree_path_to_node(p->image, dir_path, &dir);
	if (r != 1 || iso_node_get_type(dir) != LIBISO_DIR)
		return rf_err_set(c->err, ENOENT, "%s: %s: not a directory of the image",
				  c->out_path, dir_path);
	IsoStream *s = stream_new(p, NULL, fd, label, (uint64_t)st.st_size, p->next_extra_ino++);
	if (!s)
		return -ENOMEM;
	IsoFile *f;
	r = iso_tree_add_new_file((IsoDir *)dir, name, s, &f);
	if (r < 0) {
		iso_stream_unref(s);
		return iso_fail(c, r, name);
	}
	time_t t = c->opt->has_epoch ? (time_t)c->opt->epoch : st.st_mtime;
	set_meta((IsoNode *)f, 0644, 0, 0, t);
	return 0;
}

int exp_iso_add_dir(struct exp_ctx *c, const char *name)
{
	struct iso_priv *p = c->priv;
	IsoDir *d;
	int r = iso_tree_add_new_dir(iso_image_get_root(p->image), name, &d);
	if (r < 0)
		return iso_fail(c, r, name);
	set_meta((IsoNode *)d, 0755, 0, 0, c->opt->has_epoch ? (time_t)c->opt->epoch : 0);
	return 0;
}

struct Iso_Image *exp_iso_image(struct exp_ctx *c)
{
	return ((struct iso_priv *)c->priv)->image;
}

/* --- writing --- */

static int write_all(struct exp_ctx *c, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(c->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rf_err_errno(c->err, errno, "%s: write", c->out_path);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int set_write_opts(struct exp_ctx *c, IsoWriteOpts *o)
{
	/* ISO level 3: files over 4 GiB as multi-extent; Rock Ridge carries the real names and
	 * metadata, Joliet the Windows view (UTF-16, up to 103 characters); Rock Ridge 1.12 PX
	 * inode numbers keep hard links; deep directories are relocated as RRIP prescribes
	 * (RE/CL/PL entries), so Rock Ridge readers see the tree unchanged. */
	int r = iso_write_opts_set_iso_level(o, 3);
	if (r >= 0)
		r = iso_write_opts_set_rockridge(o, 1);
	if (r >= 0)
		r = iso_write_opts_set_joliet(o, 1);
	if (r >= 0)
		r = iso_write_opts_set_joliet_longer_paths(o, 1);
	if (r >= 0)
		r = iso_write_opts_set_joliet_long_names(o, 1);
	/* Joliet names as they are: no ";1" version, no forced dot (as mkisofs -J writes) */
	if (r >= 0)
		r = iso_write_opts_set_omit_version_numbers(o, 2);
	if (r >= 0)
		r = iso_write_opts_set_no_force_dots(o, 2);
	if (r >= 0)
		r = iso_write_opts_set_hardlinks(o, 1);
	if (r >= 0)
		r = iso_write_opts_set_always_gmt(o, 1);
	if (r >= 0)
		r = iso_write_opts_set_dir_rec_mtime(o, 1);
	if (r >= 0)
		r = iso_write_opts_set_rr_reloc(o, NULL, 0);
	if (r >= 0 && c->opt->has_epoch) {
		/* SOURCE_DATE_EPOCH: the volume dates and the volume UUID follow it */
		char uuid[32];
		time_t t = (time_t)c->opt->epoch;
		struct tm tm;
		gmtime_r(&t, &tm);
		if (!strftime(uuid, sizeof(uuid), "%Y%m%d%H%M%S00", &tm) || strlen(uuid) != 16)
			return rf_err_set(c->err, EINVAL,
					  "SOURCE_DATE_EPOCH %lld: not a date "
					  "from year 1 to 9999",
					  (long long)c->opt->epoch);
		r = iso_write_opts_set_pvd_times(o, t, t, 0, t, uuid);
	}
	return r < 0 ? iso_fail(c, r, "write options") : 0;
}

static int iso_close(struct exp_ctx *c)
{
	struct iso_priv *p = c->priv;
	int r = 0;
	IsoWriteOpts *o = NULL;
	struct burn_source *bs = NULL;
	unsigned char *buf = NULL;
	if (p->boot) {
		r = iso_boot_add_files(c, p->boot);
		if (r)
			goto out;
	}
	int ir = iso_write_opts_new(&o, 0);
	if (ir < 0) {
		r = iso_fail(c, ir, "write options");
		goto out;
	}
	r = set_write_opts(c, o);
	if (r)
		goto out;
	ir = iso_image_create_burn_source(p->image, o, &bs);
	if (ir < 0) {
		r = iso_fail(c, ir, "creating the image");
		goto out;
	}
	buf = malloc(ISO_WRITE_CHUNK);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	/* the burn source hands out whole 2048-byte sectors: a larger request that the rest of
	 * the image cannot fill reads as end of data, so read sectors and write in chunks */
	size_t fill = 0;
	for (;;) {
		int n = bs->read_xt(bs, buf + fill, ISO_SECTOR);
		if (n < 0) {
			if (p->read_err.code) {
				*c->err = p->read_err;
				r = -p->read_err.code;
			} else {
				r = rf_err_set(c->err, EIO,
					       "%s: libisofs failed to write the image",
					       c->out_path);
			}
			break;
		}
		fill += (size_t)n;
		if (fill + ISO_SECTOR > ISO_WRITE_CHUNK || n == 0) {
			r = write_all(c, buf, fill);
			fill = 0;
		}
		if (r || n == 0)
			break;
	}
	if (r)
		bs->cancel(bs);
	if (!r && p->boot)
		r = iso_boot_make_hybrid(c);
out:
	if (bs) {
		bs->free_data(bs);
		free(bs);
	}
	free(buf);
	if (o)
		iso_write_opts_free(o);
	return r;
}

static void iso_destroy(struct exp_ctx *c)
{
	struct iso_priv *p = c->priv;
	if (!p)
		return;
	if (p->by_ino)
		for (size_t i = 0; i < p->n_ino; i++)
			if (p->by_ino[i])
				iso_stream_unref(p->by_ino[i]);
	free(p->by_ino);
	free(p->stack);
	if (p->image)
		iso_image_unref(p->image);
	iso_boot_free(p->boot);
	pthread_mutex_destroy(&p->err_lock);
	free(p);
	c->priv = NULL;
}

static const char *const iso_suffixes[] = {".iso", NULL};
const struct exporter_ops exp_iso_ops = {.name = "iso",
					 .suffixes = iso_suffixes,
					 .open = iso_open,
					 .add = iso_add,
					 .close = iso_close,
					 .destroy = iso_destroy};
