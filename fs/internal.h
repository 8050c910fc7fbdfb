/* Shared state of the FUSE frontend: the inode table (one record per node the kernel knows,
 * found by fuse_ino_t, freed when its lookup count falls to zero, as libfuse's
 * example/passthrough_ll.c does) and the merged lookup over the lower view and the upper
 * directory. The only file set that includes a FUSE header. */
#ifndef RF_FS_INTERNAL_H
#define RF_FS_INTERNAL_H

#define FUSE_USE_VERSION 314 /* the newest Debian 12's libfuse 3.14 accepts */
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "upper.h"
#include "view.h"

/* Lower layers never change while mounted: the kernel may cache them for a day. */
#define FS_LOWER_TIMEOUT_S 86400.0
#define FS_UPPER_TIMEOUT_S 1.0
/* st_ino of an entry born in the upper layer: its host inode number moved past the lower
 * view's numbers (which count from 1). */
#define FS_UPPER_INO_BASE (1ull << 32)
/* setxattr of a directory with this name makes a device node, fifo or socket in it (see
 * ops_xattr.c); keep in step with cli/cmd_mount.c. */
#define FS_MKNOD_XATTR "user.rootfs-fuse.mknod"
/* The hidden control directory in the root (ctl.c); upper_name_reserved() keeps the name. */
#define FS_CTL_NAME ".rootfs-fuse"

struct fs_ctl;
struct rf_fs_options;

struct fs_inode {
	uint64_t nlookup; /* the kernel's references (lookup count) */
	unsigned refs;	  /* child records pointing here as their parent */
	/* Where a lower-only record sits (needed to copy it up); NULL once in the upper layer. */
	struct fs_inode *parent;
	char *name;
	const struct ovl_node *lower; /* lower node; for a directory, the one merged below it */
	int upper_fd;		      /* O_PATH descriptor of the upper entry, -1: not copied up */
	dev_t up_dev;
	ino_t up_ino;
	uint64_t st_ino;  /* the inode number the guest sees, fixed for the record */
	mode_t type;	  /* S_IFMT bits as the guest sees them */
	bool is_opaque;	  /* directory: the lower one below is hidden */
	bool is_detached; /* removed from the tree while the kernel still knows it */
	struct fs_inode *next_lower, *next_upper; /* hash chains */
	struct fs_inode *all_prev, *all_next;	  /* every record, to free them at unmount */
	bool in_lower_hash, in_upper_hash;
};

struct fs_table {
	struct fs_inode **lower_buckets, **upper_buckets;
	size_t n_buckets, n_records;
	struct fs_inode *all;
};

struct fs_ctx {
	struct ovl_view *view;
	struct ovl_upper *upper;
	struct fs_inode root;
	struct fs_table table;
	pthread_mutex_t lock; /* the tree lock: records and upper-layer changes */
	uid_t owner_uid;      /* the mounting user, who acts as the guest's root */
	gid_t owner_gid;
	struct fuse_session *se;
	struct fs_ctl *ctl; /* the control directory (ctl.c) */
};

/* What a name in a merged directory resolves to. */
struct fs_child {
	int upper_fd;		      /* O_PATH, owned by the struct (fs_child_release); -1: none */
	const struct ovl_node *lower; /* the lower entry (for a directory: merged below) */
	const struct ovl_node *lower_shadowed; /* the lower entry of this name, even if hidden
						* by an upper entry of another type */
	struct stat up_st;		       /* host stat of upper_fd */
};

struct fs_ctx *fs_ctx(fuse_req_t req);
struct fs_inode *fs_inode(fuse_req_t req, fuse_ino_t ino);

/* --- inode.c (call with ctx->lock held) --- */
int fs_table_init(struct fs_ctx *c);
void fs_table_free(struct fs_ctx *c);
/* Resolve name in directory dir. Returns 0, -ENOENT or another negative errno; on 0 the
 * caller releases ch with fs_child_release. */
