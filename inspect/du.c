/* The du model: see du.h. Directories are created on demand; sizes are summed once at the end
 * so readers can add entries in any order (an archive lists a file before its directory). */
#include "du.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct du_node *node_new(const char *name, size_t len, enum du_type type)
{
	struct du_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strndup(name, len);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->type = type;
	return n;
}

static void node_free(struct du_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_children; i++)
		node_free(n->children[i]);
	free(n->children);
	free(n->name);
	free(n);
}

int du_tree_new(const char *target, const char *kind, struct du_tree **out)
{
	struct du_tree *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->root = node_new("", 0, DU_DIR);
	t->target = strdup(target);
	t->kind = strdup(kind);
	if (!t->root || !t->target || !t->kind) {
		du_tree_free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void du_tree_free(struct du_tree *t)
{
	if (!t)
		return;
	node_free(t->root);
	for (size_t i = 0; i < t->n_segments; i++)
		free(t->segments[i].compression);
	free(t->segments);
	free(t->target);
	free(t->kind);
	free(t->partial_error);
	free(t->index);
	free(t);
}

static size_t index_hash(const struct du_node *dir, const char *name, size_t len, size_t cap)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)dir;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	return (size_t)(h ^ h >> 29) & (cap - 1);
}

static int index_grow(struct du_tree *t)
{
	size_t cap = t->index_cap ? t->index_cap * 2 : 1024;
	struct du_node **ix = calloc(cap, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	for (size_t i = 0; i < t->index_cap; i++) {
		struct du_node *n = t->index[i];
		if (!n)
			continue;
		size_t h = index_hash(n->parent, n->name, strlen(n->name), cap);
		while (ix[h])
			h = (h + 1) & (cap - 1);
		ix[h] = n;
	}
	free(t->index);
	t->index = ix;
	t->index_cap = cap;
	return 0;
}

/* Child of dir named name[0..len), created with type when absent. A hash index on (parent,
 * name) keeps directories of many thousand entries linear. */
static struct du_node *child_get(struct du_tree *t, struct du_node *dir, const char *name,
				 size_t len, enum du_type type)
{
	if ((t->index_used + 1) * 2 > t->index_cap && index_grow(t))
		return NULL;
	size_t h = index_hash(dir, name, len, t->index_cap);
	for (struct du_node *c; (c = t->index[h]); h = (h + 1) & (t->index_cap - 1))
		if (c->parent == dir && !strncmp(c->name, name, len) && !c->name[len])
			return c;
	if (dir->n_children == dir->cap_children) {
		size_t cap = dir->cap_children ? dir->cap_children * 2 : 4;
		struct du_node **nc = realloc(dir->children, cap * sizeof(*nc));
		if (!nc)
			return NULL;
		dir->children = nc;
		dir->cap_children = cap;
	}
	struct du_node *c = node_new(name, len, type);
	if (!c)
		return NULL;
	c->parent = dir;
	dir->children[dir->n_children++] = c;
	t->index[h] = c;
	t->index_used++;
	return c;
}

int du_tree_add(struct du_tree *t, const char *group, const char *subgroup, const char *path,
		enum du_type type, uint64_t size_bytes, uint64_t compressed_bytes)
{
	return du_tree_add_attr(t, group, subgroup, path, type, size_bytes, compressed_bytes, NULL);
}

int du_tree_add_attr(struct du_tree *t, const char *group, const char *subgroup, const char *path,
		     enum du_type type, uint64_t size_bytes, uint64_t compressed_bytes,
		     const struct du_attr *a)
{
	struct du_node *n = t->root;
	if (group) {
		n = child_get(t, n, group, strlen(group), DU_GROUP);
		if (!n)
			return -ENOMEM;
		if (subgroup && !(n = child_get(t, n, subgroup, strlen(subgroup), DU_GROUP)))
			return -ENOMEM;
	}
	const char *p = path;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len) {
			n = child_get(t, n, p, len, slash ? DU_DIR : type);
			if (!n)
				return -ENOMEM;
			if (!slash && n->type == DU_DIR && type != DU_DIR)
				n->type = type; /* a file replaced a directory of the same name */
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	n->size_bytes += size_bytes;
	n->compressed_bytes += compressed_bytes;
	if (a) {
		n->attr = *a;
		n->has_attr = true;
	}
	if (type != DU_META)
		n->n_entries++;
	return 0;
}

int du_tree_add_segment(struct du_tree *t, const char *compression, uint64_t offset,
			uint64_t compressed_bytes, uint64_t size_bytes)
{
	struct du_segment *ns = realloc(t->segments, (t->n_segments + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	t->segments = ns;
	struct du_segment *s = &ns[t->n_segments];
	s->compression = strdup(compression);
	if (!s->compression)
		return -ENOMEM;
	s->offset = offset;
	s->compressed_bytes = compressed_bytes;
	s->size_bytes = size_bytes;
	t->n_segments++;
	return 0;
}

static int cmp_size(const void *a, const void *b, void *arg)
{
	const struct du_node *x = *(struct du_node *const *)a, *y = *(struct du_node *const *)b;
	bool sort_by_compressed = *(const bool *)arg;
	uint64_t kx = sort_by_compressed ? x->compressed_bytes : x->size_bytes;
	uint64_t ky = sort_by_compressed ? y->compressed_bytes : y->size_bytes;
	if (kx != ky)
		return kx > ky ? -1 : 1;
	if (x->size_bytes != y->size_bytes)
		return x->size_bytes > y->size_bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void finish(struct du_node *n, bool *by_compressed)
{
	for (size_t i = 0; i < n->n_children; i++) {
		struct du_node *c = n->children[i];
		finish(c, by_compressed);
		n->size_bytes += c->size_bytes;
		n->compressed_bytes += c->compressed_bytes;
		n->n_entries += c->n_entries;
	}
	if (n->n_children > 1)
		qsort_r(n->children, n->n_children, sizeof(*n->children), cmp_size, by_compressed);
}

void du_tree_finish(struct du_tree *t)
{
	bool by_compressed = t->has_compressed;
	free(t->index);
	t->index = NULL; /* no adds after finish */
	t->index_cap = t->index_used = 0;
	finish(t->root, &by_compressed);
}

char *du_node_path(const struct du_node *n)
{
	size_t len = 1;
	for (const struct du_node *p = n; p->parent; p = p->parent)
		len += strlen(p->name) + 3;
	char *s = malloc(len + 1), *end = s + len;
	if (!s)
		return NULL;
	*end = '\0';
	for (const struct du_node *p = n; p->parent; p = p->parent) {
		size_t l = strlen(p->name);
		if (p->type == DU_GROUP) {
			*--end = ']';
			end -= l;
			memcpy(end, p->name, l);
			*--end = '[';
		} else {
			end -= l;
			memcpy(end, p->name, l);
		}
		if (p->parent->parent || p->type != DU_GROUP)
			*--end = '/';
	}
	if (!*end)
		*--end = '/';
	memmove(s, end, strlen(end) + 1);
	return s;
}

struct leaves {
	struct du_node **v;
	size_t n, cap;
	bool all_dirs;
};

bool du_node_is_leaf(const struct du_node *n)
{
	return n->type == DU_FILE || n->type == DU_META || (n->type == DU_DIR && !n->n_children);
}

static int collect(struct du_node *n, struct leaves *l)
{
	if (n->parent && (du_node_is_leaf(n) || (l->all_dirs && n->type == DU_DIR))) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 64;
			struct du_node **nv = realloc(l->v, cap * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			l->v = nv;
			l->cap = cap;
		}
		l->v[l->n++] = n;
	}
	for (size_t i = 0; i < n->n_children; i++)
		if (collect(n->children[i], l))
			return -ENOMEM;
	return 0;
}

int du_tree_leaves(const struct du_tree *t, bool all_dirs, struct du_node ***out, size_t *n_out)
{
	struct leaves l = {.all_dirs = all_dirs};
	if (collect(t->root, &l)) {
		free(l.v);
		return -ENOMEM;
	}
	*out = l.v;
	*n_out = l.n;
	return 0;
}
