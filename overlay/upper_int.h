/* Internals shared by the upper layer's files (upper.c: copy-up, creation, whiteouts, xattrs;
 * upper_link.c: symlinks stored as files, meta.h). Not part of the API in upper.h. */
#ifndef RF_UPPER_INT_H
#define RF_UPPER_INT_H

#include <stdatomic.h>
#include <stddef.h>

#include "view.h"

struct ovl_upper {
	int root_fd; /* O_PATH of STATE/upper */
	int work_fd; /* O_PATH of STATE/work */
	int lock_fd; /* STATE/work open for flock: one mount per state directory */
	atomic_uint_fast64_t next_tmp;
};

/* A fresh name for an entry being built in STATE/work. */
void upper_tmp_name(struct ovl_upper *u, char buf[32]);

/* The guest metadata of a file being built in STATE/work: the override xattr, the mapped guest
 * xattrs xs (n of them), mtime (atime too). Returns 0 or a negative errno. */
int upper_put_meta(int fd, const struct ovl_attr *a, const struct ovl_xattr *xs, size_t n);

/* The content of a symlink stored as a file: the target, which meta_read_link_file must read
 * back (1 to PATH_MAX-1 bytes: -ENOENT, -ENAMETOOLONG otherwise). Returns 0 or a negative
 * errno. */
int upper_put_link_target(int fd, const char *target);

#endif
