/* Extended attributes of the FUSE frontend (getxattr(2) family semantics): a lower node's come
 * from the view, an upper entry's from its mapped user.rootfs-fuse.xattr.NAME attributes
 * (meta.h); setting one copies the entry up first. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#define LOCK(c) pthread_mutex_lock(&(c)->lock)
#define UNLOCK(c) pthread_mutex_unlock(&(c)->lock)

/* Reply the size (size 0) or the value, as getxattr(2) does. */
static void reply_value(fuse_req_t req, const void *val, ssize_t n, size_t size)
{
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (!size)
		fuse_reply_xattr(req, (size_t)n);
	else if ((size_t)n > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, val, (size_t)n);
}

static void do_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t n = -ENODATA;
	const void *val = buf;
	if (S_ISDIR(in->type) && !strcmp(name, FS_MKNOD_XATTR)) {
		/* lets `rootfs-fuse mknod` tell our mount from any other directory */
		reply_value(req, "1", 1, size);
		free(buf);
		return;
	}
	LOCK(c);
	if (in->upper_fd >= 0) {
		n = upper_getxattr(in->upper_fd, name, size ? buf : NULL, size);
	} else {
		for (size_t i = 0; i < in->lower->n_xattrs; i++)
			if (!strcmp(in->lower->xattrs[i].name, name)) {
				n = (ssize_t)in->lower->xattrs[i].size;
				if (size && (size_t)n <= size)
					memcpy(buf, in->lower->xattrs[i].value, (size_t)n);
				break;
			}
	}
	UNLOCK(c);
	reply_value(req, val, n, size);
	free(buf);
}

static void do_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t n = 0;
	LOCK(c);
	if (in->upper_fd >= 0) {
		n = upper_listxattr(in->upper_fd, size ? buf : NULL, size);
	} else {
		for (size_t i = 0; i < in->lower->n_xattrs && n >= 0; i++) {
			size_t l = strlen(in->lower->xattrs[i].name) + 1;
			if (size && (size_t)n + l > size)
				n = -ERANGE;
			else if (size)
				memcpy(buf + n, in->lower->xattrs[i].name, l);
			if (n >= 0)
				n += (ssize_t)l;
		}
	}
	UNLOCK(c);
	reply_value(req, buf, n, size);
	free(buf);
}

/* The kernel refuses mknod(2) of a device to anyone without CAP_MKNOD before a filesystem is
 * asked (vfs_mknod), so an ordinary user makes one through this xattr of the parent
 * directory, value "NAME MODE MAJOR MINOR" (MODE octal with the type bits); `rootfs-fuse
 * mknod` and `rootfs-fuse shell` write it (intercept/xmknod.c). NAME may hold spaces: the
 * numbers are the last three fields. The kernel may hold a negative entry for NAME: drop it
 * afterwards. */
static void mknod_by_xattr(fuse_req_t req, fuse_ino_t ino, const char *value, size_t size)
{
	char buf[NAME_MAX + 64], *sep = NULL, extra;
	unsigned mode, maj, min;
	if (size >= sizeof(buf) || memchr(value, '\0', size)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	memcpy(buf, value, size);
	buf[size] = '\0';
	size_t end = size;
	for (int i = 0; i < 3 && end; i++) {
		sep = memrchr(buf, ' ', end);
		end = sep ? (size_t)(sep - buf) : 0;
	}
	const char *name = buf;
	if (sep)
		*sep = '\0';
	if (!sep || !*name || strlen(name) > NAME_MAX ||
	    sscanf(sep + 1, "%o %u %u %c", &mode, &maj, &min, &extra) != 3 || strchr(name, '/') ||
	    !strcmp(name, ".") || !strcmp(name, "..") || S_ISDIR(mode) || S_ISLNK(mode) ||
	    !(mode & S_IFMT)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	struct fuse_entry_param e;
	struct fs_ctx *c = fs_ctx(req);
	int r = fs_make_node(req, fs_inode(req, ino), name, mode, makedev(maj, min), &e);
	if (!r) {
		/* the entry was not handed to the kernel */
		LOCK(c);
		fs_forget(c, fs_inode(req, e.ino), 1);
		UNLOCK(c);
	}
	fuse_reply_err(req, -r);
	if (!r)
		fuse_lowlevel_notify_inval_entry(c->se, ino, name, strlen(name));
}

static void do_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	if (S_ISDIR(in->type) && !strcmp(name, FS_MKNOD_XATTR)) {
		mknod_by_xattr(req, ino, value, size);
		return;
	}
	LOCK(c);
	int r = fs_copy_up(c, in, true);
	/* a host symlink keeps no xattrs: store it as a file holding its target (meta.h) */
	if (!r && S_ISLNK(in->type))
		r = fs_symlink_to_file(c, in, NULL);
	if (!r)
		r = upper_setxattr(in->upper_fd, name, value, size, flags);
	UNLOCK(c);
	fuse_reply_err(req, -r);
}

static void do_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino);
	LOCK(c);
	int r = 0;
	if (in->upper_fd < 0) {
		/* removing what the lower node does not have changes nothing: no copy-up */
		r = -ENODATA;
		for (size_t i = 0; i < in->lower->n_xattrs; i++)
			if (!strcmp(in->lower->xattrs[i].name, name))
				r = 0;
	}
	if (!r)
		r = fs_copy_up(c, in, true);
	if (!r)
		r = upper_removexattr(in->upper_fd, name);
	UNLOCK(c);
	fuse_reply_err(req, -r);
}

void fs_xattr_ops(struct fuse_lowlevel_ops *ops)
{
	ops->getxattr = do_getxattr;
	ops->listxattr = do_listxattr;
	ops->setxattr = do_setxattr;
	ops->removexattr = do_removexattr;
}
