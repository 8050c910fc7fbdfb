/* The hidden control directory /.rootfs-fuse of a mount (docs/mount.md, "The control
 * directory"): read-only files that serialize the view as it is when they are looked up. It
 * wraps the operation tables of ops_*.c: requests on its own inodes are answered here, every
 * other request goes to the wrapped handler, and every modifying one bumps a generation
 * counter so a cached export is reused only while the view is unchanged. */
#include "internal.h"

#include "fs.h"
#include "pieces.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* One export result, shared by the cache and each open handle: the pieces of files it is made
 * of (a cpio export: the segment cache's entries and an unlinked temporary file holding the
 * segments made for it; other formats: all of the temporary file). */
struct ctl_blob {
	int fd; /* the temporary file (EXP_PIECE_OUTPUT pieces) */
	struct exp_pieces pieces; /* pieces.size: the result's bytes */
	struct timespec mtime;
	unsigned refs; /* under fs_ctl.lock */
};

struct ctl_file {
	const char *name;
	struct ctl_blob *blob; /* the newest result, NULL before the first */
	uint64_t gen;	       /* the generation blob was made at */
	uint64_t host_digest;  /* ovl_view_host_digest of the lower view when blob was made */
};

struct fs_ctl {
	struct fuse_lowlevel_ops orig;
	int (*export)(void *arg, const struct ovl_view *lower, bool is_lower_stale,
		      const char *name, int fd, struct exp_pieces *pieces, struct rf_err *err);
	void *export_arg;
	const struct ovl_view *lower;
	uint64_t lower_digest; /* ovl_view_host_digest(lower) at mount time */
	int tmp_dirfd;	      /* O_PATH: where the temporary files are made (STATE/work) */
	uint64_t gen;	      /* bumped around each modifying request (atomic) */
	pthread_mutex_t lock; /* serializes exports and guards the blobs' counts */
	char dir_node;	      /* its address is the directory's fuse_ino_t */
	size_t n_files;
	struct ctl_file *files;
};

#define CTL_INO_BASE (1ull << 62)

static struct fs_ctl *ctl_of(fuse_req_t req)
{
	return fs_ctx(req)->ctl;
}

static fuse_ino_t dir_ino(const struct fs_ctl *t)
{
	return (fuse_ino_t)(uintptr_t)&t->dir_node;
}

/* The control file ino stands for, NULL when it is not one. */
static struct ctl_file *file_of(const struct fs_ctl *t, fuse_ino_t ino)
{
	uintptr_t p = (uintptr_t)ino, lo = (uintptr_t)t->files;
	if (!t->n_files || p < lo || p >= (uintptr_t)(t->files + t->n_files))
		return NULL;
	return (struct ctl_file *)p;
}

static bool is_ctl(const struct fs_ctl *t, fuse_ino_t ino)
{
	return ino == dir_ino(t) || file_of(t, ino);
}

static void bump(struct fs_ctl *t)
{
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_SEQ_CST);
}

static void blob_unref(struct ctl_blob *b)
{
	if (b && !--b->refs) {
		close(b->fd);
		exp_pieces_free(&b->pieces);
		free(b);
	}
}

