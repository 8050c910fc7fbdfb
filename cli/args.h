/* One table-driven argument loop for the subcommands: layer flags (opts.h), export options
 * (expopts.h), the command's own options from a table, --help, positionals and a `--` rest.
 * Usage errors are the one-line `rootfs-fuse: CMD: ...` messages of docs/rootfs-fuse.1. */
#ifndef RF_ARGS_H
#define RF_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cli_layers;
struct exp_options;

enum cli_opt_kind {
	CLI_OPT_SET,	  /* no value: *(bool *)dest = true */
	CLI_OPT_CLEAR,	  /* no value: *(bool *)dest = false */
	CLI_OPT_STRING,	  /* *(const char **)dest = the value, borrowed from argv */
	CLI_OPT_UNSIGNED, /* *(unsigned *)dest = strtoul(value) (lax: "12x" is 12, "x" is 0) */
	CLI_OPT_COUNT,	  /* *(size_t *)dest = a non-negative decimal; else the value message */
	CLI_OPT_SIZE,	  /* *(uint64_t *)dest = cli_parse_size(value); "CMD: OPT 'V' is not a
			   * size (e.g. 512M, 2G)" when malformed */
	CLI_OPT_CALL,	  /* call(dest, value, err) */
};

/* One option of a command. name is the long form ("--output") or, for an option with only a
 * short form, that ("-o"); alias is the other spelling or NULL. A table ends with name NULL. */
struct cli_opt {
	const char *name;
	const char *alias;
	enum cli_opt_kind kind;
	void *dest;
	/* CLI_OPT_CALL: apply val (never NULL) to dest. Returns 0, or a negative errno: with err
	 * left empty the option's value message is printed, else "CMD: err->msg". */
	int (*call)(void *dest, const char *val, struct rf_err *err);
	/* what follows "CMD: OPT " when the value is missing (or rejected by COUNT/CALL);
	 * NULL: "needs a value" */
	const char *value_msg;
};

/* Table rows: an option stored by kind, and one with a callback or its own value message. */
#define CLI_OPT(name, alias, kind, dest)                                                           \
	{                                                                                          \
		(name), (alias), (kind), (dest), NULL, NULL                                        \
	}
#define CLI_OPT_MSG(name, alias, kind, dest, call, value_msg)                                      \
	{                                                                                          \
		(name), (alias), (kind), (dest), (call), (value_msg)                               \
	}

/* The shape of a command line; the fields after "filled:" are set by cli_args_parse. */
struct cli_args {
	const char *cmd;	    /* "export": prefixes the messages, names "CMD --help" */
	const struct cli_opt *opts; /* the table, or NULL */
	struct cli_layers *layers;  /* take layer flags and --state into it; NULL: none */
	struct exp_options *exp;    /* take export options into it; NULL: none */
	const char **pos; /* room for max_pos positionals (arguments not starting with -) */
	int max_pos;
	bool has_rest;	    /* `--` ends the options; what follows is the rest */
	bool quiet;	    /* print nothing (a second parse of a checked command line); not
			     * for export options, which print their own errors */
	void (*help)(void); /* prints the --help text on stdout; NULL: print nothing */
	/* filled: */
	int n_pos;
	char **rest; /* borrowed from argv, n_rest words; NULL when there was no `--` */
	int n_rest;
};

/* What cli_args_parse returns when it met --help or -h (after calling p->help). */
#define CLI_ARGS_HELP (-1)

/* Run the loop over argv[1..argc-1]: at each word, a layer flag (when p->layers), an export
 * option (when p->exp), --help/-h, `--` (when p->has_rest), an option of p->opts with its
 * value, or a positional; anything else is "CMD: unknown argument 'A' (see CMD --help)".
 * Returns 0 when parsed, CLI_ARGS_HELP, or the exit status after printing one line on
 * stderr: 2 for a usage error, 1 when a layer flag is malformed (cli_fail). Nothing is
 * allocated here besides what cli_layer_flag adds to p->layers (cli_layers_free). */
int cli_args_parse(struct cli_args *p, int argc, char **argv);

#endif
