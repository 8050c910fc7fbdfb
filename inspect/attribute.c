/* Finer --by layer attribution: see attribute.h; tcz packages come from the layer itself
 * (layer_tcz_package). ELF dynamic sections are read with libelf
 * (elf(3)); the library search follows ld.so(8) without ld.so.cache, confined to the view. */
#include "attribute.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layer.h"
#include "view.h"

#define MAX_SPLIT 64		   /* members of one layer tracked (bits of a mask) */
#define MAX_ELF_BYTES (256u << 20) /* larger files are not parsed */

struct slot {
	const struct ovl_node *n;
	uint64_t mask;
};

struct split {
	const struct ovl_layer *layer;
	bool is_tcz;  /* split by the package each file came from (layer_tcz_package) */
	char **names; /* member names, [n_names] */
	int n_names;
	char **groups; /* interned group names by mask, see group_of */
	uint64_t *group_masks;
	size_t n_groups;
};

struct insp_attrib {
	const struct ovl_view *v;
	struct slot *slots; /* open addressing on the node pointer */
	size_t cap, used;
	struct split *splits;
	size_t n_splits;
};

static size_t hash_ptr(const void *p, size_t cap)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x & (cap - 1);
}

static int grow(struct insp_attrib *a)
{
	size_t cap = a->cap ? a->cap * 2 : 1024;
	struct slot *s = calloc(cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < a->cap; i++) {
		if (!a->slots[i].n)
			continue;
		size_t h = hash_ptr(a->slots[i].n, cap);
		while (s[h].n)
			h = (h + 1) & (cap - 1);
		s[h] = a->slots[i];
	}
	free(a->slots);
	a->slots = s;
	a->cap = cap;
	return 0;
}

static struct slot *lookup(const struct insp_attrib *a, const struct ovl_node *n)
{
	if (!a->cap)
		return NULL;
	for (size_t h = hash_ptr(n, a->cap);; h = (h + 1) & (a->cap - 1)) {
		if (a->slots[h].n == n)
			return &a->slots[h];
		if (!a->slots[h].n)
			return NULL;
	}
}

/* Add bit to n's mask; returns 1 when the bit is new, 0 when already set, -ENOMEM. */
static int mark(struct insp_attrib *a, const struct ovl_node *n, int bit)
{
	struct slot *s = lookup(a, n);
	if (!s) {
		if ((a->used + 1) * 2 > a->cap && grow(a))
			return -ENOMEM;
		size_t h = hash_ptr(n, a->cap);
		while (a->slots[h].n)
			h = (h + 1) & (a->cap - 1);
		s = &a->slots[h];
		s->n = n;
		a->used++;
	}
	if (s->mask & (1ull << bit))
		return 0;
	s->mask |= 1ull << bit;
	return 1;
}

static char *read_node(const struct ovl_node *n, size_t *len)
{
	if (!S_ISREG(n->attr.mode) || n->attr.size > MAX_ELF_BYTES || !n->attr.size)
		return NULL;
	char *b = malloc(n->attr.size);
	struct rf_err err = {0};
	if (b && ovl_node_pread(n, b, n->attr.size, 0, &err) != (ssize_t)n->attr.size) {
		free(b);
		return NULL;
	}
	*len = n->attr.size;
	return b;
}

/* Mark the node at guest path p (and what it resolves to); returns the resolved regular
 * file when newly marked, NULL otherwise. */
