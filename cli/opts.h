/* Command-line parsing shared by the subcommands: the SPEC argument and the layer flags
 * (every SPEC keyword as --KEYWORD ARGS...), plus small printing helpers. */
#ifndef RF_OPTS_H
#define RF_OPTS_H

#include <stdbool.h>

#include "err.h"

struct spec;
struct ovl_view;

/* Collects the layers of a command line: the SPEC file (first positional argument) then each
 * layer flag in order, on top of the SPEC's layers. */
struct cli_layers {
	const char *spec_path;  /* borrowed from argv, NULL when only flags are given */
	struct spec *flags;     /* lines from flags, owned */
	bool has_layers;
	const char *state_arg;  /* --state DIR, borrowed from argv; NULL: beside the SPEC */
	char *state_dir;        /* effective state directory (cli_state_dir), owned */
};

/* If argv[*i] is a layer flag (--host, --file, ...) or --state DIR, consume it and its arguments, advancing
 * *i past them. Returns 1 when consumed, 0 when argv[*i] is not a layer flag, or a negative
 * errno with err filled (wrong argument count, bad mode...). */
int cli_layer_flag(struct cli_layers *cl, int argc, char **argv, int *i, struct rf_err *err);

/* The state directory (state.h) of this command line: --state DIR, else the default beside
 * the SPEC, else NULL (flags only). Borrowed from cl, valid until cli_layers_free. */
const char *cli_state_dir(struct cli_layers *cl);

/* Build the merged view: SPEC lines first, then the flag lines, then the upper layer of the
 * state directory when it exists. *out is owned (ovl_view_free). Returns 0 or a negative
 * errno with err filled. */
int cli_build_view(struct cli_layers *cl, struct ovl_view **out, struct rf_err *err);

/* As cli_build_view without the upper layer: the lower side of a mount. */
int cli_build_lower_view(struct cli_layers *cl, struct ovl_view **out, struct rf_err *err);

void cli_layers_free(struct cli_layers *cl);

/* Print the layer flag synopsis for --help. */
void cli_print_layer_flags(void);

/* Print "rootfs-fuse: MSG" on stderr and return the exit status 1. */
int cli_fail(const struct rf_err *err);

/* printf-style error to stderr with the program prefix; returns 2 (usage error). */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read SOURCE_DATE_EPOCH: returns 1 and sets *epoch when set and valid, 0 when unset, -1
 * when set but not a non-negative integer. */
int cli_source_date_epoch(long long *epoch);

#endif
