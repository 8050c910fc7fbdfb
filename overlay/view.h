/* The merged view: an in-memory tree of the lower layers, composed bottom first, newest wins
 * (directories merge, anything else replaces), with OCI-style whiteouts and opaque directories
 * as in the OCI image spec (image-spec/layer.md, "Whiteouts"). Children are kept sorted by name
 * (strcmp byte order), so a walk is stable and an export byte-identical for the same input. */
#ifndef RF_VIEW_H
#define RF_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct ovl_layer;
struct spec;

/* The name of the mount's hidden control directory in the view's root (docs/mount.md): no
 * layer may put anything there, so it is never part of a view or an export. */
#define OVL_CONTROL_DIR ".rootfs-fuse"

/* Metadata of one node, independent of who runs the tool. */
struct ovl_attr {
	uint32_t mode;       /* st_mode: file type bits and permission bits (07777) */
	uint32_t uid, gid;   /* owner in the guest */
	uint32_t rdev_major; /* device nodes only */
	uint32_t rdev_minor;
	uint64_t size;       /* regular files: bytes; symlinks: target length; others 0 */
	int64_t mtime_sec;   /* seconds since the epoch */
	uint32_t mtime_nsec; /* nanoseconds, 0..999999999 */
};

struct ovl_xattr {
	char *name;       /* full name with namespace ("security.capability"); owned */
	void *value;      /* owned, size bytes */
	size_t size;
};

/* Where a regular file's content comes from. */
enum ovl_src_kind {
	OVL_SRC_NONE,  /* empty file, or not a regular file */
	OVL_SRC_HOST,  /* a regular file on the host: host_path (absolute) */
	OVL_SRC_MEM,   /* bytes in memory: data, attr.size bytes */
	OVL_SRC_LAYER, /* read through the layer's ops->read with cookie */
};

/* What identified a host file when the layer read it: (st_dev, st_ino, st_mtim, st_ctim) of
 * lstat(2). A changed file gets a new ctime, so exporters may key remembered content hashes on
 * it without another stat. All zero when the layer did not record it. */
struct ovl_host_stamp {
	uint64_t dev, ino;
	int64_t mtime_ns, ctime_ns;
};

struct stat;
/* The stamp of a host file from its lstat(2) result st. */
struct ovl_host_stamp ovl_host_stamp_of(const struct stat *st);

struct ovl_src {
	enum ovl_src_kind kind;
	char *host_path; /* OVL_SRC_HOST; owned by the node */
	struct ovl_host_stamp stamp; /* OVL_SRC_HOST: optional, see above */
	void *data;      /* OVL_SRC_MEM; owned by the node */
	uint64_t cookie; /* OVL_SRC_LAYER; meaning private to the layer */
};

/* One entry a layer puts into the view. Every pointer is borrowed for the call: the view
 * copies what it keeps (src.host_path and src.data included). */
struct ovl_entry {
	const char *path;        /* guest path, normalized (see path.h); "" is the root */
	struct ovl_attr attr;
	const char *link_target; /* symlinks: target as stored, not resolved */
	struct ovl_src src;
	uint64_t hardlink_key;   /* nonzero: entries of one layer with equal keys are hard links */
	const struct ovl_xattr *xattrs;
	size_t n_xattrs;
};

struct ovl_node {
	char *name;               /* last path component, owned; "" for the root */
	struct ovl_node *parent;  /* NULL for the root */
	struct ovl_attr attr;
	char *link_target;        /* symlinks only, owned */
	struct ovl_xattr *xattrs; /* owned array */
	size_t n_xattrs;
	struct ovl_layer *layer;  /* the layer this node comes from (NULL: implied directory) */
	struct ovl_src src;
	uint64_t hardlink_key;    /* see struct ovl_entry; 0 when not hard-linked */
	uint64_t ino;             /* inode number, assigned by ovl_view_finalize in walk order */
	uint32_t nlink;           /* link count, computed by ovl_view_finalize */
	bool is_opaque;           /* directory hides everything below it from lower layers */
	struct ovl_node **children; /* directories: sorted by name; owned array */
	size_t n_children, cap_children;
};

struct ovl_view;

/* Create an empty view whose root is a directory 0755 0:0 with mtime 0. *out is owned: free it
 * with ovl_view_free. Returns 0 or -ENOMEM. */
int ovl_view_new(struct ovl_view **out);

/* Free the view, its nodes and its layers. NULL is allowed. */
void ovl_view_free(struct ovl_view *v);

/* Build the view of a parsed SPEC: create each layer in order (consecutive gen_init_cpio entry
 * lines form one layer), load it bottom first, then finalize. Errors are prefixed with the
 * SPEC location of the layer ("x.spec:3: /usr/bin/nope: No such file or directory").
 * On success *out is owned by the caller (ovl_view_free). Returns 0 or a negative errno. */
int ovl_view_build(const struct spec *spec, struct ovl_view **out, struct rf_err *err);

/* As ovl_view_build, then the upper layer directory upper_dir (see state.h) stacked on top as
 * a tree layer labelled "upper DIR", honouring its whiteouts, opaque markers and metadata
 * xattrs (meta.h). upper_dir may be NULL or not exist (no upper layer then). */
