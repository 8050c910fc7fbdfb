/* The archive layer: `archive FILE`, a cpio (newc, odc) or tar (ustar, pax, GNU) archive, plain
 * or compressed with anything libarchive reads. libarchive reads sequentially: a member stored
 * whole and uncompressed is served from its offset in FILE itself; any other content is
 * decompressed once into an unlinked temporary file (O_TMPFILE in $TMPDIR) and served from
 * offsets there. Entries with an absolute path or a ".." component are refused. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer.h"
#include "path.h"
#include "view.h"

#define ARC_BLOCK (64u * 1024)
/* what the read callback hands libarchive at a time */
#define ARC_READ_BUF (1u << 20)
/* cookie bit: the offset is in FILE itself, not in the spool */
#define ARC_DIRECT (1ull << 63)

struct arc_rec {
	char *path; /* normalized guest path */
	char *raw;  /* the name as stored, for messages */
	struct ovl_attr attr;
	char *link_target;
	char *hardlink;	   /* normalized path of an earlier entry, NULL when not a hard link */
	uint64_t data_off; /* offset of the content in the spool file */
	uint64_t key;	   /* hard-link group: 1 + index of the group's first member */
	struct ovl_xattr *xattrs;
	size_t n_xattrs;
};

struct arc_priv {
	int fd;	    /* the spool: unlinked, holds the content not served from FILE */
	int src_fd; /* FILE, for members stored uncompressed (-1 when not a regular file) */
	char *file;
};

struct arc_load {
	const char *file;
	struct arc_priv *priv;
	uint64_t spool_end;
	struct arc_rec *recs;
	size_t n, cap;
	/* FILE as libarchive reads it, one buffer at a time through read_cb: a data block that
	 * points into buf is FILE's own bytes at buf_off + (block - buf). NULL when FILE is not a
	 * regular file (libarchive then reads it by name). */
	char *buf;
	uint64_t buf_off, next_off;
	size_t buf_len;
	struct rf_err *err;
};

/* A name fit for a one-line message: control characters shown as '?'. */
static const char *shown(const char *s, char buf[256])
{
	size_t i = 0;
	for (; s[i] && i < 255; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* libarchive's message, on one line. */
static int lib_error(struct arc_load *l, struct archive *a, const char *what)
{
	char buf[256];
	const char *msg = archive_error_string(a);
	int code = archive_errno(a) > 0 ? archive_errno(a) : EINVAL;
	return rf_err_set(l->err, code, "%s: %s%s", l->file, what,
			  shown(msg ? msg : "unreadable archive", buf));
}

static int spool_open(struct arc_load *l)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		char *name;
		if (asprintf(&name, "%s/rootfs-fuse-archive.XXXXXX", tmp) < 0)
			return rf_err_set(l->err, ENOMEM, "out of memory");
		fd = mkostemp(name, O_CLOEXEC);
		if (fd >= 0)
			unlink(name);
		free(name);
	}
	if (fd < 0)
		return rf_err_errno(l->err, errno, "%s: temporary file in %s", l->file, tmp);
	l->priv->fd = fd;
	return 0;
}

static int spool_write(struct arc_load *l, const void *p, size_t size, uint64_t at)
{
	for (size_t done = 0; done < size;) {
		ssize_t w =
		    pwrite(l->priv->fd, (const char *)p + done, size - done, (off_t)(at + done));
		if (w < 0)
			return rf_err_errno(l->err, errno, "%s: writing the temporary copy",
					    l->file);
		done += (size_t)w;
	}
	return 0;
}

static la_ssize_t read_cb(struct archive *a, void *ud, const void **out)
{
	struct arc_load *l = ud;
	ssize_t n;
	do
		n = pread(l->priv->src_fd, l->buf, ARC_READ_BUF, (off_t)l->next_off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read error");
		return -1;
	}
	l->buf_off = l->next_off;
	l->buf_len = (size_t)n;
	l->next_off += (uint64_t)n;
	*out = l->buf;
	return n;
}

/* Copy len bytes of FILE at offset at into the spool at offset to. */
static int spool_copy(struct arc_load *l, uint64_t at, uint64_t len, uint64_t to)
{
	char *tmp = malloc(ARC_BLOCK);
	int r = tmp ? 0 : rf_err_set(l->err, ENOMEM, "out of memory");
	for (uint64_t done = 0; !r && done < len;) {
		size_t want = len - done < ARC_BLOCK ? (size_t)(len - done) : ARC_BLOCK;
		ssize_t n = pread(l->priv->src_fd, tmp, want, (off_t)(at + done));
		if (n <= 0)
			r = rf_err_errno(l->err, n < 0 ? errno : EIO, "%s", l->file);
		else if (!(r = spool_write(l, tmp, (size_t)n, to + done)))
			done += (uint64_t)n;
	}
	free(tmp);
	return r;
}