static const struct ovl_node *mark_path(struct insp_attrib *a, const char *p, int bit, int *err)
{
	while (*p == '/')
		p++;
	/* the name itself (a symlink, maybe) with its parents resolved, then its target */
	const struct ovl_node *l = NULL;
	const char *slash = strrchr(p, '/');
	if (!slash) {
		l = ovl_view_lookup(a->v, p);
	} else {
		char *dir = strndup(p, (size_t)(slash - p));
		if (!dir) {
			*err = -ENOMEM;
			return NULL;
		}
		const struct ovl_node *d = ovl_view_resolve(a->v, dir, true);
		free(dir);
		l = d && S_ISDIR(d->attr.mode) ? ovl_node_child(d, slash + 1) : NULL;
	}
	const struct ovl_node *r = ovl_view_resolve(a->v, p, true);
	if (!l || !r || !S_ISREG(r->attr.mode))
		return NULL;
	int m = mark(a, l, bit);
	int m2 = l == r ? m : mark(a, r, bit);
	if (m < 0 || m2 < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	return m2 > 0 ? r : NULL;
}

/* snprintf into a path buffer; false when it does not fit (the path is then skipped). */
static bool __attribute__((format(printf, 3, 4))) fmt(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(buf, cap, f, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < cap;
}

static const char *const default_dirs[] = {
    "lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64", "usr/lib64", "lib", "usr/lib",
};

static int elf_closure(struct insp_attrib *a, const struct ovl_node *start, int bit);

/* Find a DT_NEEDED name like ld.so would, inside the view, and recurse into it. */
static int resolve_needed(struct insp_attrib *a, const char *name, const char *runpath,
			  const char *origin, int bit)
{
	char path[4096];
	int err = 0;
	if (strchr(name, '/')) {
		const struct ovl_node *r = mark_path(a, name, bit, &err);
		return err ? err : r ? elf_closure(a, r, bit) : 0;
	}
	const char *rp = runpath ? runpath : "";
	while (*rp) {
		size_t len = strcspn(rp, ":");
		char dir[2048];
		bool ok = fmt(dir, sizeof(dir), "%.*s", (int)len, rp);
		char *o = strstr(dir, "$ORIGIN");
		if (ok && o)
			ok = fmt(path, sizeof(path), "%.*s%s%s/%s", (int)(o - dir), dir, origin,
				 o + 7, name);
		else if (ok)
			ok = fmt(path, sizeof(path), "%s/%s", dir, name);
		const char *q = path;
		while (*q == '/')
			q++;
		if (ok && ovl_view_resolve(a->v, q, true)) {
			const struct ovl_node *r = mark_path(a, q, bit, &err);
			return err ? err : r ? elf_closure(a, r, bit) : 0;
		}
		rp += len + (rp[len] == ':');
	}
	for (size_t i = 0; i < sizeof(default_dirs) / sizeof(default_dirs[0]); i++) {
		if (fmt(path, sizeof(path), "%s/%s", default_dirs[i], name) &&
		    ovl_view_resolve(a->v, path, true)) {
			const struct ovl_node *r = mark_path(a, path, bit, &err);
			return err ? err : r ? elf_closure(a, r, bit) : 0;
		}
	}
	return 0; /* not in the view: the host layer reports missing libraries itself */
}

static int elf_closure(struct insp_attrib *a, const struct ovl_node *start, int bit)
{
	size_t len = 0;
	char *buf = read_node(start, &len);
	if (!buf)
		return 0;
	int r = 0;
	Elf *e = elf_memory(buf, len);
	char **needed = NULL;
	size_t n_needed = 0;
	char *runpath = NULL, *interp = NULL;
	size_t nph = 0;
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph))
		goto out;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP && ph.p_offset < len &&
		    ph.p_filesz <= len - ph.p_offset)
			interp = strndup(buf + ph.p_offset, ph.p_filesz);
	}
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t cnt = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; d && i < cnt; i++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(d, (int)i, &dyn))
				break;
			const char *s = NULL;
			if (dyn.d_tag == DT_NEEDED || dyn.d_tag == DT_RUNPATH ||
			    dyn.d_tag == DT_RPATH)
				s = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED) {
				char **nn = realloc(needed, (n_needed + 1) * sizeof(*nn));
				if (!nn || !(nn[n_needed] = strdup(s))) {
					needed = nn ? nn : needed;
					r = -ENOMEM;
					goto out;
				}
				needed = nn;
				n_needed++;
			} else if (!runpath || dyn.d_tag == DT_RUNPATH) {
				free(runpath);
				runpath = strdup(s);
			}
		}
	}
	char *origin = ovl_node_path(start);
	if (!origin) {
		r = -ENOMEM;
		goto out;
	}
	char *slash = strrchr(origin, '/');
	if (slash)
		*slash = '\0';
	else
		origin[0] = '\0';
	if (interp) {
		int err = 0;
		mark_path(a, interp, bit, &err);
		r = err;
	}
	for (size_t i = 0; !r && i < n_needed; i++) {
		char o[4096];
		if (fmt(o, sizeof(o), "/%s", origin))
			r = resolve_needed(a, needed[i], runpath, o, bit);
	}
	free(origin);