int ovl_view_build_upper(const struct spec *spec, const char *upper_dir, struct ovl_view **out,
			 struct rf_err *err);

/* A deep copy of src's nodes that shares src's layers: they stay owned by src, so free the
 * copy (ovl_view_free) before src. The mount uses it to stack the upper layer on its lower
 * view for each export of its control directory without reading the lower layers again.
 * *out is owned. Returns 0 or -ENOMEM. */
int ovl_view_clone(const struct ovl_view *src, struct ovl_view **out);

/* A digest of what the host's files under v are now: the lstat(2) result (device, inode,
 * size, mtime, ctime; a marker when it fails) of every regular file v takes from the host, in
 * walk order, without reading content. It changes when such a file is rebuilt, replaced or
 * removed. The mount compares it before each export of its control directory: the view's
 * sizes and the cached hashes would otherwise describe the old file (a kernel module rebuilt
 * in place). Costs one lstat per host file. */
uint64_t ovl_view_host_digest(const struct ovl_view *v);

/* Stack the upper layer directory upper_dir (see state.h) on v as a tree layer labelled
 * "upper DIR", as ovl_view_build_upper does, then finalize v. A missing upper_dir adds
 * nothing. Returns 0 or a negative errno with err naming the entry. */
int ovl_view_add_upper(struct ovl_view *v, const char *upper_dir, struct rf_err *err);

/* Put an entry on behalf of layer (the layer being loaded). Missing parent directories are
 * implied (0755 0:0, mtime 0). A parent component that is a symlink in the view is resolved
 * inside the view, never outside its root (so "lib/x" lands in "usr/lib/x" when "lib" is a
 * symlink to "usr/lib"); a loop or a dangling link gives -ELOOP/-ENOTDIR with a message.
 * A directory put over a directory keeps the children; anything else replaces the node and
 * what lay below it. On success *out (may be NULL) is the node, borrowed from the view.
 * Returns 0 or a negative errno (-EINVAL for a bad path, -ENOMEM). */
int ovl_view_put(struct ovl_view *v, struct ovl_layer *layer, const struct ovl_entry *e,
		 struct ovl_node **out, struct rf_err *err);

/* Remove the node at path (and everything below it) from the view: a whiteout ".wh.NAME".
 * A missing path is not an error. Returns 0 or a negative errno. */
int ovl_view_whiteout(struct ovl_view *v, const char *path, struct rf_err *err);

/* Mark the directory at path opaque for layer: the children that came from layers below it
 * are dropped (".wh..wh..opq"). Returns 0, -ENOENT or -ENOTDIR. */
int ovl_view_make_opaque(struct ovl_view *v, struct ovl_layer *layer, const char *path,
			 struct rf_err *err);

/* Node at a normalized guest path, without following any symlink; NULL when absent.
 * Borrowed: valid until the view changes or is freed. */
struct ovl_node *ovl_view_lookup(const struct ovl_view *v, const char *path);

/* Child called name of directory dir (binary search); NULL when absent. Borrowed. */
struct ovl_node *ovl_node_child(const struct ovl_node *dir, const char *name);

/* Resolve path inside the view following symlinks in every component (the last one too when
 * follow_last), confined to the root: an absolute target restarts at the view's root, ".."
 * stops at the root. Returns the node or NULL with errno set (ENOENT, ELOOP, ENOTDIR). */
struct ovl_node *ovl_view_resolve(const struct ovl_view *v, const char *path, bool follow_last);

/* The root directory node (borrowed). */
struct ovl_node *ovl_view_root(const struct ovl_view *v);

/* Assign inode numbers in walk order (hard links share one), and link counts. Called by
 * ovl_view_build; call again after changing the view by hand. Returns 0 or -ENOMEM. */
int ovl_view_finalize(struct ovl_view *v);

/* Walk the view in sorted pre-order (a directory before its children), root first. The
 * callback receives the node and its guest path ("" for the root; borrowed for the call);
 * a non-zero return stops the walk and is returned. */
typedef int (*ovl_walk_fn)(const struct ovl_node *n, const char *path, void *ctx);
int ovl_view_walk(const struct ovl_view *v, ovl_walk_fn fn, void *ctx);

/* Guest path of a node, malloc'd (caller frees), NULL when out of memory. */
char *ovl_node_path(const struct ovl_node *n);

/* Read up to len bytes of a regular file's content at byte offset off. Returns the number of
 * bytes read (0 at end of file) or a negative errno, with a message naming the source. */
ssize_t ovl_node_pread(const struct ovl_node *n, void *buf, size_t len, uint64_t off,
		       struct rf_err *err);

/* Layers of the view, bottom first (borrowed array of n_layers pointers). */
struct ovl_layer *const *ovl_view_layers(const struct ovl_view *v, size_t *n_layers);

/* Add a layer to the view (the view owns it from then on). Used by ovl_view_build and tests. */
int ovl_view_add_layer(struct ovl_view *v, struct ovl_layer *layer);

/* Number of nodes in the view, the root included. */
size_t ovl_view_count(const struct ovl_view *v);

#endif