/* Record where r's content is: its offset in FILE when every block came straight from the map,
 * in order and contiguous (an uncompressed, non-sparse member); else a copy in the spool. */
static int spool_data(struct arc_load *l, struct archive *a, struct arc_rec *r)
{
	char buf[256];
	const void *blk;
	size_t size;
	la_int64_t off;
	bool is_direct = l->buf != NULL;
	uint64_t direct_at = 0, direct_len = 0;
	int e = 0;
	r->data_off = l->spool_end;
	for (;;) {
		int s = archive_read_data_block(a, &blk, &size, &off);
		if (s == ARCHIVE_EOF)
			break;
		if (s < ARCHIVE_WARN)
			return lib_error(l, a, "");
		if (off < 0 || (uint64_t)off + size > r->attr.size)
			return rf_err_set(l->err, EINVAL, "%s: entry '%s': data past its size",
					  l->file, shown(r->raw, buf));
		if (!size)
			continue;
		const char *p = blk;
		if (is_direct) {
			bool in_buf = p >= l->buf && (size_t)(p - l->buf) + size <= l->buf_len;
			uint64_t at = in_buf ? l->buf_off + (uint64_t)(p - l->buf) : 0;
			if (in_buf && (uint64_t)off == direct_len &&
			    (!direct_len || at == direct_at + direct_len)) {
				if (!direct_len)
					direct_at = at;
				direct_len += size;
				continue;
			}
			/* not one run of FILE after all: what came so far goes to the spool too */
			is_direct = false;
			if (direct_len && (e = spool_copy(l, direct_at, direct_len, r->data_off)))
				return e;
		}
		if ((e = spool_write(l, p, size, r->data_off + (uint64_t)off)))
			return e;
	}
	if (is_direct && direct_len == r->attr.size) {
		r->data_off = ARC_DIRECT | direct_at;
		return 0;
	}
	if (is_direct && direct_len && (e = spool_copy(l, direct_at, direct_len, r->data_off)))
		return e;
	l->spool_end += r->attr.size;
	return 0;
}

static int check_path(struct arc_load *l, const char *raw, char **out)
{
	char buf[256];
	if (!raw || !*raw)
		return rf_err_set(l->err, EINVAL, "%s: entry with an empty or unreadable name",
				  l->file);
	if (raw[0] == '/')
		return rf_err_set(l->err, EINVAL, "%s: entry '%s': absolute path", l->file,
				  shown(raw, buf));
	int r = path_normalize(raw, out);
	if (r == -EINVAL)
		return rf_err_set(l->err, EINVAL, "%s: entry '%s': '..' in the path", l->file,
				  shown(raw, buf));
	if (r)
		return rf_err_errno(l->err, -r, "%s: entry '%s'", l->file, shown(raw, buf));
	return 0;
}

static int read_xattrs(struct arc_load *l, struct archive_entry *ae, struct arc_rec *r)
{
	int n = archive_entry_xattr_reset(ae);
	if (n <= 0)
		return 0;
	r->xattrs = calloc((size_t)n, sizeof(*r->xattrs));
	if (!r->xattrs)
		return rf_err_set(l->err, ENOMEM, "out of memory");
	const char *name;
	const void *val;
	size_t size;
	while (r->n_xattrs < (size_t)n && archive_entry_xattr_next(ae, &name, &val, &size) == 0) {
		struct ovl_xattr *x = &r->xattrs[r->n_xattrs];
		if (!(x->name = strdup(name)) || !(x->value = malloc(size ? size : 1))) {
			free(x->name);
			return rf_err_set(l->err, ENOMEM, "out of memory");
		}
		memcpy(x->value, val, size);
		x->size = size;
		r->n_xattrs++;
	}
	return 0;
}

