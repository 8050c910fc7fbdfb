/* The copy-on-write upper layer on disk (design.md, "The upper layer"): a plain directory whose
 * entries carry the guest's metadata in user. xattrs (meta.h), OCI whiteouts (.wh.NAME) and
 * opaque markers (.wh..wh..opq). Every access goes through *at() calls on directory file
 * descriptors with O_NOFOLLOW, so no symlink in the upper layer is ever followed on the host.
 * Copy-up writes into STATE/work and renames into place, so a crash leaves either the old or
 * the new entry. No FUSE here: fs/ calls this. Not thread-safe: the caller serializes changes
 * of one directory (fs/ holds its tree lock). */
#ifndef RF_UPPER_H
#define RF_UPPER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"
#include "view.h"

struct ovl_upper;

/* The guest's view of one upper entry. */
struct upper_stat {
	struct stat st; /* the host's stat of the upper file, with st_mode, st_uid, st_gid,
			 * st_rdev and st_size replaced by the guest's */
	bool has_override;
};

/* Open (creating as needed) STATE/upper and STATE/work under state_dir, take the state
 * directory for this process (another holder: -EBUSY, "in use by another mount"; the lock is
 * released by upper_close or when the process and its children are gone), empty STATE/work of
 * what an interrupted copy-up left, and check that the filesystem keeps user. xattrs (the
 * guest's owners and device numbers live there): -ENOTSUP with a one-line message if not.
 * *out is owned: upper_close. Returns 0 or a negative errno. */
int upper_open(const char *state_dir, struct ovl_upper **out, struct rf_err *err);

void upper_close(struct ovl_upper *u);

/* O_PATH descriptor of the upper root directory, borrowed (valid until upper_close). */
int upper_root_fd(const struct ovl_upper *u);

/* The host mode an upper file is given for guest mode mode: the guest's permission bits plus
 * u+rw (u+rwx for directories) so the mounting user can always reach it, without setuid,
 * setgid or sticky bits. */
mode_t upper_real_mode(mode_t mode);

/* stat the upper entry behind O_PATH descriptor fd, as the guest sees it (override applied).
 * Returns 0 or a negative errno. */
int upper_stat(int fd, struct upper_stat *out);

/* Replace the guest metadata of the entry behind fd (mode with type bits, uid, gid, rdev) and
 * give the host file upper_real_mode. A host symlink cannot carry user. xattrs: -ENOTSUP (the
 * caller decides; upper_store_symlink turns it into a file that can). Returns 0 or a negative
 * errno. */
int upper_set_override(int fd, const struct ovl_attr *a);

/* Must a symlink with metadata a and n_xattrs guest xattrs be stored as a regular file holding
 * its target (meta.h), rather than as a host symlink (which keeps no user. xattrs)? True for
 * an owner other than 0:0 or any xattr. */
bool upper_link_needs_file(const struct ovl_attr *a, size_t n_xattrs);

/* Target of the upper symlink behind fd, a host symlink or one stored as a file (meta.h), into
 * buf (size bytes, at least PATH_MAX), NUL-terminated. Returns its length, -EINVAL when the
 * entry is no symlink, -EIO for a stored target that is empty, too long or holds a NUL, or
 * another negative errno. */
ssize_t upper_readlink(int fd, char *buf, size_t size);

/* Turn the host symlink behind O_PATH descriptor fd into the stored form (meta.h): a regular
 * file holding the target with override a (its type forced to S_IFLNK|0777) and the symlink's
 * mtime, built in STATE/work and renamed over the symlink's name, so a crash leaves one or the
 * other; the parent directory's times are kept. The name is found from the descriptor (the
 * one it was opened by, or moved to): a symlink with several hard links keeps its other names.
 * On success *out_fd is an O_PATH descriptor of the new file (caller closes; fd still refers
 * to the old symlink). Returns 0, -EINVAL (not a host symlink), -ESTALE (no longer in the upper
 * layer) or another negative errno. */
int upper_store_symlink(struct ovl_upper *u, int fd, const struct ovl_attr *a, int *out_fd);

/* Open name in directory dir_fd as an O_PATH|O_NOFOLLOW descriptor (*out, caller closes).
 * Returns 0, -ENOENT or another negative errno. */
