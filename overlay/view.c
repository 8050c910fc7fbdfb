/* The merged view: an in-memory tree of the lower layers, newest wins. See view.h.
 * Whiteouts and opaque directories follow the OCI image spec (layer.md, "Whiteouts"). */
#include "view.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>
#include <unistd.h>

#include "layer.h"
#include "path.h"
#include "spec.h"

#define VIEW_MAX_SYMLINKS 40

struct ovl_view {
	struct ovl_node *root;
	struct ovl_layer **layers; /* [0, n_borrowed): another view's (ovl_view_clone) */
	size_t n_layers, cap_layers, n_borrowed;
	size_t n_nodes;
};

static void node_free(struct ovl_node *n);

static void xattrs_free(struct ovl_xattr *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(x[i].name);
		free(x[i].value);
	}
	free(x);
}

static void node_clear_payload(struct ovl_node *n)
{
	free(n->link_target);
	n->link_target = NULL;
	xattrs_free(n->xattrs, n->n_xattrs);
	n->xattrs = NULL;
	n->n_xattrs = 0;
	free(n->src.host_path);
	free(n->src.data);
	memset(&n->src, 0, sizeof(n->src));
}

static void node_free_children(struct ovl_node *n)
{
	for (size_t i = 0; i < n->n_children; i++)
		node_free(n->children[i]);
	free(n->children);
	n->children = NULL;
	n->n_children = n->cap_children = 0;
}

static void node_free(struct ovl_node *n)
{
	if (!n)
		return;
	node_free_children(n);
	node_clear_payload(n);
	free(n->name);
	free(n);
}

static size_t node_count(const struct ovl_node *n)
{
	size_t c = 1;
	for (size_t i = 0; i < n->n_children; i++)
		c += node_count(n->children[i]);
	return c;
}

int ovl_view_new(struct ovl_view **out)
{
	struct ovl_view *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->root = calloc(1, sizeof(*v->root));
	if (!v->root || !(v->root->name = strdup(""))) {
		free(v->root);
		free(v);
		return -ENOMEM;
	}
	v->root->attr.mode = S_IFDIR | 0755;
	v->n_nodes = 1;
	*out = v;
	return 0;
}

void ovl_view_free(struct ovl_view *v)
{
	if (!v)
		return;
	node_free(v->root);
	for (size_t i = v->n_borrowed; i < v->n_layers; i++)
		layer_free(v->layers[i]);
	free(v->layers);
	free(v);
}

struct ovl_node *ovl_view_root(const struct ovl_view *v)
{
	return v->root;
}

size_t ovl_view_count(const struct ovl_view *v)
{
	return v->n_nodes;
}

struct ovl_layer *const *ovl_view_layers(const struct ovl_view *v, size_t *n_layers)
{
	*n_layers = v->n_layers;
	return v->layers;
}

