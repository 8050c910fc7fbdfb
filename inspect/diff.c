/* diff of two du trees: see diff.h. Leaves are matched by path after sorting both sides. */
#include "diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "output.h"

struct leaf {
	char *path;
	const struct du_node *n;
};

static int cmp_leaf(const void *a, const void *b)
{
	return strcmp(((const struct leaf *)a)->path, ((const struct leaf *)b)->path);
}

static void leaves_free(struct leaf *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].path);
	free(l);
}

static int leaves_sorted(const struct du_tree *t, struct leaf **out, size_t *n_out)
{
	struct du_node **v;
	size_t n;
	if (du_tree_leaves(t, true, &v, &n))
		return -ENOMEM;
	struct leaf *l = calloc(n ? n : 1, sizeof(*l));
	if (!l) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		l[i].n = v[i];
		if (!(l[i].path = du_node_path(v[i]))) {
			free(v);
			leaves_free(l, n);
			return -ENOMEM;
		}
	}
	free(v);
	qsort(l, n, sizeof(*l), cmp_leaf);
	*out = l;
	*n_out = n;
	return 0;
}

static uint64_t mag(const struct du_change *c, bool cmp_comp)
{
	uint64_t o = cmp_comp ? c->old_comp : c->old_size, n = cmp_comp ? c->new_comp : c->new_size;
	return o > n ? o - n : n - o;
}

static int cmp_change(const void *a, const void *b, void *arg)
{
	const struct du_change *x = a, *y = b;
	bool cmp_comp = *(const bool *)arg;
	uint64_t mx = mag(x, cmp_comp), my = mag(y, cmp_comp);
	if (mx != my)
		return mx > my ? -1 : 1;
	return strcmp(x->path, y->path);
}

static unsigned what_changed(const struct du_node *x, const struct du_node *y)
{
	unsigned w = 0;
	if (x->size_bytes != y->size_bytes && !(x->type == DU_DIR && y->type == DU_DIR))
		w |= DU_CH_SIZE;
	if (x->type != y->type)
		w |= DU_CH_TYPE;
	if (!x->has_attr || !y->has_attr)
		return w;
	const struct du_attr *a = &x->attr, *b = &y->attr;
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
		w |= DU_CH_TYPE;
	if ((a->mode & 07777) != (b->mode & 07777))
		w |= DU_CH_MODE;
	if (a->uid != b->uid || a->gid != b->gid)
		w |= DU_CH_OWNER;
	if (w & DU_CH_TYPE)
		return w;
	if ((S_ISCHR(a->mode) || S_ISBLK(a->mode)) && a->rdev != b->rdev)
		w |= DU_CH_RDEV;
	if (a->has_digest && b->has_digest && a->digest != b->digest)
		w |= S_ISLNK(a->mode) ? DU_CH_TARGET : DU_CH_CONTENT;
	return w;
}

const char *du_what_names(unsigned what, char *buf, size_t size)
{
	static const char *const names[] = {"size", "type",  "content", "target",
					    "mode", "owner", "rdev"};
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (what & 1u << i && at < size)
			at +=
			    (size_t)snprintf(buf + at, size - at, "%s%s", at ? "," : "", names[i]);
	return buf;
}

static int push(struct du_diff *d, size_t *cap, char kind, const char *path,
		const struct du_node *o, const struct du_node *n, unsigned what)
{
	if (d->n_changes == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		struct du_change *nc = realloc(d->changes, *cap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		d->changes = nc;
	}
	struct du_change *c = &d->changes[d->n_changes];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->what = what;
	if (!(c->path = strdup(path)))
		return -ENOMEM;
	if (o) {
		c->old_size = o->size_bytes;
		c->old_comp = o->compressed_bytes;
	}
	if (n) {
		c->new_size = n->size_bytes;
		c->new_comp = n->compressed_bytes;
	}
	d->n_changes++;
	return 0;
}

int du_diff_compute(const struct du_tree *a, const struct du_tree *b, struct du_diff **out)
{
	struct leaf *la = NULL, *lb = NULL;
	size_t na = 0, nb = 0, cap = 0;
	struct du_diff *d = calloc(1, sizeof(*d));
	int r = -ENOMEM;
	if (!d || leaves_sorted(a, &la, &na) || leaves_sorted(b, &lb, &nb))
		goto out;
	d->has_compressed = a->has_compressed && b->has_compressed;
	d->old_total = a->root->size_bytes;
	d->new_total = b->root->size_bytes;
	d->old_comp_total = a->root->compressed_bytes;
	d->new_comp_total = b->root->compressed_bytes;
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(la[i].path, lb[j].path);
		/* a directory with entries is added or removed through its leaves; a DU_META line
		 * on one side only (an archive against a view) is no guest path */
		if (c < 0) {
			if (du_node_is_leaf(la[i].n) && la[i].n->type != DU_META &&
			    push(d, &cap, '-', la[i].path, la[i].n, NULL, 0))
				goto out;
			i++;
		} else if (c > 0) {
			if (du_node_is_leaf(lb[j].n) && lb[j].n->type != DU_META &&
			    push(d, &cap, '+', lb[j].path, NULL, lb[j].n, 0))
				goto out;
			j++;
		} else {
			const struct du_node *x = la[i].n, *y = lb[j].n;
			/* a compressed cost alone moves with its neighbours: not a change */
			unsigned w = what_changed(x, y);
			if (w && push(d, &cap, '~', la[i].path, x, y, w))
				goto out;
			i++;
			j++;
		}
	}
	if (d->n_changes > 1)
		qsort_r(d->changes, d->n_changes, sizeof(*d->changes), cmp_change,
			&d->has_compressed);
	*out = d;
	d = NULL;
	r = 0;
out:
	leaves_free(la, na);
	leaves_free(lb, nb);
	du_diff_free(d);
	return r;
}