int upper_open_path(int dir_fd, const char *name, int *out);

/* Reopen an O_PATH descriptor with open(2) flags (O_CREAT, O_EXCL, O_NOFOLLOW dropped).
 * Returns the new descriptor or a negative errno. */
int upper_reopen(int fd, int flags);

/* Copy lower node n up as dir_fd/name: built in STATE/work with the guest's metadata (override
 * xattr, mapped xattrs, times) and, when has_data, the content (holes kept); a symlink with an
 * owner or xattrs is stored as a file (upper_link_needs_file). Then renamed into
 * place without replacing anything (-EEXIST). Directories are created empty; with is_opaque the
 * opaque marker is put inside. dir_fd's times are restored afterwards: a copy-up is no change
 * the guest can see. On success *out_fd (may be NULL) is an O_PATH descriptor of the new entry
 * (caller closes). Returns 0 or a negative errno with err filled. */
int upper_copy_up(struct ovl_upper *u, int dir_fd, const char *name, const struct ovl_node *n,
		  bool has_data, bool is_opaque, int *out_fd, struct rf_err *err);

/* Create a new entry dir_fd/name for the guest: a (empty) regular file, a directory, a device
 * node, fifo or socket (stored as an empty regular file with the override), with owner uid:gid
 * and mode (type bits included) and device numbers from a. Directories are built in STATE/work
 * and renamed in, with the opaque marker when is_opaque. -EEXIST when name exists.
 * On success *out_fd is an O_PATH descriptor (caller closes). */
int upper_create(struct ovl_upper *u, int dir_fd, const char *name, const struct ovl_attr *a,
		 bool is_opaque, int *out_fd);

/* Create the symlink dir_fd/name -> target for the guest with owner a->uid:a->gid and mtime
 * (a's type and mode are ignored: 0777): a host symlink when upper_link_needs_file says no,
 * else stored as a file. Built in STATE/work and renamed in; -EEXIST when name exists. On
 * success *out_fd is an O_PATH descriptor (caller closes). Returns 0 or a negative errno. */
int upper_symlink(struct ovl_upper *u, int dir_fd, const char *name, const char *target,
		  const struct ovl_attr *a, int *out_fd);

/* Create a regular file dir_fd/name and return it open with flags (O_CREAT|O_EXCL implied) in
 * *out_fd, and an O_PATH descriptor in *out_path. Returns 0 or a negative errno. */
int upper_create_open(int dir_fd, const char *name, const struct ovl_attr *a, int flags,
		      int *out_fd, int *out_path);

/* Whiteouts: does dir_fd hold ".wh.NAME"; put one (idempotent); remove one (absent: 0). */
bool upper_has_whiteout(int dir_fd, const char *name);
int upper_put_whiteout(int dir_fd, const char *name);
int upper_drop_whiteout(int dir_fd, const char *name);

/* Opaque marker of the directory behind dir_fd: test, or put one (idempotent). */
bool upper_is_opaque(int dir_fd);
int upper_make_opaque(int dir_fd);

/* Does the upper directory dir_fd hold anything but whiteouts and the opaque marker? Returns
 * 1 (yes), 0 (no) or a negative errno. */
int upper_dir_has_entries(int dir_fd);

/* Remove the upper directory dir_fd/name together with the whiteouts and opaque marker it
 * holds (it must have no other entries: -ENOTEMPTY). */
int upper_remove_dir(int dir_fd, const char *name);

/* Guest xattrs of the upper entry behind fd, mapped as meta.h says (NAME is stored as
 * user.rootfs-fuse.xattr.NAME). get/list follow getxattr(2)/listxattr(2) (size 0 asks for the
 * length); list gives guest names. Return a length, 0 or a negative errno. */
ssize_t upper_getxattr(int fd, const char *name, void *buf, size_t size);
ssize_t upper_listxattr(int fd, char *buf, size_t size);
int upper_setxattr(int fd, const char *name, const void *val, size_t size, int flags);
int upper_removexattr(int fd, const char *name);

/* Is name one the guest may not create in the view's root (".rootfs-fuse", the hidden
 * control directory), or anywhere (".wh." names, which the upper layer uses)? */
bool upper_name_reserved(bool in_root, const char *name);

#endif
