/* Lower-layer kinds behind one vtable. Each kind lives in overlay/sources/<kind>.c, fills a
 * struct layer_ops and is listed once in the registry table of layer.c, the way libarchive
 * registers a format by name. A layer is immutable once loaded. */
#ifndef RF_LAYER_H
#define RF_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct ovl_view;
struct ovl_layer;

struct layer_ops {
	const char *kind;  /* SPEC keyword and CLI flag name ("tree" -> --tree) */
	const char *usage; /* argument synopsis for messages and --help ("DIR") */
	int min_args;      /* arguments after the keyword */
	int max_args;      /* -1: unlimited */
	/* Bit i set: argument i is a host path, resolved against the SPEC's directory. When
	 * rest_are_paths is set, every argument from the highest set bit on is one too. */
	unsigned path_args;
	int rest_are_paths;
	/* Set when load() messages already carry a SPEC location (the entries layer spans
	 * several lines); otherwise the builder prefixes the layer's origin. */
	int names_own_origin;
	/* Put the layer's entries into the view with ovl_view_put (and whiteouts). Errors name
	 * the offending file and reason; the caller prefixes the SPEC location. */
	int (*load)(struct ovl_layer *layer, struct ovl_view *view, struct rf_err *err);
	/* Content of an OVL_SRC_LAYER node: like pread(2). NULL when the kind has none. */
	ssize_t (*read)(struct ovl_layer *layer, uint64_t cookie, void *buf, size_t len,
			uint64_t off, struct rf_err *err);
	/* Release priv. NULL when the kind keeps nothing. */
	void (*destroy)(struct ovl_layer *layer);
};

struct ovl_layer {
	const struct layer_ops *ops;
	char **argv;    /* arguments after the keyword, host paths already resolved; owned */
	int argc;
	char *origin;   /* where it was asked for: "x.spec:3" or "--host"; owned */
	char *label;    /* human name for `ls --long` and `du --by layer`: "host /usr/bin/strace" */
	unsigned index; /* 0 for the bottom layer */
	void *priv;     /* the kind's state */
	/* Nonzero: the identity of every host file the layer reads content from (its kind and
	 * arguments, then each file's device, inode, size, mtime and ctime, in load order), so
	 * that with a node's src.cookie it names that node's content across runs: the export's
	 * hash memo keys OVL_SRC_LAYER files by it and does not read them again. 0: unknown (a
	 * kind that does not note its sources, or a source that could not be stat'ed). */
	uint64_t content_id;
	bool has_unnoted_source; /* keeps content_id 0 */
};

struct stat;
/* Note that layer reads content from the host file st describes (its stat(2) result; NULL:
 * one whose identity is unknown, which keeps content_id 0 for good). Called by load(). */
void layer_note_source(struct ovl_layer *layer, const struct stat *st);

/* The ops of a layer kind by keyword, NULL when unknown. Borrowed, static. */
const struct layer_ops *layer_kind_find(const char *kind);

/* All layer kinds, NULL-terminated (borrowed, static). */
const struct layer_ops *const *layer_kinds(void);

/* Create a layer of kind ops with a copy of argv (argc strings). origin is copied.
 * *out is owned (layer_free, or give it to ovl_view_add_layer). Returns 0 or -ENOMEM. */
int layer_new(const struct layer_ops *ops, char *const *argv, int argc, const char *origin,
	      struct ovl_layer **out);

/* Destroy a layer (calls ops->destroy). NULL is allowed. */
void layer_free(struct ovl_layer *layer);

/* Append one parsed gen_init_cpio line (copied) to an entries layer; origin ("x.spec:7")
 * names it in messages. Returns 0 or -ENOMEM. Defined in sources/entries.c. */
struct spec_entry;
int layer_entries_add(struct ovl_layer *layer, const struct spec_entry *e, const char *origin);

/* The TinyCore package (name without ".tcz") a regular file of a tcz layer comes from, for
 * `du --by layer`; NULL for another node or another kind of layer. Borrowed from the layer,
 * valid while it lives. Defined in sources/tcz.c. */
struct ovl_node;
const char *layer_tcz_package(const struct ovl_layer *layer, const struct ovl_node *n);

/* The kinds registered in layer.c, defined in overlay/sources/. */
extern const struct layer_ops layer_tree_ops;
extern const struct layer_ops layer_busybox_ops;
extern const struct layer_ops layer_host_ops;
extern const struct layer_ops layer_entries_ops;
extern const struct layer_ops layer_tcz_ops;
extern const struct layer_ops layer_archive_ops;
extern const struct layer_ops layer_modules_ops;
extern const struct layer_ops layer_image_ops;

#endif
