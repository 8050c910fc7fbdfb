/* Read-ahead of a host directory tree for the tree layer: a worker thread lists each directory
 * (readdir, lstat by directory descriptor, the size of the xattr list) in the order the tree
 * layer walks it (depth first, names sorted by strcmp, subdirectories after their parent), so
 * the system calls overlap the building of the view. Nothing is followed: directories are
 * opened with O_NOFOLLOW and entries are lstat'ed. */
#ifndef RF_TREE_SCAN_H
#define RF_TREE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct scan_entry {
	char *name;        /* owned */
	struct stat st;    /* lstat(2), valid when !stat_err */
	int stat_err;      /* errno of the lstat, 0 when it succeeded */
	ssize_t xattr_len; /* llistxattr(2) size: 0 none, > 0 some, < 0 unknown (read them) */
};

/* One directory: its entries sorted by name, or err (an errno of opendir/readdir). */
struct scan_dir {
	int err;
	struct scan_entry *e; /* owned array of n */
	size_t n;
};

struct tree_scan;

/* Is a directory entry of this name an entry of the tree (not a whiteout or the opaque
 * marker, which act on lower layers)? The walk and the read-ahead must agree on it. */
bool tree_scan_is_entry(const char *name);

/* List the directory host now, without a worker. NULL when out of memory; the result is owned
 * (tree_scan_dir_free). */
struct scan_dir *tree_scan_list(const char *host);

/* Start reading ahead below the directory root (an absolute path, copied), down to max_depth
 * levels. *out is owned (tree_scan_stop). Returns 0, or a negative errno when no thread could
 * start (the caller then lists directories itself). */
int tree_scan_start(const char *root, int max_depth, struct tree_scan **out);

/* The next directory in walk order (root first); blocks until it is read. NULL when the
 * read-ahead ran out of memory or past max_depth: list the directory yourself then. The
 * result is owned by the caller (tree_scan_dir_free). */
struct scan_dir *tree_scan_next(struct tree_scan *s);

void tree_scan_dir_free(struct scan_dir *d);

/* Stop the worker (it may be ahead of the walk), join it and free what it read. NULL is
 * allowed. */
void tree_scan_stop(struct tree_scan *s);

#endif
