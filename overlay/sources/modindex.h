/* Writer of kmod's binary module indexes (modules.dep.bin, modules.alias.bin,
 * modules.symbols.bin): a prefix trie in the v2 format that depmod writes and libkmod reads
 * (kmod's libkmod/libkmod-index.c, "index file format"). Used by the modules layer to present
 * the indexes of a subset of a kernel's modules, as `depmod` would have written them. */
#ifndef RF_MODINDEX_H
#define RF_MODINDEX_H

#include <stddef.h>
#include <stdint.h>

struct modindex;

/* An empty index. *out is owned (modindex_free). Returns 0 or -ENOMEM. */
int modindex_new(struct modindex **out);

/* Add value under key with priority (lower sorts first among a key's values, as depmod
 * uses the module's position in modules.order). An equal (value, priority) pair already under
 * key is ignored, as depmod does. Keys and values are copied; keys are 7-bit ASCII.
 * Returns 0, -EINVAL (a byte >= 0x80 in key) or -ENOMEM. */
int modindex_add(struct modindex *ix, const char *key, const char *value, uint32_t priority);

/* Serialize: *data (malloc'd, caller frees) of *len bytes. Returns 0, -EFBIG (past the
 * format's 28-bit offsets) or -ENOMEM. */
int modindex_write(const struct modindex *ix, void **data, size_t *len);

/* Free an index; NULL is allowed. */
void modindex_free(struct modindex *ix);

/* kmod's alias normalization, in place: '-' becomes '_' outside [...] character classes.
 * Returns 0, or -EINVAL for an unterminated or stray bracket. */
int modindex_alias_normalize(char *alias);

#endif