out:
	for (size_t i = 0; i < n_needed; i++)
		free(needed[i]);
	free(needed);
	free(runpath);
	free(interp);
	if (e)
		elf_end(e);
	free(buf);
	return r;
}

/* modules.dep of the view for a modules layer whose first argument is the modules directory. */
static char *find_modules_dep(const struct insp_attrib *a, const struct ovl_layer *l,
			      char **dir_out)
{
	const char *base = strrchr(l->argv[0], '/');
	base = base ? base + 1 : l->argv[0];
	static const char *const roots[] = {"lib/modules", "usr/lib/modules"};
	for (size_t i = 0; i < 2; i++) {
		char p[4096];
		if (!fmt(p, sizeof(p), "%s/%s/modules.dep", roots[i], base))
			return NULL;
		const struct ovl_node *n = ovl_view_resolve(a->v, p, true);
		size_t len;
		char *b = n ? read_node(n, &len) : NULL;
		if (b) {
			char *s = realloc(b, len + 1);
			if (!s) {
				free(b);
				return NULL;
			}
			s[len] = '\0';
			fmt(p, sizeof(p), "%s/%s", roots[i], base);
			*dir_out = strdup(p);
			if (!*dir_out) {
				free(s);
				return NULL;
			}
			return s;
		}
	}
	return NULL;
}

/* "kernel/fs/ext4/ext4.ko.xz" -> "ext4"; '-' and '_' are the same in module names. */
static void module_name(const char *path, size_t len, char *out, size_t cap)
{
	const char *b = path;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			b = path + i + 1;
	size_t n = (size_t)(path + len - b);
	const char *ko = NULL;
	for (size_t i = 0; i + 3 <= n; i++)
		if (!memcmp(b + i, ".ko", 3))
			ko = b + i;
	if (ko)
		n = (size_t)(ko - b);
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = b[i] == '-' ? '_' : b[i];
	out[n] = '\0';
}

static int modules_closure(struct insp_attrib *a, const struct ovl_layer *l)
{
	char *dir = NULL, *dep = find_modules_dep(a, l, &dir);
	if (!dep)
		return 0;
	int r = 0;
	for (int m = 1; !r && m < l->argc && m - 1 < MAX_SPLIT; m++) {
		char want[256];
		module_name(l->argv[m], strlen(l->argv[m]), want, sizeof(want));
		/* worklist of module names, breadth first over modules.dep lines */
		char **todo = malloc(sizeof(*todo));
		size_t n_todo = 0, k = 0;
		if (!todo || !(todo[n_todo++] = strdup(want))) {
			free(todo);
			r = -ENOMEM;
			break;
		}
		for (; !r && k < n_todo; k++) {
			for (char *line = dep; *line;) {
				char *eol = strchr(line, '\n');
				size_t ll = eol ? (size_t)(eol - line) : strlen(line);
				char *colon = memchr(line, ':', ll);
				char name[256];
				if (colon) {
					module_name(line, (size_t)(colon - line), name,
						    sizeof(name));
				}
				if (colon && !strcmp(name, todo[k])) {
					char p[4096];
					int err = 0;
					if (fmt(p, sizeof(p), "%s/%.*s", dir, (int)(colon - line),
						line))
						mark_path(a, p, m - 1, &err);
					r = err;
					/* dependencies: space-separated after the colon */
					for (char *q = colon + 1; !r && q < line + ll;) {
						while (q < line + ll && *q == ' ')
							q++;
						size_t dl = strcspn(q, " \n");
						if (!dl)
							break;
						module_name(q, dl, name, sizeof(name));
						bool dup = false;
						for (size_t j = 0; j < n_todo; j++)
							dup |= !strcmp(todo[j], name);
						if (!dup) {
							char **nt = realloc(todo, (n_todo + 1) *
										      sizeof(*nt));
							if (!nt || !(nt[n_todo] = strdup(name))) {
								todo = nt ? nt : todo;
								r = -ENOMEM;
								break;
							}
							todo = nt;
							n_todo++;
						}
						q += dl;
					}
					break;
				}
				line = eol ? eol + 1 : line + ll;
			}
		}
		for (size_t j = 0; j < n_todo; j++)
			free(todo[j]);
		free(todo);
	}
	free(dep);
	free(dir);
	return r;
}

