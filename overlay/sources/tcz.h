/* Private interface between the tcz layer (tcz.c: squashfs reading, the copy2fs view) and its
 * dependency resolver (tcz_deps.c: .tcz.dep closure and .md5.txt checks, as tce-load does). */
#ifndef RF_SOURCES_TCZ_H
#define RF_SOURCES_TCZ_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Packages to load, dependencies first; names without ".tcz", "-KERNEL" already replaced. */
struct tcz_plan {
	char **names; /* owned, n strings */
	size_t n;
};

/* Resolve the closure of pkgs (n_pkgs names as given: "openssh" or "openssh.tcz") in dir.
 * kernel replaces "-KERNEL" in names (NULL: such a name is an error naming it). A missing
 * dependency names the .dep file that wants it; a cycle is an error listing it; an image whose
 * NAME.tcz.md5.txt does not match is an error. On success fills *out (free with
 * tcz_plan_free). Returns 0 or a negative errno. */
int tcz_plan_resolve(const char *dir, char *const *pkgs, size_t n_pkgs, const char *kernel,
		     struct tcz_plan *out, struct rf_err *err);

void tcz_plan_free(struct tcz_plan *p);

#endif