static int tmp_file(struct fs_ctl *t)
{
	int fd = openat(t->tmp_dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	/* no O_TMPFILE on this filesystem: a named file, unlinked at once */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", t->tmp_dirfd);
	char tmpl[4200];
	ssize_t l = readlink(path, tmpl, sizeof(tmpl) - 32);
	if (l < 0)
		return -1;
	strcpy(tmpl + l, "/.ctl.XXXXXX");
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	return fd;
}

/* Make f's result current (export again when the view changed since) and return it with a
 * reference for the caller when want_ref. check_host: also look for host files under the
 * lower view changed since (one lstat each, ovl_view_host_digest); lookups do, while a getattr
 * or an open, which follow the lookup of the path walk (the entry timeout being 0), do not
 * repeat it.
 * Call with t->lock held. Returns 0 or -EIO (the export's message goes to stderr and syslog:
 * the reader only sees EIO). */
static int refresh(struct fs_ctl *t, struct ctl_file *f, struct ctl_blob **out, bool want_ref,
		   bool check_host)
{
	uint64_t g = __atomic_load_n(&t->gen, __ATOMIC_SEQ_CST);
	/* a piece's file changed on disk (a cache entry overwritten): export again, never serve it */
	bool is_stale = !f->blob || f->gen != g ||
			exp_pieces_check(&f->blob->pieces, 0, f->blob->pieces.n);
	uint64_t hd = is_stale || check_host ? ovl_view_host_digest(t->lower) : f->host_digest;
	if (is_stale || f->host_digest != hd) {
		struct rf_err err = {0};
		struct ctl_blob *b = calloc(1, sizeof(*b));
		int r = b ? 0 : rf_err_set(&err, ENOMEM, "out of memory");
		if (b && (b->fd = tmp_file(t)) < 0)
			r = rf_err_errno(&err, errno, "%s: temporary file", f->name);
		if (!r && !t->export)
			r = rf_err_set(&err, ENOSYS, "%s: no exporter", f->name);
		if (!r)
			r = t->export(t->export_arg, t->lower, hd != t->lower_digest, f->name, b->fd,
				      &b->pieces, &err);
		if (r) {
			if (b && b->fd >= 0)
				close(b->fd);
			if (b)
				exp_pieces_free(&b->pieces);
			free(b);
			fprintf(stderr, "rootfs-fuse: %s\n", err.msg);
			syslog(LOG_ERR, "%s/%s: %s", FS_CTL_NAME, f->name, err.msg);
			return -EIO;
		}
		clock_gettime(CLOCK_REALTIME, &b->mtime);
		b->refs = 1;
		blob_unref(f->blob);
		f->blob = b;
		f->gen = g;
		f->host_digest = hd;
	}
	if (want_ref)
		f->blob->refs++;
	if (out)
		*out = f->blob;
	return 0;
}

static void ctl_stat(fuse_req_t req, struct fs_ctl *t, fuse_ino_t ino, struct stat *st)
{
	struct fs_ctx *c = fs_ctx(req);
	memset(st, 0, sizeof(*st));
	/* the guest's root, seen from the host as the mounting user (like fs_stat) */
	st->st_uid = c->owner_uid == (uid_t)-1 ? 0 : c->owner_uid;
	st->st_gid = c->owner_gid == (gid_t)-1 ? 0 : c->owner_gid;
	st->st_blksize = 4096;
	struct ctl_file *f = file_of(t, ino);
	if (!f) {
		st->st_ino = CTL_INO_BASE;
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		clock_gettime(CLOCK_REALTIME, &st->st_mtim);
	} else {
		st->st_ino = CTL_INO_BASE + 1 + (uint64_t)(f - t->files);
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = f->blob ? (off_t)f->blob->pieces.size : 0;
		st->st_blocks = (st->st_size + 511) / 512;
		if (f->blob)
			st->st_mtim = f->blob->mtime;
	}
	st->st_atim = st->st_ctim = st->st_mtim;
}

/* Entry of a control inode; a file's export is brought up to date first. */
static int ctl_entry(fuse_req_t req, struct fs_ctl *t, fuse_ino_t ino, struct fuse_entry_param *e,
		     bool check_host)
{
	memset(e, 0, sizeof(*e));
	struct ctl_file *f = file_of(t, ino);
	pthread_mutex_lock(&t->lock);
	int r = f ? refresh(t, f, NULL, false, check_host) : 0;
	if (!r)
		ctl_stat(req, t, ino, &e->attr);
	pthread_mutex_unlock(&t->lock);
	/* the content follows the view: let the kernel ask again every time */
	e->ino = ino;
	e->attr_timeout = e->entry_timeout = 0;
	return r;
}

static void reply_entry(fuse_req_t req, struct fs_ctl *t, fuse_ino_t ino)
{
	struct fuse_entry_param e;
	int r = ctl_entry(req, t, ino, &e, true);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void w_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_ctl *t = ctl_of(req);
	if (parent == FUSE_ROOT_ID && !strcmp(name, FS_CTL_NAME)) {
		reply_entry(req, t, dir_ino(t));
		return;
	}
	if (parent == dir_ino(t)) {
		for (size_t i = 0; i < t->n_files; i++)
			if (!strcmp(t->files[i].name, name)) {
				reply_entry(req, t, (fuse_ino_t)(uintptr_t)&t->files[i]);
				return;
			}
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (file_of(t, parent)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	t->orig.lookup(req, parent, name);
}

static void w_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
	struct fs_ctl *t = ctl_of(req);
	if (is_ctl(t, ino))
		fuse_reply_none(req); /* never freed before unmount */
	else
		t->orig.forget(req, ino, n);
}

static void w_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *fg)
{
	struct fs_ctl *t = ctl_of(req);
	size_t k = 0;
	for (size_t i = 0; i < count; i++)
		if (!is_ctl(t, fg[i].ino))
			fg[k++] = fg[i];
	t->orig.forget_multi(req, k, fg);
}

static void w_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (!is_ctl(t, ino)) {
		t->orig.getattr(req, ino, fi);
		return;
	}
	struct fuse_entry_param e;
	int r = ctl_entry(req, t, ino, &e, false);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &e.attr, 0);
}

