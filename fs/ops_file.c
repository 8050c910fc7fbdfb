/* File operations of the FUSE frontend (fuse_lowlevel.h): attributes (the guest's owner, mode
 * and device numbers live in the upper file's override xattr, meta.h), open with copy-up on
 * the first write, reads spliced from a host descriptor (FUSE_BUF_IS_FD) wherever the content
 * is a host file, writes spliced to the upper file, fsync, fallocate, lseek and
 * copy_file_range. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOCK(c) pthread_mutex_lock(&(c)->lock)
#define UNLOCK(c) pthread_mutex_unlock(&(c)->lock)

/* An open file: a host descriptor (upper file, or a lower layer's host file), or a lower
 * node whose content the layer produces. */
struct fs_file {
	int fd;
	const struct ovl_node *node;
};

static struct fs_file *fh(struct fuse_file_info *fi)
{
	return (struct fs_file *)(uintptr_t)fi->fh;
}

static void do_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	struct stat st;
	LOCK(c);
	int r = fs_stat(c, in, &st);
	double t = fs_timeout(in);
	UNLOCK(c);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, t);
}

static int set_times(int fd, const struct stat *attr, int to_set)
{
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return utimensat(AT_FDCWD, p, ts, 0) ? -errno : 0;
}

static int setattr_locked(struct fs_ctx *c, struct fs_inode *in, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	bool is_trunc0 = (to_set & FUSE_SET_ATTR_SIZE) && attr->st_size == 0;
	int r = fs_copy_up(c, in, !is_trunc0);
	if (r)
		return r;
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		struct upper_stat us;
		if ((r = upper_stat(in->upper_fd, &us)))
			return r;
		struct ovl_attr a = {.mode = us.st.st_mode,
				     .uid = us.st.st_uid,
				     .gid = us.st.st_gid,
				     .rdev_major = major(us.st.st_rdev),
				     .rdev_minor = minor(us.st.st_rdev)};
		if (to_set & FUSE_SET_ATTR_MODE)
			a.mode = (a.mode & S_IFMT) | (attr->st_mode & 07777);
		if (to_set & FUSE_SET_ATTR_UID)
			a.uid = attr->st_uid;
		if (to_set & FUSE_SET_ATTR_GID)
			a.gid = attr->st_gid;
		r = upper_set_override(in->upper_fd, &a);
		/* a host symlink keeps no xattrs: one owned by anyone but root becomes a file
		 * holding its target (meta.h); root:root needs nothing stored */
		if (r == -ENOTSUP && S_ISLNK(in->type))
			r = a.uid || a.gid ? fs_symlink_to_file(c, in, &a) : 0;
		if (r)
			return r;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (!S_ISREG(in->type))
			return -EINVAL;
		struct fs_file *f = fi ? fh(fi) : NULL;
		int fd = f && f->fd >= 0 && !f->node ? f->fd : upper_reopen(in->upper_fd, O_WRONLY);
		if (fd < 0)
			return fd;
		r = ftruncate(fd, attr->st_size) ? -errno : 0;
		if (!f || fd != f->fd)
			close(fd);
		if (r)
			return r;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		      FUSE_SET_ATTR_MTIME_NOW))
		r = set_times(in->upper_fd, attr, to_set);
	return r;
}

static void do_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	struct stat st;
	LOCK(c);
	int r = setattr_locked(c, in, attr, to_set, fi);
	if (!r)
		r = fs_stat(c, in, &st);
	double t = fs_timeout(in);
	UNLOCK(c);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, t);
}

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static void do_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	struct fs_file *f = calloc(1, sizeof(*f));
	if (!f) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	f->fd = -1;
	int r = 0;
	LOCK(c);
	if (wants_write(fi->flags))
		r = fs_copy_up(c, in, !(fi->flags & O_TRUNC));
	if (!r && in->upper_fd >= 0) {
		f->fd = upper_reopen(in->upper_fd, fi->flags);
		if (f->fd < 0)
			r = f->fd;
	} else if (!r) {
		const struct ovl_node *n = in->lower;
		if (n->src.kind == OVL_SRC_HOST) {
			f->fd = open(n->src.host_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (f->fd < 0)
				r = -errno;
		} else {
			f->node = n;
		}
		/* lower content never changes while mounted */
		fi->keep_cache = 1;
	}
	UNLOCK(c);
	if (r) {
		free(f);
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)f;
	/* writes reach the upper file at once: close(2) has nothing to flush, spare the trip */
	fi->noflush = 1;
	fuse_reply_open(req, fi);
}

static void do_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *dir = fs_inode(req, parent);
	struct fuse_entry_param e;
	struct fs_file *f = calloc(1, sizeof(*f));
	struct ovl_attr a = {.mode = S_IFREG | (mode & 07777)};
	fs_new_owner(c, req, &a);
	int r = f ? 0 : -ENOMEM, pfd = -1;
	LOCK(c);
	struct fs_child ch;
	if (!r && upper_name_reserved(dir == &c->root, name))
		r = -EPERM;
	if (!r && !(r = fs_child_find(c, dir, name, &ch))) {
		fs_child_release(&ch);
		r = -EEXIST;
	} else if (r == -ENOENT) {
		r = fs_copy_up(c, dir, false);
	}
	if (!r)
		r = upper_create_open(dir->upper_fd, name, &a, fi->flags, &f->fd, &pfd);
	if (!r) {
		upper_drop_whiteout(dir->upper_fd, name);
		struct fs_inode *in = fs_record_new_upper(c, pfd);
		r = in ? fs_entry(c, in, &e) : -ENOMEM;
	}
	UNLOCK(c);
	if (r) {
		if (f && f->fd > 0)
			close(f->fd);
		free(f);
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->noflush = 1;
	fuse_reply_create(req, &e, fi);
}