int ovl_view_add_layer(struct ovl_view *v, struct ovl_layer *layer)
{
	if (v->n_layers == v->cap_layers) {
		size_t cap = v->cap_layers ? v->cap_layers * 2 : 8;
		struct ovl_layer **l = realloc(v->layers, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		v->layers = l;
		v->cap_layers = cap;
	}
	layer->index = (unsigned)v->n_layers;
	v->layers[v->n_layers++] = layer;
	return 0;
}

/* strcmp of a and the first blen bytes of b (b need not be NUL-terminated there). */
static int name_cmp(const char *a, const char *b, size_t blen)
{
	int c = strncmp(a, b, blen);
	if (c)
		return c;
	return a[blen] == '\0' ? 0 : 1;
}

/* Binary search of a child by name; *pos receives the insertion point. */
static struct ovl_node *child_find(const struct ovl_node *dir, const char *name, size_t len,
				   size_t *pos)
{
	size_t lo = 0, hi = dir->n_children;
	/* Entries mostly arrive in sorted order: check the end first. */
	if (hi && name_cmp(dir->children[hi - 1]->name, name, len) < 0) {
		if (pos)
			*pos = hi;
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(dir->children[mid]->name, name, len);
		if (c == 0) {
			if (pos)
				*pos = mid;
			return dir->children[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return NULL;
}

struct ovl_node *ovl_node_child(const struct ovl_node *dir, const char *name)
{
	if (!S_ISDIR(dir->attr.mode))
		return NULL;
	return child_find(dir, name, strlen(name), NULL);
}

static int child_insert(struct ovl_node *dir, struct ovl_node *child, size_t pos)
{
	if (dir->n_children == dir->cap_children) {
		size_t cap = dir->cap_children ? dir->cap_children * 2 : 4;
		struct ovl_node **c = realloc(dir->children, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		dir->children = c;
		dir->cap_children = cap;
	}
	memmove(dir->children + pos + 1, dir->children + pos,
		(dir->n_children - pos) * sizeof(*dir->children));
	dir->children[pos] = child;
	dir->n_children++;
	child->parent = dir;
	return 0;
}

static void child_remove(struct ovl_view *v, struct ovl_node *dir, size_t pos)
{
	struct ovl_node *c = dir->children[pos];
	v->n_nodes -= node_count(c);
	node_free(c);
	memmove(dir->children + pos, dir->children + pos + 1,
		(dir->n_children - pos - 1) * sizeof(*dir->children));
	dir->n_children--;
}

static struct ovl_node *node_new(const char *name, size_t len)
{
	struct ovl_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strndup(name, len);
	if (!n->name) {
		free(n);
		return NULL;
	}
	return n;
}

struct ovl_node *ovl_view_lookup(const struct ovl_view *v, const char *path)
{
	struct ovl_node *n = v->root;
	const char *p = path;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (!S_ISDIR(n->attr.mode))
			return NULL;
		n = child_find(n, p, len, NULL);
		if (!n)
			return NULL;
		p += len;
		if (*p == '/')
			p++;
	}
	return n;
}

/* Resolution state: the remaining path to walk is kept in a buffer so symlink targets can be
 * spliced in front of it. Returns the node reached by the prefix walk, following symlinks in
 * every component except, when !follow_last, the last one. With create, missing directories
 * are implied for layer (put semantics). */
struct resolve_ctx {
	struct ovl_view *v;
	struct ovl_layer *layer;
	bool create;
	int depth;
};

static struct ovl_node *implied_dir(struct ovl_view *v, struct ovl_node *dir, const char *name,
				    size_t len, size_t pos, struct ovl_layer *layer)
{
	struct ovl_node *n = node_new(name, len);
	if (!n)
		return NULL;
	n->attr.mode = S_IFDIR | 0755;
	n->layer = layer;
	if (child_insert(dir, n, pos)) {
		node_free(n);
		return NULL;
	}
	v->n_nodes++;
	return n;
}

/* Walk `path` from `start`; on success returns the final node, or for create mode the parent
 * directory of the last component with *last set to it. */
static struct ovl_node *resolve_walk(struct resolve_ctx *rc, struct ovl_node *start,
				     const char *path, bool follow_last, const char **last)
{
	char *buf = strdup(path);
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	struct ovl_node *cur = start;
	char *p = buf;
	struct ovl_node *result = NULL;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			result = cur;
			if (last)
				*last = NULL;
			break;
		}
		char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *rest = p + len;
		while (*rest == '/')
			rest++;
		bool is_last = *rest == '\0';
		if (is_last && last) {
			/* create mode: stop at the parent, the caller handles the name */
			result = cur;
			*last = path_basename(path);
			break;
		}
		if (!S_ISDIR(cur->attr.mode)) {
			errno = ENOTDIR;
			break;
		}
		if (len == 1 && p[0] == '.') {
			p += len;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (cur->parent)
				cur = cur->parent;
			p += len;
			continue;
		}
		size_t pos;
		struct ovl_node *n = child_find(cur, p, len, &pos);
		if (!n) {
			if (!rc->create) {
				errno = ENOENT;
				break;
			}
			n = implied_dir(rc->v, cur, p, len, pos, rc->layer);
			if (!n) {
				errno = ENOMEM;
				break;
			}
		}
		if (S_ISLNK(n->attr.mode) && (!is_last || follow_last)) {
			if (++rc->depth > VIEW_MAX_SYMLINKS) {
				errno = ELOOP;
				break;
			}
			const char *t = n->link_target ? n->link_target : "";
			size_t tl = strlen(t), rl = strlen(rest);
			char *nb = malloc(tl + rl + 2);
			if (!nb) {
				errno = ENOMEM;
				break;
			}
			memcpy(nb, t, tl);
			nb[tl] = '/';
			memcpy(nb + tl + 1, rest, rl + 1);
			free(buf);
			buf = nb;
			p = buf;
			cur = t[0] == '/' ? rc->v->root : cur;
			continue;
		}
		cur = n;
		p += len;
	}
	free(buf);
	return result;
}

struct ovl_node *ovl_view_resolve(const struct ovl_view *v, const char *path, bool follow_last)
{
	struct resolve_ctx rc = {.v = (struct ovl_view *)v};
	return resolve_walk(&rc, v->root, path, follow_last, NULL);
}

static int xattrs_copy(const struct ovl_xattr *src, size_t n, struct ovl_xattr **out)
{
	*out = NULL;
	if (!n)
		return 0;
	struct ovl_xattr *x = calloc(n, sizeof(*x));
	if (!x)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		x[i].name = strdup(src[i].name);
		x[i].value = malloc(src[i].size ? src[i].size : 1);
		if (!x[i].name || !x[i].value) {
			xattrs_free(x, i + 1);
			return -ENOMEM;
		}
		memcpy(x[i].value, src[i].value, src[i].size);
		x[i].size = src[i].size;
	}
	*out = x;
	return 0;
}

/* Fill node n from entry e (payload only; name, parent and children untouched). */
static int node_fill(struct ovl_node *n, struct ovl_layer *layer, const struct ovl_entry *e)
{
	node_clear_payload(n);
	n->attr = e->attr;
	n->layer = layer;
	n->hardlink_key = e->hardlink_key;
	n->src.kind = e->src.kind;
	n->src.cookie = e->src.cookie;
	if (S_ISLNK(e->attr.mode)) {
		n->link_target = strdup(e->link_target ? e->link_target : "");
		if (!n->link_target)
			return -ENOMEM;
		n->attr.size = strlen(n->link_target);
	}
	if (!S_ISREG(e->attr.mode))
		n->attr.size = S_ISLNK(e->attr.mode) ? n->attr.size : 0;
	if (e->src.kind == OVL_SRC_HOST) {
		n->src.stamp = e->src.stamp;
		n->src.host_path = strdup(e->src.host_path);
		if (!n->src.host_path)
			return -ENOMEM;
	} else if (e->src.kind == OVL_SRC_MEM) {
		n->src.data = malloc(e->attr.size ? e->attr.size : 1);
		if (!n->src.data)
			return -ENOMEM;
		memcpy(n->src.data, e->src.data, e->attr.size);
	}
	return xattrs_copy(e->xattrs, e->n_xattrs, &n->xattrs) ? -ENOMEM
								: (n->n_xattrs = e->n_xattrs, 0);
}

/* A copy of node src (payload, name, numbers and children) under parent. */
static struct ovl_node *node_clone(const struct ovl_node *src, struct ovl_node *parent)
{
	struct ovl_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->parent = parent;
	const struct ovl_entry e = {
	    .attr = src->attr,
	    .link_target = src->link_target,
	    .src = src->src,
	    .hardlink_key = src->hardlink_key,
	    .xattrs = src->xattrs,
	    .n_xattrs = src->n_xattrs,
	};
	n->children = src->n_children ? calloc(src->n_children, sizeof(*n->children)) : NULL;
	if (!(n->name = strdup(src->name)) || node_fill(n, src->layer, &e) ||
	    (src->n_children && !n->children)) {
		node_free(n);
		return NULL;
	}
	n->ino = src->ino;
	n->nlink = src->nlink;
	n->is_opaque = src->is_opaque;
	n->cap_children = src->n_children;
	for (; n->n_children < src->n_children; n->n_children++)
		if (!(n->children[n->n_children] = node_clone(src->children[n->n_children], n))) {
			node_free(n);
			return NULL;
		}
	return n;
}

int ovl_view_clone(const struct ovl_view *src, struct ovl_view **out)
{
	struct ovl_view *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->layers = malloc((src->n_layers + 1) * sizeof(*v->layers));
	v->root = v->layers ? node_clone(src->root, NULL) : NULL;
	if (!v->root) {
		free(v->layers);
		free(v);
		return -ENOMEM;
	}
	memcpy(v->layers, src->layers, src->n_layers * sizeof(*v->layers));
	v->n_layers = v->n_borrowed = src->n_layers;
	v->cap_layers = src->n_layers + 1;
	v->n_nodes = src->n_nodes;
	*out = v;
	return 0;
}

static uint64_t node_host_digest(const struct ovl_node *n, uint64_t d)
{
	if (S_ISREG(n->attr.mode) && n->src.kind == OVL_SRC_HOST) {
		struct stat st;
		int64_t f[5] = {-1, -1, -1, -1, -1};
		if (!lstat(n->src.host_path, &st)) {
			struct ovl_host_stamp h = ovl_host_stamp_of(&st);
			f[0] = (int64_t)h.dev;
			f[1] = (int64_t)h.ino;
			f[2] = (int64_t)st.st_size;
			f[3] = h.mtime_ns;
			f[4] = h.ctime_ns;
		}
		d = XXH3_64bits_withSeed(f, sizeof(f), d);
	}
	for (size_t i = 0; i < n->n_children; i++)
		d = node_host_digest(n->children[i], d);
	return d;
}

uint64_t ovl_view_host_digest(const struct ovl_view *v)
{
	return node_host_digest(v->root, 0);
}

struct ovl_host_stamp ovl_host_stamp_of(const struct stat *st)
{
	return (struct ovl_host_stamp){
	    .dev = (uint64_t)st->st_dev,
	    .ino = (uint64_t)st->st_ino,
	    .mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
	    .ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec};
}

int ovl_view_put(struct ovl_view *v, struct ovl_layer *layer, const struct ovl_entry *e,
		 struct ovl_node **out, struct rf_err *err)
{
	if (e->path[0] == '\0') {
		/* the root: only a directory may stand there; keep the children */
		if (!S_ISDIR(e->attr.mode))
			return rf_err_set(err, EINVAL, "/: the root must be a directory");
		int r = node_fill(v->root, layer, e);
		if (r)
			return rf_err_set(err, -r, "out of memory");
		if (out)
			*out = v->root;
		return 0;
	}
	size_t cl = strlen(OVL_CONTROL_DIR);
	if (!strncmp(e->path, OVL_CONTROL_DIR, cl) && (!e->path[cl] || e->path[cl] == '/'))
		return rf_err_set(err, EINVAL, "/%s: the name /%s is reserved for the mount's control "
				  "directory", e->path, OVL_CONTROL_DIR);
	struct resolve_ctx rc = {.v = v, .layer = layer, .create = true};
	const char *name = NULL;
	struct ovl_node *dir = resolve_walk(&rc, v->root, e->path, false, &name);
	if (!dir || !name) {
		int code = errno ? errno : EINVAL;
		return rf_err_set(err, code, "/%s: cannot place it: %s", e->path,
				  code == ELOOP ? "too many levels of symbolic links"
						: strerror(code));
	}
	if (!S_ISDIR(dir->attr.mode))
		return rf_err_set(err, ENOTDIR, "/%s: a parent is not a directory", e->path);
	size_t nlen = strlen(name);
	size_t pos;
	struct ovl_node *n = child_find(dir, name, nlen, &pos);
	if (n && !(S_ISDIR(n->attr.mode) && S_ISDIR(e->attr.mode))) {
		child_remove(v, dir, pos);
		n = NULL;
	}
	bool is_new = !n;
	if (is_new) {
		n = node_new(name, nlen);
		if (!n)
			return rf_err_set(err, ENOMEM, "out of memory");
	}
	int r = node_fill(n, layer, e);
	if (!r && is_new) {
		r = child_insert(dir, n, pos);
		if (!r)
			v->n_nodes++;
	}
	if (r) {
		if (is_new)
			node_free(n);
		return rf_err_set(err, -r, "out of memory");
	}
	if (out)
		*out = n;
	return 0;
}

int ovl_view_whiteout(struct ovl_view *v, const char *path, struct rf_err *err)
{
	(void)err;
	size_t pl = path_parent_len(path);
	char *parent = strndup(path, pl);
	if (!parent)
		return rf_err_set(err, ENOMEM, "out of memory");
	struct ovl_node *dir = ovl_view_resolve(v, parent, true);
	free(parent);
	if (!dir || !S_ISDIR(dir->attr.mode))
		return 0;
	const char *name = path_basename(path);
	size_t pos;
	if (child_find(dir, name, strlen(name), &pos))
		child_remove(v, dir, pos);
	return 0;
}

int ovl_view_make_opaque(struct ovl_view *v, struct ovl_layer *layer, const char *path,
			 struct rf_err *err)
{
	struct ovl_node *dir = ovl_view_resolve(v, path, true);
	if (!dir)
		return rf_err_set(err, ENOENT, "/%s: no such directory to make opaque", path);
	if (!S_ISDIR(dir->attr.mode))
		return rf_err_set(err, ENOTDIR, "/%s: not a directory", path);
	size_t w = 0;
	for (size_t i = 0; i < dir->n_children; i++) {
		struct ovl_node *c = dir->children[i];
		if (c->layer != layer || !layer) {
			v->n_nodes -= node_count(c);
			node_free(c);
		} else {
			dir->children[w++] = c;
		}
	}
	dir->n_children = w;
	dir->is_opaque = true;
	return 0;
}

/* --- finalize: inode numbers and link counts --- */

struct link_slot {
	const struct ovl_layer *layer;
	uint64_t key;
	struct ovl_node *first;
	uint32_t count;
};

struct link_table {
	struct link_slot *slots;
	size_t cap, used;
};

static struct link_slot *link_slot(struct link_table *t, const struct ovl_node *n)
{
	if ((t->used + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct link_slot *s = calloc(cap, sizeof(*s));
		if (!s)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slots[i].key)
				continue;
			size_t h = (t->slots[i].key * 0x9E3779B97F4A7C15ull ^
				    (uintptr_t)t->slots[i].layer) & (cap - 1);
			while (s[h].key)
				h = (h + 1) & (cap - 1);
			s[h] = t->slots[i];
		}
		free(t->slots);
		t->slots = s;
		t->cap = cap;
	}
	size_t h = (n->hardlink_key * 0x9E3779B97F4A7C15ull ^ (uintptr_t)n->layer) & (t->cap - 1);
	while (t->slots[h].key &&
	       !(t->slots[h].key == n->hardlink_key && t->slots[h].layer == n->layer))
		h = (h + 1) & (t->cap - 1);
	if (!t->slots[h].key) {
		t->slots[h].key = n->hardlink_key;
		t->slots[h].layer = n->layer;
		t->used++;
	}
	return &t->slots[h];
}