static int read_entry(struct arc_load *l, struct archive *a, struct archive_entry *ae)
{
	char buf[256];
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct arc_rec *nr = realloc(l->recs, cap * sizeof(*nr));
		if (!nr)
			return rf_err_set(l->err, ENOMEM, "out of memory");
		l->recs = nr;
		l->cap = cap;
	}
	struct arc_rec *r = &l->recs[l->n++];
	memset(r, 0, sizeof(*r));
	const char *raw = archive_entry_pathname(ae);
	if (raw && !(r->raw = strdup(raw)))
		return rf_err_set(l->err, ENOMEM, "out of memory");
	int s = check_path(l, raw, &r->path);
	if (s)
		return s;
	mode_t mode = archive_entry_mode(ae);
	r->attr.mode = (uint32_t)mode;
	r->attr.uid = (uint32_t)archive_entry_uid(ae);
	r->attr.gid = (uint32_t)archive_entry_gid(ae);
	r->attr.mtime_sec = archive_entry_mtime(ae);
	r->attr.mtime_nsec = (uint32_t)archive_entry_mtime_nsec(ae);
	const char *hl = archive_entry_hardlink(ae);
	if (hl) {
		s = check_path(l, hl, &r->hardlink);
		if (s)
			return s;
	}
	switch (mode & S_IFMT) {
	case S_IFREG:
		r->attr.size = archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0
				   ? (uint64_t)archive_entry_size(ae)
				   : 0;
		break;
	case S_IFLNK: {
		const char *t = archive_entry_symlink(ae);
		if (!t || !*t)
			return rf_err_set(l->err, EINVAL, "%s: entry '%s': symlink without target",
					  l->file, shown(raw, buf));
		if (!(r->link_target = strdup(t)))
			return rf_err_set(l->err, ENOMEM, "out of memory");
		r->attr.size = strlen(t);
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
		r->attr.rdev_major = (uint32_t)archive_entry_rdevmajor(ae);
		r->attr.rdev_minor = (uint32_t)archive_entry_rdevminor(ae);
		break;
	case S_IFDIR:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		/* a tar hard link entry carries no type of its own: it is its target's */
		if (!r->hardlink)
			return rf_err_set(l->err, EINVAL, "%s: entry '%s': unknown file type 0%o",
					  l->file, shown(raw, buf), (unsigned)(mode & S_IFMT));
		r->attr.mode = S_IFREG | (r->attr.mode & 07777);
	}
	if (!r->path[0] && !S_ISDIR(r->attr.mode))
		return rf_err_set(l->err, EINVAL, "%s: entry '%s': the root is not a directory",
				  l->file, shown(raw, buf));
	s = read_xattrs(l, ae, r);
	if (!s && S_ISREG(r->attr.mode) && r->attr.size)
		s = spool_data(l, a, r);
	return s;
}

/* Tie hard links to their group and give every member the content of the one that carries it
 * (GNU cpio's newc puts the data on the last member, tar on the first). */
static int link_groups(struct arc_load *l)
{
	char buf[256], buf2[256];
	for (size_t i = 0; i < l->n; i++) {
		struct arc_rec *r = &l->recs[i];
		if (!r->hardlink)
			continue;
		size_t j = i;
		while (j-- > 0)
			if (!strcmp(l->recs[j].path, r->hardlink))
				break;
		if (j == (size_t)-1)
			return rf_err_set(l->err, EINVAL,
					  "%s: entry '%s': hard link to '%s', which is not in the "
					  "archive before it",
					  l->file, shown(r->raw, buf), shown(r->hardlink, buf2));
		struct arc_rec *t = &l->recs[j];
		if (!S_ISREG(t->attr.mode)) {
			/* the view links regular files only: other types become copies */
			r->attr = t->attr;
			free(r->link_target);
			r->link_target = t->link_target ? strdup(t->link_target) : NULL;
			if (t->link_target && !r->link_target)
				return rf_err_set(l->err, ENOMEM, "out of memory");
			continue;
		}
		if (!S_ISREG(r->attr.mode))
			r->attr.mode = S_IFREG | (r->attr.mode & 07777);
		if (!t->key)
			t->key = j + 1;
		r->key = t->key;
	}
	/* the member with the largest size carries the data; the others take its metadata */
	for (size_t i = 0; i < l->n; i++) {
		struct arc_rec *r = &l->recs[i];
		if (!r->key || r->key != i + 1)
			continue;
		size_t best = i;
		for (size_t k = i + 1; k < l->n; k++)
			if (l->recs[k].key == r->key &&
			    l->recs[k].attr.size >= l->recs[best].attr.size)
				best = k;
		for (size_t k = i; k < l->n; k++)
			if (l->recs[k].key == r->key && k != best) {
				l->recs[k].attr = l->recs[best].attr;
				l->recs[k].data_off = l->recs[best].data_off;
			}
	}
	return 0;
}