static void do_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	struct fs_file *f = fh(fi);
	if (!f->node) {
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = f->fd;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	struct rf_err err = {0};
	ssize_t n = ovl_node_pread(f->node, buf, size, (uint64_t)off, &err);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void do_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off,
			 struct fuse_file_info *fi)
{
	(void)ino;
	struct fs_file *f = fh(fi);
	if (f->node) {
		fuse_reply_err(req, EBADF);
		return;
	}
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in_buf));
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = f->fd;
	out.buf[0].pos = off;
	ssize_t n = fuse_buf_copy(&out, in_buf, 0);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void do_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	/* writes reach the upper file at once: nothing is held back here (and opens ask the
	 * kernel not to send this at all) */
	fuse_reply_err(req, 0);
}

static void do_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct fs_file *f = fh(fi);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	fuse_reply_err(req, 0);
}

static void do_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	struct fs_file *f = fh(fi);
	int r = 0;
	if (!f->node && (datasync ? fdatasync(f->fd) : fsync(f->fd)))
		r = errno;
	fuse_reply_err(req, r == EBADF || r == EINVAL ? 0 : r);
}

static void do_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	(void)ino;
	struct fs_file *f = fh(fi);
	if (f->node) {
		fuse_reply_err(req, EBADF);
		return;
	}
	fuse_reply_err(req, fallocate(f->fd, mode, offset, length) ? errno : 0);
}

static void do_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	(void)ino;
	struct fs_file *f = fh(fi);
	if (f->node) {
		off_t size = (off_t)f->node->attr.size;
		if (whence != SEEK_DATA && whence != SEEK_HOLE) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		if (off >= size) {
			fuse_reply_err(req, ENXIO);
			return;
		}
		fuse_reply_lseek(req, whence == SEEK_DATA ? off : size);
		return;
	}
	off_t r = lseek(f->fd, off, whence);
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
}

static void do_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	(void)ino_in;
	(void)ino_out;
	struct fs_file *fin = fh(fi_in), *fout = fh(fi_out);
	if (fout->node) {
		fuse_reply_err(req, EBADF);
		return;
	}
	if (!fin->node) {
		ssize_t n =
		    copy_file_range(fin->fd, &off_in, fout->fd, &off_out, len, (unsigned)flags);
		if (n >= 0) {
			fuse_reply_write(req, (size_t)n);
			return;
		}
		if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS) {
			fuse_reply_err(req, errno);
			return;
		}
	}
	/* no in-kernel copy between these two: one bounded chunk through memory */
	size_t chunk = len < (1u << 20) ? len : (1u << 20);
	char *buf = malloc(chunk ? chunk : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	struct rf_err err = {0};
	ssize_t n = fin->node ? ovl_node_pread(fin->node, buf, chunk, (uint64_t)off_in, &err)
			      : pread(fin->fd, buf, chunk, off_in);
	if (n < 0) {
		fuse_reply_err(req, fin->node ? (int)-n : errno);
	} else {
		ssize_t w = n ? pwrite(fout->fd, buf, (size_t)n, off_out) : 0;
		if (w < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_write(req, (size_t)w);
	}
	free(buf);
}

static void do_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	char buf[PATH_MAX + 1];
	int r = 0;
	LOCK(c);
	if (!S_ISLNK(in->type)) {
		r = -EINVAL;
	} else if (in->upper_fd >= 0) {
		ssize_t n = upper_readlink(in->upper_fd, buf, sizeof(buf));
		if (n < 0)
			r = (int)n;
	} else {
		snprintf(buf, sizeof(buf), "%s",
			 in->lower->link_target ? in->lower->link_target : "");
	}
	UNLOCK(c);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, buf);
}

static void do_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	struct stat st;
	LOCK(c);
	int r = fs_stat(c, in, &st);
	UNLOCK(c);
	/* the mounting user is the guest's root: everything but executing a file without any
	 * x bit is allowed (with default_permissions the kernel checks instead) */
	if (!r && (mask & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
		r = -EACCES;
	fuse_reply_err(req, -r);
}

void fs_file_ops(struct fuse_lowlevel_ops *ops)
{
	ops->getattr = do_getattr;
	ops->setattr = do_setattr;
	ops->open = do_open;
	ops->create = do_create;
	ops->read = do_read;
	ops->write_buf = do_write_buf;
	ops->flush = do_flush;
	ops->release = do_release;
	ops->fsync = do_fsync;
	ops->fallocate = do_fallocate;
	ops->lseek = do_lseek;
	ops->copy_file_range = do_copy_file_range;
	ops->readlink = do_readlink;
	ops->access = do_access;
}