static int finalize_node(struct ovl_node *n, uint64_t *next_ino, struct link_table *lt, int pass)
{
	if (pass == 0) {
		n->nlink = 1;
		if (S_ISREG(n->attr.mode) && n->hardlink_key) {
			struct link_slot *s = link_slot(lt, n);
			if (!s)
				return -ENOMEM;
			s->count++;
			if (!s->first) {
				s->first = n;
				n->ino = (*next_ino)++;
			} else {
				n->ino = s->first->ino;
			}
		} else {
			n->ino = (*next_ino)++;
		}
		if (S_ISDIR(n->attr.mode)) {
			n->nlink = 2;
			for (size_t i = 0; i < n->n_children; i++)
				if (S_ISDIR(n->children[i]->attr.mode))
					n->nlink++;
		}
	} else if (S_ISREG(n->attr.mode) && n->hardlink_key) {
		n->nlink = link_slot(lt, n)->count;
	}
	for (size_t i = 0; i < n->n_children; i++) {
		int r = finalize_node(n->children[i], next_ino, lt, pass);
		if (r)
			return r;
	}
	return 0;
}

int ovl_view_finalize(struct ovl_view *v)
{
	struct link_table lt = {0};
	uint64_t next_ino = 1;
	int r = finalize_node(v->root, &next_ino, &lt, 0);
	if (!r)
		r = finalize_node(v->root, &next_ino, &lt, 1);
	free(lt.slots);
	v->n_nodes = node_count(v->root);
	return r;
}