int insp_attrib_new(const struct ovl_view *v, struct insp_attrib **out, struct rf_err *err)
{
	struct insp_attrib *a = calloc(1, sizeof(*a));
	size_t n_layers;
	struct ovl_layer *const *layers = ovl_view_layers(v, &n_layers);
	int r = 0;
	if (!a)
		return rf_err_set(err, ENOMEM, "out of memory");
	a->v = v;
	elf_version(EV_CURRENT);
	a->splits = calloc(n_layers ? n_layers : 1, sizeof(*a->splits));
	if (!a->splits) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; !r && i < n_layers; i++) {
		const struct ovl_layer *l = layers[i];
		bool is_host = !strcmp(l->ops->kind, "host") && l->argc > 1;
		bool is_mod = !strcmp(l->ops->kind, "modules") && l->argc > 2;
		bool is_tcz = !strcmp(l->ops->kind, "tcz");
		if (!is_host && !is_mod && !is_tcz)
			continue;
		struct split *s = &a->splits[a->n_splits++];
		s->layer = l;
		s->is_tcz = is_tcz;
		if (is_tcz)
			continue;
		s->names = is_host ? l->argv : l->argv + 1;
		s->n_names = is_host ? l->argc : l->argc - 1;
		if (s->n_names > MAX_SPLIT)
			s->n_names = MAX_SPLIT;
		if (is_mod) {
			r = modules_closure(a, l);
			continue;
		}
		for (int b = 0; !r && b < s->n_names; b++) {
			int e = 0;
			const struct ovl_node *n = mark_path(a, l->argv[b], b, &e);
			r = e ? e : n ? elf_closure(a, n, b) : 0;
		}
	}
out:
	if (r) {
		insp_attrib_free(a);
		return rf_err_set(err, -r, "out of memory");
	}
	*out = a;
	return 0;
}

/* The interned name of a mask within a split: one member, or "shared by A, B". */
static const char *group_of(struct split *s, uint64_t mask)
{
	for (size_t i = 0; i < s->n_groups; i++)
		if (s->group_masks[i] == mask)
			return s->groups[i];
	size_t len = 16;
	for (int b = 0; b < s->n_names; b++)
		if (mask & (1ull << b))
			len += strlen(s->names[b]) + 2;
	char *g = malloc(len);
	if (!g)
		return NULL;
	if (!mask) {
		snprintf(g, len, "(other files)");
	} else if (!(mask & (mask - 1))) {
		snprintf(g, len, "%s", s->names[__builtin_ctzll(mask)]);
	} else {
		size_t at = (size_t)snprintf(g, len, "shared by ");
		for (int b = 0; b < s->n_names; b++)
			if (mask & (1ull << b))
				at += (size_t)snprintf(g + at, len - at, "%s%s",
						       at > 10 ? ", " : "", s->names[b]);
	}
	char **ng = realloc(s->groups, (s->n_groups + 1) * sizeof(*ng));
	uint64_t *nm = ng ? realloc(s->group_masks, (s->n_groups + 1) * sizeof(*nm)) : NULL;
	if (ng)
		s->groups = ng;
	if (!nm) {
		free(g);
		return NULL;
	}
	s->group_masks = nm;
	s->groups[s->n_groups] = g;
	s->group_masks[s->n_groups++] = mask;
	return g;
}

const char *insp_attrib_group(const struct insp_attrib *a, const struct ovl_node *n)
{
	if (!a || !n->layer || S_ISDIR(n->attr.mode))
		return NULL;
	for (size_t i = 0; i < a->n_splits; i++) {
		if (a->splits[i].layer != n->layer)
			continue;
		if (a->splits[i].is_tcz) {
			const char *pkg = layer_tcz_package(n->layer, n);
			return pkg ? pkg : "(other files)";
		}
		const struct slot *s = lookup(a, n);
		return group_of(&a->splits[i], s ? s->mask : 0);
	}
	return NULL;
}

void insp_attrib_free(struct insp_attrib *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_splits; i++) {
		for (size_t g = 0; g < a->splits[i].n_groups; g++)
			free(a->splits[i].groups[g]);
		free(a->splits[i].groups);
		free(a->splits[i].group_masks);
	}
	free(a->splits);
	free(a->slots);
	free(a);
}