void du_diff_free(struct du_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_changes; i++)
		free(d->changes[i].path);
	free(d->changes);
	free(d);
}

static const char *delta(uint64_t o, uint64_t n, bool is_bytes, char buf[40])
{
	char h[32];
	snprintf(buf, 40, "%c%s", n >= o ? '+' : '-',
		 du_human(n >= o ? n - o : o - n, is_bytes, h));
	return buf;
}

int du_diff_print_text(FILE *f, const struct du_diff *d, bool is_bytes, size_t top)
{
	char a[32], b[32], c[40], e[40], w[80];
	size_t n = top && top < d->n_changes ? top : d->n_changes;
	for (size_t i = 0; i < n; i++) {
		const struct du_change *x = &d->changes[i];
		fprintf(f, "%c %10s", x->kind, delta(x->old_size, x->new_size, is_bytes, c));
		if (d->has_compressed)
			fprintf(f, " %10s", delta(x->old_comp, x->new_comp, is_bytes, e));
		if (x->kind == '~')
			fprintf(f, "  %s -> %s", du_human(x->old_size, is_bytes, a),
				du_human(x->new_size, is_bytes, b));
		fprintf(f, "  %s", x->path);
		if (x->what)
			fprintf(f, "  (%s)", du_what_names(x->what, w, sizeof(w)));
		fputc('\n', f);
	}
	if (n < d->n_changes)
		fprintf(f, "(%zu more changes)\n", d->n_changes - n);
	fprintf(f, "total: %s -> %s (%s)", du_human(d->old_total, is_bytes, a),
		du_human(d->new_total, is_bytes, b),
		delta(d->old_total, d->new_total, is_bytes, c));
	if (d->has_compressed)
		fprintf(f, ", compressed %s -> %s (%s)", du_human(d->old_comp_total, is_bytes, a),
			du_human(d->new_comp_total, is_bytes, b),
			delta(d->old_comp_total, d->new_comp_total, is_bytes, e));
	fprintf(f, ", %zu changes\n", d->n_changes);
	return ferror(f) ? -EIO : 0;
}

int du_diff_print_json(FILE *f, const struct du_diff *d, size_t top)
{
	size_t n = top && top < d->n_changes ? top : d->n_changes;
	fprintf(f, "{\"has_compressed\":%s,\"old_total\":%" PRIu64 ",\"new_total\":%" PRIu64,
		d->has_compressed ? "true" : "false", d->old_total, d->new_total);
	if (d->has_compressed)
		fprintf(f,
			",\"old_compressed_total\":%" PRIu64 ",\"new_compressed_total\":%" PRIu64,
			d->old_comp_total, d->new_comp_total);
	fprintf(f, ",\"n_changes\":%zu,\"changes\":[", d->n_changes);
	for (size_t i = 0; i < n; i++) {
		const struct du_change *x = &d->changes[i];
		fprintf(f, "%s{\"kind\":\"%s\",\"path\":", i ? "," : "",
			x->kind == '+'	 ? "added"
			: x->kind == '-' ? "removed"
					 : "changed");
		du_json_string(f, x->path);
		fprintf(f, ",\"old_size\":%" PRIu64 ",\"new_size\":%" PRIu64, x->old_size,
			x->new_size);
		if (d->has_compressed)
			fprintf(f, ",\"old_compressed\":%" PRIu64 ",\"new_compressed\":%" PRIu64,
				x->old_comp, x->new_comp);
		if (x->what) {
			char w[80];
			du_what_names(x->what, w, sizeof(w));
			fputs(",\"what\":[\"", f);
			for (const char *p = w; *p; p++)
				fputs(*p == ',' ? "\",\"" : (char[]){*p, 0}, f);
			fputs("\"]", f);
		}
		fputc('}', f);
	}
	fputs("]}\n", f);
	return ferror(f) ? -EIO : 0;
}