static void w_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	struct ctl_file *f = file_of(t, ino);
	if (!f) {
		if (ino == dir_ino(t))
			fuse_reply_err(req, EISDIR);
		else
			t->orig.open(req, ino, fi);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EACCES);
		return;
	}
	struct ctl_blob *b;
	pthread_mutex_lock(&t->lock);
	int r = refresh(t, f, &b, true, false);
	pthread_mutex_unlock(&t->lock);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)b;
	/* reads end where this result ends, whatever size the kernel last saw */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		pthread_mutex_lock(&t->lock);
		blob_unref(b);
		pthread_mutex_unlock(&t->lock);
	}
}

static void w_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (!file_of(t, ino)) {
		t->orig.read(req, ino, size, off, fi);
		return;
	}
	struct ctl_blob *b = (struct ctl_blob *)(uintptr_t)fi->fh;
	const struct exp_pieces *p = &b->pieces;
	const off_t end_off = (off_t)p->size;
	if (off < 0 || off >= end_off || !size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if ((uint64_t)size > (uint64_t)(end_off - off))
		size = (size_t)(end_off - off);
	size_t first = exp_pieces_find(p, (uint64_t)off), end = first;
	while (end < p->n && p->v[end].start < (uint64_t)off + size)
		end++;
	if (exp_pieces_check(p, first, end)) {
		syslog(LOG_ERR, "%s/%s: a cache entry changed on disk while in use", FS_CTL_NAME,
		       file_of(t, ino)->name);
		fuse_reply_err(req, EIO);
		return;
	}
	struct fuse_bufvec *bv = calloc(1, sizeof(*bv) + (end - first) * sizeof(bv->buf[0]));
	if (!bv) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	bv->count = end - first;
	for (size_t i = first; i < end; i++) {
		const struct exp_piece *x = &p->v[i];
		uint64_t from = i == first ? (uint64_t)off - x->start : 0;
		uint64_t stop = x->start + x->len < (uint64_t)off + size ? x->len
									   : (uint64_t)off + size - x->start;
		struct fuse_buf *fb = &bv->buf[i - first];
		fb->flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		fb->fd = x->fd == EXP_PIECE_OUTPUT ? b->fd : x->fd;
		fb->pos = (off_t)(x->off + from);
		fb->size = (size_t)(stop - from);
	}
	fuse_reply_data(req, bv, 0);
	free(bv);
}

static void w_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (!file_of(t, ino)) {
		t->orig.release(req, ino, fi);
		return;
	}
	pthread_mutex_lock(&t->lock);
	blob_unref((struct ctl_blob *)(uintptr_t)fi->fh);
	pthread_mutex_unlock(&t->lock);
	fuse_reply_err(req, 0);
}

static void w_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (file_of(t, ino)) {
		fuse_reply_err(req, ENOTDIR);
	} else if (ino == dir_ino(t)) {
		fi->fh = 0;
		fuse_reply_open(req, fi);
	} else {
		t->orig.opendir(req, ino, fi);
	}
}

/* The listing of the control directory: ".", "..", then the configured names. Entries of
 * readdirplus carry no inode (ino 0), so listing it never starts an export. */
static void ctl_readdir(fuse_req_t req, struct fs_ctl *t, size_t size, off_t off, bool is_plus)
{
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	for (size_t i = (size_t)off; i < t->n_files + 2; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." : t->files[i - 2].name;
		struct fuse_entry_param e = {0};
		e.attr.st_ino = i == 0 ? CTL_INO_BASE : i == 1 ? 1 : CTL_INO_BASE + i - 1;
		e.attr.st_mode = i < 2 ? S_IFDIR : S_IFREG;
		size_t need = is_plus ? fuse_add_direntry_plus(req, buf + used, size - used, name,
							       &e, (off_t)i + 1)
				      : fuse_add_direntry(req, buf + used, size - used, name,
							  &e.attr, (off_t)i + 1);
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void w_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (ino == dir_ino(t))
		ctl_readdir(req, t, size, off, false);
	else
		t->orig.readdir(req, ino, size, off, fi);
}

static void w_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (ino == dir_ino(t))
		ctl_readdir(req, t, size, off, true);
	else
		t->orig.readdirplus(req, ino, size, off, fi);
}