/* --- walk --- */

struct walk_buf {
	char *s;
	size_t len, cap;
};

static int walk_node(const struct ovl_node *n, struct walk_buf *b, ovl_walk_fn fn, void *ctx)
{
	int r = fn(n, b->s, ctx);
	if (r)
		return r;
	size_t base = b->len;
	for (size_t i = 0; i < n->n_children; i++) {
		const struct ovl_node *c = n->children[i];
		size_t nl = strlen(c->name);
		size_t need = base + nl + 2;
		if (need > b->cap) {
			size_t cap = b->cap * 2 > need ? b->cap * 2 : need;
			char *s = realloc(b->s, cap);
			if (!s)
				return -ENOMEM;
			b->s = s;
			b->cap = cap;
		}
		size_t o = base;
		if (base)
			b->s[o++] = '/';
		memcpy(b->s + o, c->name, nl + 1);
		b->len = o + nl;
		r = walk_node(c, b, fn, ctx);
		b->len = base;
		b->s[base] = '\0';
		if (r)
			return r;
	}
	return 0;
}

int ovl_view_walk(const struct ovl_view *v, ovl_walk_fn fn, void *ctx)
{
	struct walk_buf b = {.cap = 256};
	b.s = calloc(1, b.cap);
	if (!b.s)
		return -ENOMEM;
	int r = walk_node(v->root, &b, fn, ctx);
	free(b.s);
	return r;
}

