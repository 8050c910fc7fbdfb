/* A growable byte buffer for the cpio exporter: a segment's newc stream and its compressed
 * form are built whole in memory (design.md, "Exporters"). */
#ifndef RF_BUF_H
#define RF_BUF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct exp_buf {
	uint8_t *data; /* owned, free with exp_buf_free */
	size_t len;
	size_t cap;
};

/* Make room for at least extra more bytes past len. Returns 0 or -ENOMEM. */
static inline int exp_buf_reserve(struct exp_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < extra) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	uint8_t *d = realloc(b->data, cap);
	if (!d)
		return -ENOMEM;
	b->data = d;
	b->cap = cap;
	return 0;
}

static inline int exp_buf_append(struct exp_buf *b, const void *p, size_t n)
{
	int r = exp_buf_reserve(b, n);
	if (r)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static inline void exp_buf_free(struct exp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

#endif
