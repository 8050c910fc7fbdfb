/* The FUSE frontend's public surface (no FUSE header here: cli/ includes this). It mounts the
 * merged view of a SPEC's lower layers with the copy-on-write upper layer of upper.h on top,
 * through libfuse3's low-level API; docs/mount.md describes the semantics. */
#ifndef RF_FS_H
#define RF_FS_H

#include <stdbool.h>

#include "err.h"

struct ovl_view;
struct exp_pieces;

struct rf_fs_options {
	const char *mountpoint; /* an existing empty directory */
	const char *state_dir;	/* STATE: upper/ and work/ live there (state.h) */
	bool foreground;	/* stay attached to the terminal instead of daemonizing */
	const char *fuse_opts;	/* extra -o options ("allow_other,default_permissions"), or NULL */
	/* The control directory /.rootfs-fuse (docs/mount.md): export_names (NULL-terminated,
	 * borrowed for the mount's life; NULL: an empty directory) are its files. Looking one
	 * up after the view changed (a modifying request, or a host file under the lower view
	 * changed: ovl_view_host_digest) calls export(export_arg, lower, is_lower_stale, name,
	 * fd, pieces, err), which exports the current view (lower, the mount's lower view, with
	 * STATE/upper on top; is_lower_stale: a host file under lower changed since the mount,
	 * so the lower layers must be read again) in the format name's suffix implies, as
	 * exp_export_fd does with
	 * exp_options.pieces = pieces (exporters/pieces.h): fd is an empty, unlinked O_RDWR
	 * file for what it writes, pieces an empty list the result is described in. Returns
	 * 0 or a negative errno with err filled. It runs in a FUSE worker thread, one export
	 * at a time, while other threads read lower. */
	const char *const *export_names;
	int (*export)(void *arg, const struct ovl_view *lower, bool is_lower_stale,
		      const char *name, int fd, struct exp_pieces *pieces, struct rf_err *err);
	void *export_arg;
};

/* Mount lower (the view of the lower layers, built without the upper layer; the mount owns
 * it from here on and frees it) at o->mountpoint, detach unless o->foreground once the mount
 * is in place, and serve requests until it is unmounted or the process gets SIGTERM/SIGINT.
 * Checks first that the mount point is an empty directory and that the state directory
 * keeps user xattrs. Returns 0 after a clean unmount, or a negative errno with err filled
 * (before detaching, so the caller can print it). */
int rf_fs_mount(struct ovl_view *lower, const struct rf_fs_options *o, struct rf_err *err);

/* Unmount the rootfs-fuse mount at mountpoint (fusermount3 -u, or umount2 as root).
 * Returns 0 or a negative errno with err filled. */
int rf_fs_umount(const char *mountpoint, struct rf_err *err);

#endif
