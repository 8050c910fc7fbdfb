/* On-disk conventions shared by the upper layer and the tree layer (design.md, "The upper
 * layer"): metadata an unprivileged user cannot set for real lives in user. xattrs, like
 * fuse-overlayfs's user.containers.override_stat; deletions are OCI whiteouts. */
#ifndef RF_META_H
#define RF_META_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "view.h"

/* "UID:GID:MODE[:MAJOR:MINOR]", MODE in octal with the file type bits (020644 is a char
 * device stored as an empty regular file).
 * Linux keeps no user. xattrs on symlinks, so a symlink whose owner is not 0:0 or that carries
 * guest xattrs is stored as a regular file whose content is the link target (1 to PATH_MAX-1
 * bytes, no NUL) and whose override says 0120777 ("1000:1000:0120777"). A symlink owned by 0:0
 * without xattrs stays a real host symlink; one stored as a file stays so, even when chowned
 * back to 0:0. */
#define META_XATTR_OVERRIDE "user.rootfs-fuse.override_stat"
/* A guest xattr NAME (security.capability, trusted.x, user.y) is stored as this prefix+NAME. */
#define META_XATTR_PREFIX "user.rootfs-fuse.xattr."
/* Every xattr of ours starts with this; other user. xattrs of a tree pass through as they are. */
#define META_XATTR_OURS "user.rootfs-fuse."
#define META_WHITEOUT_PREFIX ".wh."
#define META_OPAQUE_MARKER ".wh..wh..opq"

/* Parse an override value of len bytes into a (mode, uid, gid, rdev). Returns 0 or -EINVAL. */
int meta_override_parse(const char *val, size_t len, struct ovl_attr *a);

/* Format the override of a into buf (size bytes, at least 64). Returns the length. */
int meta_override_format(const struct ovl_attr *a, char *buf, size_t size);

/* Read the guest-visible xattrs of the host file at path (not following a final symlink):
 * ours mapped back (user.rootfs-fuse.xattr.NAME -> NAME), other user.* and
 * security.capability as they are, nothing else of the host. When override is non-NULL and the
 * file carries the override xattr, *has_override is set and override filled.
 * On success *out is a malloc'd array of *n entries (free each name and value, then the
 * array). Filesystems without xattr support give an empty list. Returns 0 or -errno. */
int meta_read_xattrs(const char *path, struct ovl_xattr **out, size_t *n,
		     struct ovl_attr *override, bool *has_override);

/* Read the target of a symlink stored as a regular file (see META_XATTR_OVERRIDE) from fd,
 * open for reading, at offset 0, into buf (size bytes, at least PATH_MAX), NUL-terminated.
 * Returns the target's length, -ENAMETOOLONG for PATH_MAX bytes or more, -ENOENT for an empty
 * target, -EINVAL for one holding a NUL byte, or another negative errno from read(2). */
ssize_t meta_read_link_file(int fd, char *buf, size_t size);

/* Is name a whiteout (".wh.X" other than the opaque marker)? */
bool meta_is_whiteout(const char *name);

#endif