static void w_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (ino == dir_ino(t))
		fuse_reply_err(req, 0);
	else
		t->orig.releasedir(req, ino, fi);
}

static void w_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct fs_ctl *t = ctl_of(req);
	if (is_ctl(t, ino))
		fuse_reply_err(req, mask & W_OK ? EACCES : 0);
	else
		t->orig.access(req, ino, mask);
}

static void w_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs_ctl *t = ctl_of(req);
	if (is_ctl(t, ino))
		fuse_reply_err(req, ENODATA);
	else
		t->orig.getxattr(req, ino, name, size);
}

static void w_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs_ctl *t = ctl_of(req);
	if (!is_ctl(t, ino))
		t->orig.listxattr(req, ino, size);
	else if (size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_xattr(req, 0);
}

static void w_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_ctl *t = ctl_of(req);
	t->orig.statfs(req, is_ctl(t, ino) ? FUSE_ROOT_ID : ino);
}

static void w_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (is_ctl(t, ino))
		fuse_reply_err(req, 0);
	else
		t->orig.flush(req, ino, fi);
}

static void w_fsync(fuse_req_t req, fuse_ino_t ino, int ds, struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (is_ctl(t, ino))
		fuse_reply_err(req, 0);
	else
		t->orig.fsync(req, ino, ds, fi);
}

static void w_fsyncdir(fuse_req_t req, fuse_ino_t ino, int ds, struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (is_ctl(t, ino))
		fuse_reply_err(req, 0);
	else
		t->orig.fsyncdir(req, ino, ds, fi);
}

static void w_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		    struct fuse_file_info *fi)
{
	struct fs_ctl *t = ctl_of(req);
	if (is_ctl(t, ino))
		fuse_reply_err(req, ENOSYS); /* the kernel falls back to its generic lseek */
	else
		t->orig.lseek(req, ino, off, whence, fi);
}

static void w_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_ctl *t = ctl_of(req);
	if (is_ctl(t, ino))
		fuse_reply_err(req, EINVAL);
	else
		t->orig.readlink(req, ino);
}

/* The modifying requests: refused on control inodes, otherwise passed on between two bumps
 * of the generation (one before, so a lookup racing the change exports again; one after, so
 * an export that read the view mid-change is not reused). */
#define REFUSE_OR_PASS(cond, call)                                                                 \
	do {                                                                                       \
		struct fs_ctl *t_ = ctl_of(req);                                                   \
		if (cond) {                                                                        \
			fuse_reply_err(req, EPERM);                                                \
			return;                                                                    \
		}                                                                                  \
		bump(t_);                                                                          \
		t_->orig.call;                                                                     \
		bump(t_);                                                                          \
	} while (0)
#define T ctl_of(req)

static void w_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *a, int to_set,
		      struct fuse_file_info *fi)
{
	REFUSE_OR_PASS(is_ctl(T, ino), setattr(req, ino, a, to_set, fi));
}

static void w_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *b, off_t off,
			struct fuse_file_info *fi)
{
	REFUSE_OR_PASS(is_ctl(T, ino), write_buf(req, ino, b, off, fi));
}

static void w_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	REFUSE_OR_PASS(is_ctl(T, ino), fallocate(req, ino, mode, off, len, fi));
}

static void w_copy_file_range(fuse_req_t req, fuse_ino_t in, off_t off_in,
			      struct fuse_file_info *fi_in, fuse_ino_t out, off_t off_out,
			      struct fuse_file_info *fi_out, size_t len, int flags)
{
	REFUSE_OR_PASS(is_ctl(T, in) || is_ctl(T, out),
		       copy_file_range(req, in, off_in, fi_in, out, off_out, fi_out, len, flags));
}

static void w_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		       size_t size, int flags)
{
	REFUSE_OR_PASS(is_ctl(T, ino), setxattr(req, ino, name, value, size, flags));
}

static void w_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	REFUSE_OR_PASS(is_ctl(T, ino), removexattr(req, ino, name));
}

static void w_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi)
{
	REFUSE_OR_PASS(is_ctl(T, parent), create(req, parent, name, mode, fi));
}

