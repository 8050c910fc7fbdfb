/* The client side of a rootfs-fuse mount's mknod xattr (xmknod.h); the value format
 * "NAME MODE MAJOR MINOR" is the one fs/ops_xattr.c (mknod_by_xattr) parses. */
#include "xmknod.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <time.h>

/* statfs(2) f_type of every FUSE filesystem (linux/magic.h has no name for it) */
#define FUSE_SUPER_MAGIC 0x65735546

/* how long xmknod_make waits for a new node to become visible */
#define WAIT_VISIBLE_MS 1500

bool xmknod_is_mount_dir(int dirfd)
{
	struct statfs sfs;
	char probe[8];
	if (fstatfs(dirfd, &sfs) || sfs.f_type != FUSE_SUPER_MAGIC)
		return false;
	ssize_t n = fgetxattr(dirfd, XMKNOD_XATTR, probe, sizeof(probe));
	return n == 1 && probe[0] == '1';
}

int xmknod_make(int dirfd, const char *name, mode_t mode, unsigned major, unsigned minor,
		const char *label, struct rf_err *err)
{
	char val[NAME_MAX + 64];
	if (!*name || strlen(name) > NAME_MAX || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return rf_err_set(err, EINVAL, "%s: a name the mount's mknod cannot make", label);
	snprintf(val, sizeof(val), "%s 0%o %u %u", name, (unsigned)mode, major, minor);
	if (fsetxattr(dirfd, XMKNOD_XATTR, val, strlen(val), 0))
		return rf_err_errno(err, errno, "%s", label);
	/* The mount can drop a negative dentry the kernel holds for name (a caller's lstat
	 * before mknod, as cpio -i does) only after replying to the setxattr, whose directory
	 * lock the invalidation needs. Until then the node looks absent: wait for it, at most
	 * past the mount's negative-entry timeout (FS_UPPER_TIMEOUT_S, 1 s). */
	struct stat st;
	for (int ms = 0; ms < WAIT_VISIBLE_MS; ms++) {
		if (!fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
			break;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	return 0;
}