static void free_recs(struct arc_load *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct arc_rec *r = &l->recs[i];
		free(r->path);
		free(r->raw);
		free(r->link_target);
		free(r->hardlink);
		for (size_t k = 0; k < r->n_xattrs; k++) {
			free(r->xattrs[k].name);
			free(r->xattrs[k].value);
		}
		free(r->xattrs);
	}
	free(l->recs);
}

static void archive_layer_destroy(struct ovl_layer *layer)
{
	struct arc_priv *p = layer->priv;
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	if (p->src_fd >= 0)
		close(p->src_fd);
	free(p->file);
	free(p);
	layer->priv = NULL;
}

static int archive_layer_load(struct ovl_layer *layer, struct ovl_view *view, struct rf_err *err)
{
	const char *file = layer->argv[0];
	struct arc_priv *p = calloc(1, sizeof(*p));
	if (!p || !(p->file = strdup(file))) {
		free(p);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	p->fd = -1;
	p->src_fd = -1;
	layer->priv = p;
	struct arc_load l = {.file = file, .priv = p, .err = err};
	struct stat st;
	if (stat(file, &st))
		return rf_err_errno(err, errno, "%s", file);
	if (S_ISDIR(st.st_mode))
		return rf_err_set(err, EISDIR, "%s: a directory, not an archive (use tree)", file);
	/* a regular file's stamp names its content; a pipe or device may differ next time */
	layer_note_source(layer, S_ISREG(st.st_mode) ? &st : NULL);
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		p->src_fd = open(file, O_RDONLY | O_CLOEXEC);
		if (p->src_fd < 0)
			return rf_err_errno(err, errno, "%s", file);
		if (!(l.buf = malloc(ARC_READ_BUF)))
			return rf_err_set(err, ENOMEM, "out of memory");
	}
	struct archive *a = archive_read_new();
	if (!a) {
		free(l.buf);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_tar(a);
	int r = spool_open(&l);
	if (!r && (l.buf ? archive_read_open(a, &l, NULL, read_cb, NULL)
			 : archive_read_open_filename(a, file, ARC_BLOCK)) != ARCHIVE_OK)
		r = lib_error(&l, a, "");
	while (!r) {
		struct archive_entry *ae;
		int s = archive_read_next_header(a, &ae);
		if (s == ARCHIVE_EOF)
			break;
		if (s < ARCHIVE_WARN) {
			r = lib_error(&l, a, "");
			break;
		}
		r = read_entry(&l, a, ae);
	}
	if (!r && ftruncate(p->fd, (off_t)l.spool_end))
		r = rf_err_errno(err, errno, "%s: writing the temporary copy", file);
	if (!r)
		r = link_groups(&l);
	for (size_t i = 0; i < l.n && !r; i++) {
		struct arc_rec *rec = &l.recs[i];
		struct ovl_entry e = {
		    .path = rec->path,
		    .attr = rec->attr,
		    .link_target = rec->link_target,
		    .hardlink_key = rec->key,
		    .xattrs = rec->xattrs,
		    .n_xattrs = rec->n_xattrs,
		};
		if (S_ISREG(rec->attr.mode) && rec->attr.size)
			e.src = (struct ovl_src){.kind = OVL_SRC_LAYER, .cookie = rec->data_off};
		r = ovl_view_put(view, layer, &e, NULL, err);
	}
	free_recs(&l);
	archive_read_free(a);
	free(l.buf);
	return r;
}

static ssize_t archive_layer_read(struct ovl_layer *layer, uint64_t cookie, void *buf, size_t len,
				  uint64_t off, struct rf_err *err)
{
	struct arc_priv *p = layer->priv;
	int fd = cookie & ARC_DIRECT ? p->src_fd : p->fd;
	uint64_t base = cookie & ~ARC_DIRECT;
	size_t done = 0;
	/* pread on one descriptor needs no lock: FUSE and exporter threads share it */
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(base + off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rf_err_errno(err, errno, "%s: reading%s", p->file,
					    fd == p->fd ? " the temporary copy" : "");
		}
		if (!n)
			return rf_err_set(err, EIO, "%s: %s shorter than expected", p->file,
					  fd == p->fd ? "temporary copy"
						      : "file (changed since loading?)");
		done += (size_t)n;
	}
	return (ssize_t)done;
}

const struct layer_ops layer_archive_ops = {
    .kind = "archive",
    .usage = "FILE",
    .min_args = 1,
    .max_args = 1,
    .path_args = 1u << 0,
    .load = archive_layer_load,
    .read = archive_layer_read,
    .destroy = archive_layer_destroy,
};
