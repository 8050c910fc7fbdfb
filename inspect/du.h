/* The du model: a tree of apparent sizes (and, for a compressed cpio, the compressed bytes each
 * entry costs), summed per directory and sorted largest first, as du(1) and ncdu present it.
 * Readers (readers.h) fill it; outputs (output.h) print it as text, JSON or an HTML treemap. */
#ifndef RF_DU_H
#define RF_DU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum du_type { DU_DIR, DU_FILE, DU_GROUP, DU_META };

/* What diff compares besides the size: set by readers that know it (has_attr). */
struct du_attr {
	uint32_t mode;	   /* st_mode: file type and permission bits */
	uint32_t uid, gid; /* owner */
	uint64_t rdev;	   /* device nodes: makedev(major, minor) */
	uint64_t digest;   /* XXH3-64 of a regular file's data or a symlink's target */
	bool has_digest;   /* digest is set (insp_opts.digest, and the data was present) */
};

struct du_node {
	char *name;		   /* last component, owned; "" for the root */
	enum du_type type;	   /* DU_GROUP: a --by layer group; DU_META: headers/padding line */
	uint64_t size_bytes;	   /* apparent size; directories: their own plus their children's */
	uint64_t compressed_bytes; /* bytes of the compressed image this entry costs */
	uint64_t n_entries;	   /* archive entries at or below this node */
	bool has_attr;		   /* attr is set (the last add of this path gave one) */
	struct du_attr attr;
	struct du_node *parent;
	struct du_node **children; /* owned; sorted largest first by du_tree_finish */
	size_t n_children, cap_children;
};

struct du_segment {
	char *compression;	   /* "none", "gzip", "zstd", ... owned */
	uint64_t offset;	   /* byte offset of the segment in the file */
	uint64_t compressed_bytes; /* bytes of the file the segment occupies */
	uint64_t size_bytes;	   /* bytes of cpio stream it yields */
};

struct du_tree {
	struct du_node *root;
	char *target;		     /* what was read, as given; owned */
	char *kind;		     /* "cpio", "view", "iso", "image"; owned */
	bool has_compressed;	     /* compressed_bytes are meaningful (a cpio archive) */
	uint64_t file_bytes;	     /* size of the target file (cpio), 0 otherwise */
	uint64_t stream_bytes;	     /* cpio: uncompressed stream bytes (all segments) */
	struct du_segment *segments; /* cpio: segments in file order; owned */
	size_t n_segments;
	char *partial_error;	/* set when the reader stopped early (--partial); owned */
	struct du_node **index; /* private: (parent, name) hash while adding */
	size_t index_cap, index_used;
};

/* Create an empty tree for target (copied) of kind (copied). *out is owned: du_tree_free.
 * Returns 0 or -ENOMEM. */
int du_tree_new(const char *target, const char *kind, struct du_tree **out);
void du_tree_free(struct du_tree *t);

/* Add an entry at a normalized guest path ("" is the root, no leading slash). When group is
 * not NULL the entry goes below a DU_GROUP child of the root named group (--by layer), and
 * below a DU_GROUP child of that named subgroup when subgroup is not NULL (a binary or module
 * inside its layer). Missing directories are created. Sizes add up when a path is added twice
 * (an archive may hold the same path twice, and both copies cost bytes). Returns 0 or -ENOMEM. */
int du_tree_add(struct du_tree *t, const char *group, const char *subgroup, const char *path,
		enum du_type type, uint64_t size_bytes, uint64_t compressed_bytes);

/* As du_tree_add, also recording the entry's attributes (a copied; the last add of a path
 * wins) for diff. a may be NULL. Returns 0 or -ENOMEM. */
int du_tree_add_attr(struct du_tree *t, const char *group, const char *subgroup, const char *path,
		     enum du_type type, uint64_t size_bytes, uint64_t compressed_bytes,
		     const struct du_attr *a);

/* Record a cpio segment (compression copied). Returns 0 or -ENOMEM. */
int du_tree_add_segment(struct du_tree *t, const char *compression, uint64_t offset,
			uint64_t compressed_bytes, uint64_t size_bytes);

/* Sum sizes up the tree and sort every directory's children largest first (compressed bytes
 * when the tree has them, else apparent size; ties by name). Call once after the last add. */
void du_tree_finish(struct du_tree *t);

/* Guest path of a node with a leading slash ("/" for the root; groups are shown as
 * "[label]"). malloc'd, caller frees; NULL when out of memory. */
char *du_node_path(const struct du_node *n);

/* Leaves (files, DU_META lines and empty directories) in tree order, for diff; with
 * all_dirs, every directory below the root too. *out is an owned array of borrowed node
 * pointers (free the array only). */
int du_tree_leaves(const struct du_tree *t, bool all_dirs, struct du_node ***out, size_t *n_out);

/* Is n a leaf in the sense of du_tree_leaves without all_dirs? */
bool du_node_is_leaf(const struct du_node *n);

#endif
