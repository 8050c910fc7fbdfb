/* Helpers for the unit tests that build a merged view from SPEC text and read it back.
 * Header-only; include after <cmocka.h> (the helpers assert with cmocka). */
#ifndef RF_VIEWTEST_H
#define RF_VIEWTEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "view.h"

/* Run a shell command built from fmt; the test fails when it exits non-zero. */
static inline void __attribute__((format(printf, 1, 2))) tu_sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	int r = system(cmd);
	if (r != 0)
		fail_msg("command failed (%d): %s", r, cmd);
	free(cmd);
}

/* The view of SPEC text whose relative paths are taken from dir; NULL with err filled on a
 * parse or build error. Owned: ovl_view_free. */
static inline struct ovl_view *tu_build(const char *dir, const char *spec_text,
					struct rf_err *err)
{
	struct spec *s = NULL;
	struct ovl_view *v = NULL;
	if (spec_parse_buffer(spec_text, strlen(spec_text), "t.spec", dir, &s, err))
		return NULL;
	if (ovl_view_build(s, &v, err))
		v = NULL;
	spec_free(s);
	return v;
}

/* A regular file's whole content, NUL-terminated, malloc'd (caller frees). */
static inline char *tu_read_all(const struct ovl_node *n)
{
	char *b = calloc(1, n->attr.size + 1);
	struct rf_err err = {0};
	assert_int_equal(ovl_node_pread(n, b, n->attr.size, 0, &err), (ssize_t)n->attr.size);
	return b;
}

#endif
