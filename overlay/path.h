/* Guest path helpers. A guest path inside the library is relative to the view's root, has no
 * leading slash, no "." or ".." component and no "//"; the root itself is "". Paths are
 * normalized once at the edge (SPEC parser, CLI, archive readers) with path_normalize. */
#ifndef RF_PATH_H
#define RF_PATH_H

#include <stddef.h>

/* Normalize a guest path given by a user or an archive ("/usr//bin/./x", "./a/b", "a/b/").
 * Leading slashes and "./" are dropped, "//" and "." components folded. A ".." component is
 * refused (it could leave the root): returns -EINVAL. Returns -ENAMETOOLONG past PATH_MAX.
 * On success writes a malloc'd string to *out (caller frees) and returns 0. */
int path_normalize(const char *in, char **out);

/* Join a normalized directory path and a component name: "" + "x" = "x", "a" + "x" = "a/x".
 * Returns a malloc'd string (caller frees) or NULL when out of memory. */
char *path_join(const char *dir, const char *name);

/* Borrowed pointer to the last component of a normalized path ("a/b" -> "b", "" -> ""). */
const char *path_basename(const char *path);

/* Length of the parent part of a normalized path ("a/b/c" -> 3, "a" -> 0). */
size_t path_parent_len(const char *path);

/* Resolve a host path argument from a SPEC or the command line: an absolute path is kept,
 * a relative one is taken relative to base_dir (the SPEC's directory, or the current directory
 * for flags). Returns a malloc'd string (caller frees) or NULL when out of memory. */
char *path_host_resolve(const char *base_dir, const char *arg);

#endif
