/* Making a device node, fifo or socket in a rootfs-fuse mount as an ordinary user: the client
 * side of the mount's mknod xattr (the server is fs/ops_xattr.c, mknod_by_xattr; docs/mount.md,
 * "Device nodes"). Shared by `rootfs-fuse mknod` and the `rootfs-fuse shell` supervisor. */
#ifndef RF_XMKNOD_H
#define RF_XMKNOD_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/* The xattr a rootfs-fuse mount answers on every directory: reading it gives "1" (the marker
 * that tells our mount from any other directory), writing "NAME MODE MAJOR MINOR" to it makes
 * NAME (fs/internal.h spells it FS_MKNOD_XATTR). */
#define XMKNOD_XATTR "user.rootfs-fuse.mknod"

/* Is dirfd (a directory opened for reading, not O_PATH: fgetxattr(2) needs a real descriptor)
 * a directory of a rootfs-fuse mount: on a FUSE filesystem (fstatfs(2)) and answering
 * XMKNOD_XATTR with "1"? Any failure reads as "no"; errno is not meaningful afterwards. */
bool xmknod_is_mount_dir(int dirfd);

/* Make name (one path component, no '/', not "." or "..", at most NAME_MAX bytes) in the
 * rootfs-fuse directory dirfd (checked with xmknod_is_mount_dir first) with mode (type bits
 * S_IFCHR, S_IFBLK, S_IFIFO or S_IFSOCK plus permission bits, already masked by the caller's
 * umask as mknod(2) would) and device numbers major:minor (0:0 for a fifo or socket). label
 * names the node in messages (the path as the user wrote it). Returns once a lookup through
 * dirfd sees the node (at most 1.5 s: the kernel may hold a negative entry for name until the
 * mount drops it, after its reply). Returns 0 or a negative errno with err filled ("LABEL:
 * File exists"): -EEXIST when name exists, -EINVAL for a name that is not one component
 * (spaces are fine), or what else fsetxattr(2) got from the mount. */
int xmknod_make(int dirfd, const char *name, mode_t mode, unsigned major, unsigned minor,
		const char *label, struct rf_err *err);

#endif
