/* The SPEC file: one layer or entry a line, bottom first, '#' comments. A superset of the
 * kernel's usr/gen_init_cpio list format (Documentation/driver-api/early-userspace/
 * early_userspace_support.rst and usr/gen_init_cpio.c), so an existing
 * CONFIG_INITRAMFS_SOURCE list is a valid SPEC:
 *   file  <name> <location> <mode> <uid> <gid> [<hard links>...]
 *   dir   <name> <mode> <uid> <gid>
 *   nod   <name> <mode> <uid> <gid> <dev_type b|c> <maj> <min>
 *   slink <name> <target> <mode> <uid> <gid>
 *   pipe  <name> <mode> <uid> <gid>
 *   sock  <name> <mode> <uid> <gid>
 * plus the layer keywords of layer.h (tree, busybox, host, ...). */
#ifndef RF_SPEC_H
#define RF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum spec_entry_type { SPEC_FILE, SPEC_DIR, SPEC_NOD, SPEC_SLINK, SPEC_PIPE, SPEC_SOCK };

/* A parsed gen_init_cpio line. Strings are owned by the spec. */
struct spec_entry {
	enum spec_entry_type type;
	char *name;          /* guest path, normalized (no leading '/') */
	char *location;      /* file: host path (resolved, ${VAR} expanded); slink: target */
	uint32_t mode;       /* permission bits only (07777) */
	uint32_t uid, gid;
	char dev_type;       /* nod: 'b' or 'c' */
	uint32_t maj, min;   /* nod */
	char **hardlinks;    /* file: further guest names, normalized */
	size_t n_hardlinks;
};

struct spec_line {
	char *keyword;  /* "tree", "host", "file", ... */
	char **argv;    /* arguments after the keyword; layer host paths resolved */
	int argc;
	char *origin;   /* "FILE:LINE" or the CLI flag ("--host") */
	bool is_entry;  /* a gen_init_cpio line; then entry is filled */
	struct spec_entry entry;
};

struct spec {
	char *path;     /* the SPEC file as given, NULL for flags only */
	char *base_dir; /* directory relative paths are taken from */
	struct spec_line *lines;
	size_t n_lines;
};

/* Parse the SPEC file at path. Relative host paths are resolved against the SPEC's directory.
 * Errors name "FILE:LINE: reason" (unknown keyword, wrong argument count, bad mode, uid, device
 * type, a guest path with ".."). On success *out is owned (spec_free). Returns 0 or -errno. */
int spec_parse_file(const char *path, struct spec **out, struct rf_err *err);

/* Parse SPEC text held in memory; name is used in messages, base_dir resolves relative paths.
 * Same contract as spec_parse_file. */
int spec_parse_buffer(const char *text, size_t len, const char *name, const char *base_dir,
		      struct spec **out, struct rf_err *err);

/* An empty spec (for flags only); base_dir copied (may be NULL). Owned: spec_free. */
int spec_new(const char *base_dir, struct spec **out);

/* Append one line given as keyword + argv, as the CLI flags do (--host a b -> "host", {a, b}).
 * origin names it in messages. Validates as the file parser does. Returns 0 or -errno. */
int spec_add_line(struct spec *s, const char *keyword, char *const *argv, int argc,
		  const char *origin, struct rf_err *err);

/* True when keyword is a SPEC keyword (a layer kind or a gen_init_cpio entry type). */
bool spec_is_keyword(const char *keyword);

/* Free a spec. NULL is allowed. */
void spec_free(struct spec *s);

#endif
