/* kmod's binary index (v2.0, big endian), written as depmod does: a trie whose nodes carry a
 * compressed prefix, a dense child table over the 7-bit character range [first, last] and
 * the values of the key that ends there; children are written before their parent, so every
 * offset is known when the parent is written (kmod libkmod/libkmod-index.c, tools/depmod.c). */
#include "modindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_MAGIC 0xB007F457u
#define INDEX_VERSION 0x00020001u /* major 2, minor 1 */
#define INDEX_NODE_PREFIX 0x80000000u
#define INDEX_NODE_VALUES 0x40000000u
#define INDEX_NODE_CHILDS 0x20000000u
#define INDEX_NODE_MASK 0x0FFFFFFFu
#define INDEX_CHILDMAX 128

struct mi_value {
	struct mi_value *next;
	uint32_t priority;
	char *value;
};

struct mi_node {
	char *prefix; /* the characters after the one that led here, shared by every key below */
	struct mi_value *values;
	struct mi_node *children[INDEX_CHILDMAX];
};

struct modindex {
	struct mi_node *root;
};

static struct mi_node *node_new(const char *prefix, size_t len)
{
	struct mi_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->prefix = strndup(prefix, len);
	if (!n->prefix) {
		free(n);
		return NULL;
	}
	return n;
}

static void node_free(struct mi_node *n)
{
	if (!n)
		return;
	for (int i = 0; i < INDEX_CHILDMAX; i++)
		node_free(n->children[i]);
	for (struct mi_value *v = n->values, *next; v; v = next) {
		next = v->next;
		free(v->value);
		free(v);
	}
	free(n->prefix);
	free(n);
}

int modindex_new(struct modindex **out)
{
	struct modindex *ix = calloc(1, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	ix->root = node_new("", 0);
	if (!ix->root) {
		free(ix);
		return -ENOMEM;
	}
	*out = ix;
	return 0;
}

void modindex_free(struct modindex *ix)
{
	if (!ix)
		return;
	node_free(ix->root);
	free(ix);
}

static int node_add_value(struct mi_node *n, const char *value, uint32_t priority)
{
	for (struct mi_value *v = n->values; v; v = v->next)
		if (v->priority == priority && !strcmp(v->value, value))
			return 0;
	struct mi_value **pos = &n->values;
	while (*pos && (*pos)->priority <= priority)
		pos = &(*pos)->next;
	struct mi_value *v = calloc(1, sizeof(*v));
	if (!v || !(v->value = strdup(value))) {
		free(v);
		return -ENOMEM;
	}
	v->priority = priority;
	v->next = *pos;
	*pos = v;
	return 0;
}

int modindex_add(struct modindex *ix, const char *key, const char *value, uint32_t priority)
{
	for (const char *k = key; *k; k++)
		if ((unsigned char)*k >= INDEX_CHILDMAX)
			return -EINVAL;
	struct mi_node *n = ix->root;
	size_t i = 0;
	for (;;) {
		size_t j = 0;
		while (n->prefix[j] && n->prefix[j] == key[i + j])
			j++;
		if (n->prefix[j]) {
			/* the key leaves the prefix early: split the node there */
			struct mi_node *tail =
			    node_new(n->prefix + j + 1, strlen(n->prefix + j + 1));
			if (!tail)
				return -ENOMEM;
			tail->values = n->values;
			memcpy(tail->children, n->children, sizeof(n->children));
			memset(n->children, 0, sizeof(n->children));
			n->values = NULL;
			n->children[(unsigned char)n->prefix[j]] = tail;
			n->prefix[j] = '\0';
		}
		i += j;
		unsigned char ch = (unsigned char)key[i];
		if (!ch)
			return node_add_value(n, value, priority);
		if (!n->children[ch]) {
			struct mi_node *c = node_new(key + i + 1, strlen(key + i + 1));
			if (!c)
				return -ENOMEM;
			n->children[ch] = c;
			return node_add_value(c, value, priority);
		}
		n = n->children[ch];
		i++;
	}
}

struct buf {
	unsigned char *data;
	size_t len, cap;
};

static int buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int buf_u32(struct buf *b, uint32_t v)
{
	unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v};
	return buf_put(b, be, 4);
}

/* Write n after its children; *off is its offset with the node-type flags. */
static int write_node(const struct mi_node *n, struct buf *b, uint32_t *off)
{
	uint32_t child_off[INDEX_CHILDMAX];
	int first = -1, last = -1;
	for (int c = 0; c < INDEX_CHILDMAX; c++) {
		if (!n->children[c])
			continue;
		if (first < 0)
			first = c;
		last = c;
	}
	for (int c = first; first >= 0 && c <= last; c++) {
		child_off[c] = 0;
		if (n->children[c]) {
			int r = write_node(n->children[c], b, &child_off[c]);
			if (r)
				return r;
		}
	}
	if (b->len > INDEX_NODE_MASK)
		return -EFBIG;
	uint32_t o = (uint32_t)b->len;
	int r = 0;
	if (n->prefix[0]) {
		r = buf_put(b, n->prefix, strlen(n->prefix) + 1);
		o |= INDEX_NODE_PREFIX;
	}
	if (!r && first >= 0) {
		unsigned char range[2] = {(unsigned char)first, (unsigned char)last};
		r = buf_put(b, range, 2);
		for (int c = first; !r && c <= last; c++)
			r = buf_u32(b, child_off[c]);
		o |= INDEX_NODE_CHILDS;
	}
	if (!r && n->values) {
		uint32_t count = 0;
		for (const struct mi_value *v = n->values; v; v = v->next)
			count++;
		r = buf_u32(b, count);
		for (const struct mi_value *v = n->values; v && !r; v = v->next) {
			r = buf_u32(b, v->priority);
			if (!r)
				r = buf_put(b, v->value, strlen(v->value) + 1);
		}
		o |= INDEX_NODE_VALUES;
	}
	*off = o;
	return r;
}

int modindex_write(const struct modindex *ix, void **data, size_t *len)
{
	struct buf b = {0};
	uint32_t root = 0;
	int r = buf_u32(&b, INDEX_MAGIC);
	if (!r)
		r = buf_u32(&b, INDEX_VERSION);
	if (!r)
		r = buf_u32(&b, 0); /* the root's offset, known once it is written */
	if (!r)
		r = write_node(ix->root, &b, &root);
	if (r) {
		free(b.data);
		return r;
	}
	b.data[8] = (unsigned char)(root >> 24);
	b.data[9] = (unsigned char)(root >> 16);
	b.data[10] = (unsigned char)(root >> 8);
	b.data[11] = (unsigned char)root;
	*data = b.data;
	*len = b.len;
	return 0;
}

int modindex_alias_normalize(char *alias)
{
	for (char *p = alias; *p; p++) {
		if (*p == '[') {
			char *end = strchr(p, ']');
			if (!end)
				return -EINVAL;
			p = end;
		} else if (*p == ']') {
			return -EINVAL;
		} else if (*p == '-') {
			*p = '_';
		}
	}
	return 0;
}
