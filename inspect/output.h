/* Outputs of `du` and `diff`: a du(1)/ncdu-like text tree, JSON for scripts, and a
 * self-contained HTML page (inline CSS/JS, no network) with a zoomable treemap whose data
 * block is the same JSON. */
#ifndef RF_OUTPUT_H
#define RF_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "du.h"
#include "err.h"

struct du_print_opts {
	int max_depth; /* deepest level shown (the root is 0); -1: all */
	size_t top;    /* per directory, the N largest children, the rest on one line; 0: all */
	bool is_bytes; /* exact byte counts instead of K/M/G (1024-based, as du -h) */
};

/* Print t (finished) as an indented tree, largest first, then a summary. Returns 0 or -EIO. */
int du_print_text(FILE *f, const struct du_tree *t, const struct du_print_opts *o);

/* Print t as one JSON object: {"target", "kind", "has_compressed", "file_bytes",
 * "stream_bytes", "segments": [...], "partial_error"?, "tree": node} where a node is
 * {"name", "path", "type": dir|file|group|meta|more, "size", "compressed"?, "entries",
 * "children"?}. Depth and top apply as in the text output. Returns 0 or -EIO. */
int du_print_json(FILE *f, const struct du_tree *t, const struct du_print_opts *o);

/* Write the HTML treemap page of t to path (through a temporary file renamed into place).
 * Its <script type="application/json" id="du-data"> block holds du_print_json's output.
 * Returns 0 or a negative errno with err naming the file. */
int du_write_html(const char *path, const struct du_tree *t, const struct du_print_opts *o,
		  struct rf_err *err);

/* "1.5M" style (1024-based, like du -h) or the exact count with is_bytes; into buf. */
const char *du_human(uint64_t bytes, bool is_bytes, char buf[32]);

/* Write s as a JSON string literal ('<' escaped so it can sit in an HTML script block). */
void du_json_string(FILE *f, const char *s);

#endif