static void w_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	REFUSE_OR_PASS(is_ctl(T, parent), mknod(req, parent, name, mode, rdev));
}

static void w_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	REFUSE_OR_PASS(is_ctl(T, parent), mkdir(req, parent, name, mode));
}

static void w_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	REFUSE_OR_PASS(is_ctl(T, parent), symlink(req, link, parent, name));
}

static void w_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	REFUSE_OR_PASS(is_ctl(T, ino) || is_ctl(T, newparent), link(req, ino, newparent, newname));
}

static void w_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	REFUSE_OR_PASS(is_ctl(T, parent) || (parent == FUSE_ROOT_ID && !strcmp(name, FS_CTL_NAME)),
		       unlink(req, parent, name));
}

static void w_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	REFUSE_OR_PASS(is_ctl(T, parent) || (parent == FUSE_ROOT_ID && !strcmp(name, FS_CTL_NAME)),
		       rmdir(req, parent, name));
}

static void w_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags)
{
	REFUSE_OR_PASS(is_ctl(T, parent) || is_ctl(T, newparent) ||
			   (parent == FUSE_ROOT_ID && !strcmp(name, FS_CTL_NAME)),
		       rename(req, parent, name, newparent, newname, flags));
}

int fs_ctl_new(struct fs_ctx *c, const struct rf_fs_options *o, struct rf_err *err)
{
	struct fs_ctl *t = calloc(1, sizeof(*t));
	if (!t)
		return rf_err_set(err, ENOMEM, "out of memory");
	t->tmp_dirfd = -1;
	c->ctl = t;
	pthread_mutex_init(&t->lock, NULL);
	t->export = o->export;
	t->export_arg = o->export_arg;
	t->lower = c->view;
	t->lower_digest = ovl_view_host_digest(c->view);
	for (const char *const *n = o->export_names; n && *n; n++)
		t->n_files++;
	t->files = calloc(t->n_files ? t->n_files : 1, sizeof(*t->files));
	if (!t->files)
		return rf_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n_files; i++)
		t->files[i].name = o->export_names[i];
	char *work = state_sub(o->state_dir, STATE_WORK);
	if (!work)
		return rf_err_set(err, ENOMEM, "out of memory");
	t->tmp_dirfd = open(work, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int e = errno;
	free(work);
	if (t->tmp_dirfd < 0)
		return rf_err_errno(err, e, "%s/%s", o->state_dir, STATE_WORK);
	return 0;
}

void fs_ctl_free(struct fs_ctx *c)
{
	struct fs_ctl *t = c->ctl;
	if (!t)
		return;
	for (size_t i = 0; i < t->n_files; i++)
		blob_unref(t->files[i].blob);
	free(t->files);
	if (t->tmp_dirfd >= 0)
		close(t->tmp_dirfd);
	pthread_mutex_destroy(&t->lock);
	free(t);
	c->ctl = NULL;
}

void fs_ctl_ops(struct fs_ctx *c, struct fuse_lowlevel_ops *ops)
{
	struct fs_ctl *t = c->ctl;
	t->orig = *ops;
	ops->lookup = w_lookup;
	ops->forget = w_forget;
	ops->forget_multi = w_forget_multi;
	ops->getattr = w_getattr;
	ops->setattr = w_setattr;
	ops->open = w_open;
	ops->read = w_read;
	ops->release = w_release;
	ops->opendir = w_opendir;
	ops->readdir = w_readdir;
	ops->readdirplus = w_readdirplus;
	ops->releasedir = w_releasedir;
	ops->access = w_access;
	ops->getxattr = w_getxattr;
	ops->listxattr = w_listxattr;
	ops->statfs = w_statfs;
	ops->flush = w_flush;
	ops->fsync = w_fsync;
	ops->fsyncdir = w_fsyncdir;
	ops->lseek = w_lseek;
	ops->readlink = w_readlink;
	ops->write_buf = w_write_buf;
	ops->fallocate = w_fallocate;
	ops->copy_file_range = w_copy_file_range;
	ops->setxattr = w_setxattr;
	ops->removexattr = w_removexattr;
	ops->create = w_create;
	ops->mknod = w_mknod;
	ops->mkdir = w_mkdir;
	ops->symlink = w_symlink;
	ops->link = w_link;
	ops->unlink = w_unlink;
	ops->rmdir = w_rmdir;
	ops->rename = w_rename;
}
