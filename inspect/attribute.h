/* Finer attribution for `du --by layer`: inside a layer that brings several things, which one
 * each file belongs to. host: each binary with its DT_NEEDED closure and ELF interpreter,
 * resolved inside the view (DT_RPATH/DT_RUNPATH with $ORIGIN, then the default directories of
 * ld.so(8)); modules: each module with its dependencies from the view's modules.dep
 * (modules.dep(5) format); tcz: the TinyCore package each file came from (its .tcz.dep
 * closure loads each package once). A file needed by several is shown once, under
 * "shared by A, B". */
#ifndef RF_ATTRIBUTE_H
#define RF_ATTRIBUTE_H

#include "err.h"

struct ovl_view;
struct ovl_node;
struct insp_attrib;

/* Compute the split for every host and modules layer of v (borrowed; must outlive *out).
 * *out is owned (insp_attrib_free). Returns 0 or -ENOMEM; unreadable ELF files or a missing
 * modules.dep only leave files unsplit. */
int insp_attrib_new(const struct ovl_view *v, struct insp_attrib **out, struct rf_err *err);

/* The sub-group of n inside its layer's group: the binary or module (as named on the layer's
 * line), "shared by A, B", "(other files)", or NULL when its layer is not split (one
 * argument, or a kind without a split) or n is a directory. Borrowed from a. */
const char *insp_attrib_group(const struct insp_attrib *a, const struct ovl_node *n);

void insp_attrib_free(struct insp_attrib *a);

#endif
