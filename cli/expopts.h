/* Export options shared by `rootfs-fuse export` and `boot` (docs/rootfs-fuse.1, EXPORT
 * OPTIONS): compression, level, threads, cpio segments and the segment cache in the state
 * directory (overlay/state.h). */
#ifndef RF_EXPOPTS_H
#define RF_EXPOPTS_H

#include <stdint.h>

#include "exporter.h"
#include "opts.h"

/* Parse "N", "NK", "NM", "NG" (powers of 1024) into bytes. Returns 0 or -1 when malformed. */
int cli_parse_size(const char *s, uint64_t *out);

/* If a (with its value val, may be NULL) is an export option, apply it to o and return the
 * number of arguments it takes (1 for a flag, 2 with its value); 0 when a is not one; a
 * negative value after printing a usage error (the exit status is then 2). Options:
 * --compress --level --threads --segment-size --cache-size, flags --no-cache --fsync. */
int cli_export_option(struct exp_options *o, const char *a, const char *val);

/* Point o->cache_dir at STATE/cache of cl's state directory unless --no-cache was given or
 * there is no state directory (flags only). *owned receives the malloc'd string (free it
 * after the export). Returns 0 or -ENOMEM. */
int cli_export_cache(struct cli_layers *cl, struct exp_options *o, char **owned);

/* The export option lines of --help. */
void cli_print_export_options(void);

#endif