int fs_child_find(struct fs_ctx *c, struct fs_inode *dir, const char *name, struct fs_child *ch);
void fs_child_release(struct fs_child *ch);
/* The lower directory merged below dir, or NULL. */
const struct ovl_node *fs_lower_dir(const struct fs_inode *dir);
/* The record of a resolved child (found or made, nlookup unchanged); takes ch's upper_fd. */
struct fs_inode *fs_record(struct fs_ctx *c, struct fs_inode *dir, const char *name,
			   struct fs_child *ch);
/* Record for a lower node, if the kernel knows one. */
struct fs_inode *fs_find_lower(struct fs_ctx *c, const struct ovl_node *n);
struct fs_inode *fs_find_upper(struct fs_ctx *c, dev_t dev, ino_t ino);
/* Guest stat of a record. */
int fs_stat(struct fs_ctx *c, struct fs_inode *in, struct stat *st);
/* Fill e for the record and raise its lookup count. */
int fs_entry(struct fs_ctx *c, struct fs_inode *in, struct fuse_entry_param *e);
/* Lookup of name in dir giving a filled entry with the lookup count raised. */
int fs_lookup_entry(struct fs_ctx *c, struct fs_inode *dir, const char *name,
		    struct fuse_entry_param *e);
/* Lower the lookup count by n, freeing the record at zero. */
void fs_forget(struct fs_ctx *c, struct fs_inode *in, uint64_t n);
/* Copy the record up (its parents first). has_data: copy the content too. */
int fs_copy_up(struct fs_ctx *c, struct fs_inode *in, bool has_data);
/* Copy up a directory with everything below it, each directory made opaque, so it can move. */
int fs_copy_up_tree(struct fs_ctx *c, struct fs_inode *in);
/* Store the copied-up symlink record in as a regular file holding its target (meta.h), so it
 * can carry an owner and xattrs, with metadata a (NULL: root:root); one stored so already just
 * gets a (when not NULL). Returns 0 or a negative errno. */
int fs_symlink_to_file(struct fs_ctx *c, struct fs_inode *in, const struct ovl_attr *a);
/* Take the record off the tree (its name was removed or replaced). */
void fs_detach(struct fs_ctx *c, struct fs_inode *in);
/* A new upper entry made by the guest in dir: record it (fd is taken). */
struct fs_inode *fs_record_new_upper(struct fs_ctx *c, int fd);
/* The owner a new entry gets: the request's, the mounting user mapped to root. */
void fs_new_owner(struct fs_ctx *c, fuse_req_t req, struct ovl_attr *a);
/* Is the merged directory empty (whiteouts and markers aside)? */
int fs_dir_is_empty(struct fs_ctx *c, struct fs_inode *dir);
double fs_timeout(const struct fs_inode *in);

/* Create a node (any type but symlink) called name in dir for the request's user; e is filled
 * and the lookup count raised (ops_dir.c). */
int fs_make_node(fuse_req_t req, struct fs_inode *dir, const char *name, mode_t mode, dev_t rdev,
		 struct fuse_entry_param *e);

/* --- ctl.c: the control directory --- */
/* Set up c->ctl from o's export callback and names. Returns 0 or a negative errno with err
 * filled; fs_ctl_free releases it either way. */
int fs_ctl_new(struct fs_ctx *c, const struct rf_fs_options *o, struct rf_err *err);
void fs_ctl_free(struct fs_ctx *c);
/* Wrap the filled operation table ops: control inodes are answered by ctl.c, modifying
 * requests bump the generation that invalidates cached exports. Call after the fs_*_ops. */
void fs_ctl_ops(struct fs_ctx *c, struct fuse_lowlevel_ops *ops);

/* --- the operation tables, filled by the ops_*.c files --- */
void fs_dir_ops(struct fuse_lowlevel_ops *ops);
void fs_file_ops(struct fuse_lowlevel_ops *ops);
void fs_xattr_ops(struct fuse_lowlevel_ops *ops);

#endif
