/* The ISO 9660 exporter: the view as an ISO 9660 image with Rock Ridge (owners, modes, device
 * numbers, symlinks, long names) and Joliet, written by libarchive's iso9660 writer
 * (archive_write_format(3), archive_write_set_options(3)). With a kernel the image is also
 * El Torito bootable with isolinux and isohybrid (iso_boot.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "exporter.h"
#include "iso_boot.h"

#define ISO_COPY_CHUNK (1u << 20)

struct iso_priv {
	struct archive *a;
	struct archive_entry *e;
	char **link_first;     /* by inode number: the first path of a hard-linked file */
	size_t n_link_first;
	void *buf;             /* ISO_COPY_CHUNK bytes, for file contents */
	struct iso_boot *boot; /* NULL unless a kernel was given */
};

static la_ssize_t write_cb(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct exp_ctx *c = arg;
	const char *p = buf;
	size_t left = len;
	while (left) {
		ssize_t n = write(c->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "write");
			rf_err_errno(c->err, errno, "%s: write", c->out_path);
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	return (la_ssize_t)len;
}

static int la_fail(struct exp_ctx *c, struct iso_priv *p, const char *what)
{
	return rf_err_set(c->err, EIO, "%s: %s: %s", c->out_path, what,
			  archive_error_string(p->a) ? archive_error_string(p->a) : "libarchive");
}

int exp_iso_write_fd(struct exp_ctx *c, const char *guest_path, int fd, const char *label,
		     mode_t mode)
{
	struct iso_priv *p = c->priv;
	struct stat st;
	if (fstat(fd, &st))
		return rf_err_errno(c->err, errno, "%s", label);
	if (!S_ISREG(st.st_mode))
		return rf_err_set(c->err, EINVAL, "%s: not a regular file", label);
	archive_entry_clear(p->e);
	archive_entry_set_pathname(p->e, guest_path);
	archive_entry_set_filetype(p->e, AE_IFREG);
	archive_entry_set_perm(p->e, mode);
	archive_entry_set_size(p->e, st.st_size);
	archive_entry_set_mtime(p->e, c->opt->has_epoch ? c->opt->epoch : st.st_mtime, 0);
	if (archive_write_header(p->a, p->e) != ARCHIVE_OK)
		return la_fail(c, p, guest_path);
	for (off_t off = 0;;) {
		ssize_t n = pread(fd, p->buf, ISO_COPY_CHUNK, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rf_err_errno(c->err, errno, "%s: read", label);
		if (!n)
			return 0;
		if (archive_write_data(p->a, p->buf, (size_t)n) != n)
			return la_fail(c, p, guest_path);
		off += n;
	}
}

int exp_iso_write_dir(struct exp_ctx *c, const char *guest_path)
{
	struct iso_priv *p = c->priv;
	archive_entry_clear(p->e);
	archive_entry_set_pathname(p->e, guest_path);
	archive_entry_set_filetype(p->e, AE_IFDIR);
	archive_entry_set_perm(p->e, 0755);
	archive_entry_set_mtime(p->e, c->opt->has_epoch ? c->opt->epoch : 0, 0);
	if (archive_write_header(p->a, p->e) != ARCHIVE_OK)
		return la_fail(c, p, guest_path);
	return 0;
}

static int iso_open(struct exp_ctx *c)
{
	struct iso_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	c->priv = p;
	p->n_link_first = ovl_view_count(c->view) + 1;
	p->link_first = calloc(p->n_link_first, sizeof(char *));
	p->buf = malloc(ISO_COPY_CHUNK);
	p->a = archive_write_new();
	p->e = archive_entry_new();
	if (!p->link_first || !p->buf || !p->a || !p->e)
		return -ENOMEM;
	if (archive_write_set_format_iso9660(p->a) != ARCHIVE_OK)
		return la_fail(c, p, "iso9660 writer");
	/* Rock Ridge carries the POSIX metadata; the ISO 9660 names themselves are only for
	 * readers without extensions: level 3 keeps them readable and allows files > 4 GiB. */
	if (archive_write_set_options(p->a, "iso9660:rockridge=strict,iso9660:joliet=long,"
					    "iso9660:iso-level=3,iso9660:volume-id=ROOTFS_FUSE,"
					    "iso9660:!pad") != ARCHIVE_OK)
		return la_fail(c, p, "iso9660 options");
	if (c->opt->kernel) {
		int r = iso_boot_prepare(c, &p->boot);
		if (r)
			return r;
		if (archive_write_set_options(p->a, iso_boot_options()) != ARCHIVE_OK)
			return la_fail(c, p, "El Torito options");
	}
	/* one write per libarchive block; the writer pads the image to 2048-byte sectors */
	archive_write_set_bytes_per_block(p->a, 64 * 1024);
	archive_write_set_bytes_in_last_block(p->a, 1);
	if (archive_write_open(p->a, c, NULL, write_cb, NULL) != ARCHIVE_OK)
		return la_fail(c, p, "open");
	return 0;
}

static int copy_content(struct exp_ctx *c, struct iso_priv *p, const struct ovl_node *n,
			const char *path)
{
	uint64_t off = 0;
	while (off < n->attr.size) {
		size_t want = n->attr.size - off < ISO_COPY_CHUNK ? (size_t)(n->attr.size - off)
								  : ISO_COPY_CHUNK;
		ssize_t got = ovl_node_pread(n, p->buf, want, off, c->err);
		if (got < 0)
			return (int)got;
		if (!got)
			return rf_err_set(c->err, EIO, "/%s: file shrank while exporting", path);
		if (archive_write_data(p->a, p->buf, (size_t)got) != got)
			return la_fail(c, p, path);
		off += (uint64_t)got;
	}
	return 0;
}

static int iso_add(struct exp_ctx *c, const struct ovl_node *n, const char *path)
{
	struct iso_priv *p = c->priv;
	if (!*path)
		return 0; /* libarchive makes the root directory itself */
	uint32_t mode = n->attr.mode;
	archive_entry_clear(p->e);
	archive_entry_set_pathname(p->e, path);
	archive_entry_set_mode(p->e, mode);
	archive_entry_set_uid(p->e, n->attr.uid);
	archive_entry_set_gid(p->e, n->attr.gid);
	archive_entry_set_mtime(p->e, exp_mtime(c->opt, n), c->opt->has_epoch ? 0 : n->attr.mtime_nsec);
	archive_entry_set_nlink(p->e, n->nlink);
	bool has_data = false;
	if (S_ISREG(mode)) {
		char **first = n->ino < p->n_link_first ? &p->link_first[n->ino] : NULL;
		if (n->nlink > 1 && first && *first) {
			archive_entry_set_hardlink(p->e, *first);
			archive_entry_set_size(p->e, 0);
		} else {
			if (n->nlink > 1 && first && !(*first = strdup(path)))
				return -ENOMEM;
			archive_entry_set_size(p->e, (la_int64_t)n->attr.size);
			has_data = n->attr.size > 0;
		}
	} else if (S_ISLNK(mode)) {
		archive_entry_set_symlink(p->e, n->link_target);
	} else if (S_ISCHR(mode) || S_ISBLK(mode)) {
		archive_entry_set_rdevmajor(p->e, n->attr.rdev_major);
		archive_entry_set_rdevminor(p->e, n->attr.rdev_minor);
	}
	int w = archive_write_header(p->a, p->e);
	if (w == ARCHIVE_WARN)
		return rf_err_set(c->err, EINVAL, "%s: /%s: %s", c->out_path, path,
				  archive_error_string(p->a));
	if (w != ARCHIVE_OK)
		return la_fail(c, p, path);
	return has_data ? copy_content(c, p, n, path) : 0;
}

static int iso_close(struct exp_ctx *c)
{
	struct iso_priv *p = c->priv;
	if (p->boot) {
		int r = iso_boot_add_files(c, p->boot);
		if (r)
			return r;
	}
	if (archive_write_close(p->a) != ARCHIVE_OK)
		return c->err->code ? -c->err->code : la_fail(c, p, "close");
	return p->boot ? iso_boot_make_hybrid(c) : 0;
}

static void iso_destroy(struct exp_ctx *c)
{
	struct iso_priv *p = c->priv;
	if (!p)
		return;
	if (p->a)
		archive_write_free(p->a);
	if (p->e)
		archive_entry_free(p->e);
	if (p->link_first)
		for (size_t i = 0; i < p->n_link_first; i++)
			free(p->link_first[i]);
	free(p->link_first);
	free(p->buf);
	iso_boot_free(p->boot);
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
