/* Planning a segmented cpio export: stable inode numbers and content-defined cut points.
 * See segment.h; newc layout from the kernel's buffer-format.rst (110-byte header, name and
 * data each padded to a multiple of 4). */
#include "segment.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#define NEWC_HEADER 110u

static uint64_t pad4(uint64_t x)
{
	return (x + 3) & ~(uint64_t)3;
}

/* Open-addressing set of 64-bit keys mapping to a size_t (0 = empty key never used: keys are
 * stored +1). */
struct umap {
	uint64_t *keys;
	size_t *vals;
	size_t cap;
};

static int umap_init(struct umap *m, size_t n)
{
	m->cap = 16;
	while (m->cap < n * 2)
		m->cap *= 2;
	m->keys = calloc(m->cap, sizeof(*m->keys));
	m->vals = calloc(m->cap, sizeof(*m->vals));
	return m->keys && m->vals ? 0 : -ENOMEM;
}

/* Slot of key: found (keys[i] == key + 1) or empty. */
static size_t umap_slot(const struct umap *m, uint64_t key)
{
	size_t i = (size_t)((key + 1) * 0x9E3779B97F4A7C15ull) & (m->cap - 1);
	while (m->keys[i] && m->keys[i] != key + 1)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void umap_free(struct umap *m)
{
	free(m->keys);
	free(m->vals);
}

int seg_assign_inodes(struct seg_entry *e, size_t n)
{
	struct umap groups = {0}, used = {0};
	int r = umap_init(&groups, n);
	if (!r)
		r = umap_init(&used, n);
	if (r)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct ovl_node *nd = e[i].n;
		size_t len = strlen(e[i].path);
		e[i].path_hash = XXH3_64bits(e[i].path, len);
		e[i].is_dir = S_ISDIR(nd->attr.mode);
		e[i].nlink = nd->nlink ? nd->nlink : 1;
		e[i].group_last = i;
		uint32_t ino = (uint32_t)(e[i].path_hash ^ (e[i].path_hash >> 32));
		if (S_ISREG(nd->attr.mode) && e[i].nlink > 1) {
			size_t s = umap_slot(&groups, nd->ino);
			if (groups.keys[s]) {
				size_t first = groups.vals[s];
				ino = e[first].ino;
				/* every earlier member now points at i as the group's last */
				for (size_t k = first; k < i; k++)
					if (e[k].n->ino == nd->ino && S_ISREG(e[k].n->attr.mode) &&
					    e[k].nlink > 1)
						e[k].group_last = i;
			} else {
				size_t u;
				while (ino == 0 || used.keys[u = umap_slot(&used, ino)])
					ino++;
				used.keys[u] = (uint64_t)ino + 1;
				groups.keys[s] = nd->ino + 1;
				groups.vals[s] = i;
			}
		}
		e[i].ino = ino ? ino : 1;
		e[i].has_data = S_ISLNK(nd->attr.mode) || S_ISREG(nd->attr.mode);
		e[i].size = e[i].has_data ? nd->attr.size : 0;
		e[i].bytes = pad4(NEWC_HEADER + len + 1) + pad4(e[i].size);
	}
	/* within a group only the last entry carries the data */
	for (size_t i = 0; i < n; i++)
		if (e[i].group_last != i && S_ISREG(e[i].n->attr.mode)) {
			e[i].has_data = false;
			e[i].size = 0;
			e[i].bytes = pad4(NEWC_HEADER + strlen(e[i].path) + 1);
		}
out:
	umap_free(&groups);
	umap_free(&used);
	return r;
}

int seg_plan(const struct seg_entry *e, size_t n, uint64_t target_bytes, size_t **starts,
	     size_t *n_segs)
{
	size_t cap = 16, count = 0;
	size_t *s = malloc(cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	s[count++] = 0;
	uint64_t cur = 0;
	size_t open_until = 0; /* a hard-link group spans up to this entry */
	for (size_t i = 0; i < n; i++) {
		if (target_bytes && i > s[count - 1]) {
			uint64_t h = e[i].path_hash;
			/* a group is split only past the hard maximum: the tools join its members
			 * by inode across the whole stream, the segments merely lose locality */
			bool cut = (i > open_until && e[i].is_dir && cur >= target_bytes / 4 &&
				    (h & 3) == 0) ||
				   (i > open_until && cur >= target_bytes && (h >> 2 & 15) == 0) ||
				   cur >= 4 * target_bytes;
			if (cut) {
				if (count == cap) {
					size_t *ns = realloc(s, (cap *= 2) * sizeof(*s));
					if (!ns) {
						free(s);
						return -ENOMEM;
					}
					s = ns;
				}
				s[count++] = i;
				cur = 0;
			}
		}
		cur += e[i].bytes;
		if (e[i].group_last > open_until)
			open_until = e[i].group_last;
	}
	*starts = s;
	*n_segs = count;
	return 0;
}
