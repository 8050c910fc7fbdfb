/* Helpers for the unit tests that build a merged view from SPEC text and read it back.
 * Header-only; include after <cmocka.h> (the helpers assert with cmocka). */
#ifndef RF_VIEWTEST_H
#define RF_VIEWTEST_H

#include <pthread.h>
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

struct tu_reader {
	const struct ovl_node *n;
	const char *want; /* the whole content, read beforehand */
	int bad;          /* reads that came back short or different */
};

static inline void *tu_reader_run(void *p)
{
	struct tu_reader *a = p;
	char buf[3000];
	for (int round = 0; round < 20; round++)
		for (uint64_t off = 0; off < a->n->attr.size; off += 777) {
			struct rf_err err = {0};
			ssize_t got = ovl_node_pread(a->n, buf, sizeof(buf), off, &err);
			size_t want = a->n->attr.size - off < sizeof(buf) ? a->n->attr.size - off
									  : sizeof(buf);
			if (got != (ssize_t)want || memcmp(buf, a->want + off, want))
				a->bad++;
		}
	return NULL;
}

/* Four threads read the regular files one and two (two each) at overlapping, unaligned
 * offsets through ovl_node_pread at once; every read must match the content read alone.
 * A layer's ops->read must be thread-safe (layer.h): the FUSE frontend and the parallel
 * exporters read concurrently. */
static inline void tu_concurrent_reads(const struct ovl_node *one, const struct ovl_node *two)
{
	char *w1 = tu_read_all(one), *w2 = tu_read_all(two);
	struct tu_reader args[4] = {{one, w1, 0}, {two, w2, 0}, {one, w1, 0}, {two, w2, 0}};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, tu_reader_run, &args[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(args[i].bad, 0);
	}
	free(w1);
	free(w2);
}

#endif
