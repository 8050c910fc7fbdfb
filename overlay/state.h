/* The state directory of a SPEC (design.md, "The upper layer"): where a mount keeps its
 * copy-on-write upper layer and where exports keep their segment cache. By default it lies
 * beside the SPEC: "guest.spec" -> "guest.state/". Layout:
 *   upper/   the upper layer: plain files, user.rootfs-fuse.* xattrs, .wh. whiteouts
 *   work/    scratch space on the same filesystem for atomic copy-up (rename into upper/)
 *   cache/   the cpio segment cache */
#ifndef RF_STATE_H
#define RF_STATE_H

#define STATE_UPPER "upper"
#define STATE_WORK "work"
#define STATE_CACHE "cache"

/* The default state directory of the SPEC at spec_path: its directory plus its file name with
 * a trailing ".spec" replaced by ".state" (else ".state" appended). *out is malloc'd (caller
 * frees). Returns 0 or -ENOMEM. */
int state_default_dir(const char *spec_path, char **out);

/* state_dir + "/" + sub, malloc'd (caller frees); NULL when out of memory. */
char *state_sub(const char *state_dir, const char *sub);

#endif