char *ovl_node_path(const struct ovl_node *n)
{
	size_t len = 0, depth = 0;
	for (const struct ovl_node *p = n; p->parent; p = p->parent) {
		len += strlen(p->name);
		depth++;
	}
	if (depth)
		len += depth - 1;
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	s[len] = '\0';
	size_t o = len;
	for (const struct ovl_node *p = n; p->parent; p = p->parent) {
		size_t nl = strlen(p->name);
		o -= nl;
		memcpy(s + o, p->name, nl);
		if (p->parent->parent)
			s[--o] = '/';
	}
	return s;
}

ssize_t ovl_node_pread(const struct ovl_node *n, void *buf, size_t len, uint64_t off,
		       struct rf_err *err)
{
	if (off >= n->attr.size)
		return 0;
	if (len > n->attr.size - off)
		len = (size_t)(n->attr.size - off);
	switch (n->src.kind) {
	case OVL_SRC_NONE:
		memset(buf, 0, len);
		return (ssize_t)len;
	case OVL_SRC_MEM:
		memcpy(buf, (const char *)n->src.data + off, len);
		return (ssize_t)len;
	case OVL_SRC_LAYER:
		if (!n->layer || !n->layer->ops->read)
			return rf_err_set(err, EIO, "%s: layer has no content reader", n->name);
		return n->layer->ops->read(n->layer, n->src.cookie, buf, len, off, err);
	case OVL_SRC_HOST: {
		int fd = open(n->src.host_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return rf_err_errno(err, errno, "%s", n->src.host_path);
		size_t done = 0;
		while (done < len) {
			ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
			if (r < 0) {
				if (errno == EINTR)
					continue;
				int e = errno;
				close(fd);
				return rf_err_errno(err, e, "%s", n->src.host_path);
			}
			if (r == 0) {
				/* the host file shrank since it was listed */
				close(fd);
				return rf_err_set(err, EIO, "%s: file changed size while reading",
						  n->src.host_path);
			}
			done += (size_t)r;
		}
		close(fd);
		return (ssize_t)done;
	}
	}
	return rf_err_set(err, EINVAL, "bad content source");
}
