/* The modules layer: `modules DIR NAME...` puts the named kernel modules (or aliases) of DIR
 * (/lib/modules/VERSION) with their dependency closure, soft dependencies included, at
 * /lib/modules/VERSION in the guest, with the modules.* files regenerated for that subset as
 * depmod(8) would write them, so busybox's and kmod's modprobe(8) both find them. libkmod
 * resolves names, aliases, modules.dep and modules.softdep (modprobe.d(5), "softdep"). */
#include <errno.h>
#include <libkmod.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layer.h"
#include "modindex.h"
#include "path.h"
#include "view.h"

struct strset {
	char **s;
	size_t n, cap;
};

static bool strset_has(const struct strset *set, const char *s)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->s[i], s))
			return true;
	return false;
}

static int strset_add(struct strset *set, const char *s)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		char **n = realloc(set->s, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		set->s = n;
		set->cap = cap;
	}
	if (!(set->s[set->n] = strdup(s)))
		return -ENOMEM;
	set->n++;
	return 0;
}

static void strset_free(struct strset *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->s[i]);
	free(set->s);
}

struct mod_ctx {
	struct ovl_layer *layer;
	struct ovl_view *view;
	struct rf_err *err;
	const char *dir;     /* DIR as given, for messages */
	char real[PATH_MAX]; /* DIR, resolved */
	char *guest;	     /* lib/modules/VERSION */
	struct kmod_ctx *kmod;
	struct strset names; /* module names (underscored) in the closure, builtins included */
	struct strset rels;  /* their files, relative to DIR */
	int64_t mtime;	     /* of DIR/modules.dep: the generated files get it */
};

static void kmod_silent(void *data, int priority, const char *file, int line, const char *fn,
			const char *format, va_list args)
{
	(void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

/* The module name of a path as kmod derives it: the basename up to its first '.', with '-'
 * read as '_'. */
static void modname_of(const char *path, char *out, size_t size)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t i = 0;
	for (; b[i] && b[i] != '.' && i + 1 < size; i++)
		out[i] = b[i] == '-' ? '_' : b[i];
	out[i] = '\0';
}

static void normalize_name(const char *name, char *out, size_t size)
{
	size_t i = 0;
	for (; name[i] && i + 1 < size; i++)
		out[i] = name[i] == '-' ? '_' : name[i];
	out[i] = '\0';
}

static int visit_list(struct mod_ctx *c, struct kmod_list *list, int depth);

/* Add mod, its modules.dep dependencies and its soft dependencies (pre and post). */
static int visit(struct mod_ctx *c, struct kmod_module *mod, int depth)
{
	char name[256];
	normalize_name(kmod_module_get_name(mod), name, sizeof(name));
	if (strset_has(&c->names, name))
		return 0;
	if (depth > 256)
		return rf_err_set(c->err, ELOOP, "%s: dependency chain of '%s' too deep", c->dir,
				  name);
	if (strset_add(&c->names, name))
		return rf_err_set(c->err, ENOMEM, "out of memory");
	const char *path = kmod_module_get_path(mod);
	if (path) { /* NULL: built into the kernel, nothing to add */
		size_t dl = strlen(c->real);
		if (strncmp(path, c->real, dl) || path[dl] != '/')
			return rf_err_set(c->err, EINVAL,
					  "%s/modules.dep: module '%s' lies outside the directory "
					  "(%s)",
					  c->dir, name, path);
		if (strset_add(&c->rels, path + dl + 1))
			return rf_err_set(c->err, ENOMEM, "out of memory");
	}
	struct kmod_list *deps = kmod_module_get_dependencies(mod);
	int r = visit_list(c, deps, depth + 1);
	kmod_module_unref_list(deps);
	if (r)
		return r;
	struct kmod_list *pre = NULL, *post = NULL;
	if (kmod_module_get_softdeps(mod, &pre, &post) == 0) {
		r = visit_list(c, pre, depth + 1);
		if (!r)
			r = visit_list(c, post, depth + 1);
	}
	kmod_module_unref_list(pre);
	kmod_module_unref_list(post);
	return r;
}

static int visit_list(struct mod_ctx *c, struct kmod_list *list, int depth)
{
	struct kmod_list *l;
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);
		int r = visit(c, m, depth);
		kmod_module_unref(m);
		if (r)
			return r;
	}
	return 0;
}

/* Read DIR/name whole; *out malloc'd and NUL-terminated, NULL when the file is absent. */
static int slurp(struct mod_ctx *c, const char *name, char **out)
{
	char *p = path_join(c->real, name);
	if (!p)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	*out = NULL;
	FILE *f = fopen(p, "re");
	free(p);
	if (!f)
		return errno == ENOENT ? 0 : rf_err_errno(c->err, errno, "%s/%s", c->dir, name);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[65536];
	size_t n;
	int r = m ? 0 : rf_err_set(c->err, ENOMEM, "out of memory");
	while (!r && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (fwrite(chunk, 1, n, m) != n)
			r = rf_err_set(c->err, ENOMEM, "out of memory");
	if (!r && ferror(f))
		r = rf_err_errno(c->err, EIO, "%s/%s", c->dir, name);
	fclose(f);
	if (m)
		fclose(m);
	if (r) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

static int put_mem(struct mod_ctx *c, const char *name, const void *data, size_t len)
{
	char *g = path_join(c->guest, name);
	if (!g)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	struct ovl_entry e = {
	    .path = g,
	    .attr = {.mode = S_IFREG | 0644, .size = len, .mtime_sec = c->mtime},
	    .src = {.kind = len ? OVL_SRC_MEM : OVL_SRC_NONE, .data = (void *)data},
	};
	int r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
	free(g);
	return r;
}

static int put_index(struct mod_ctx *c, const char *name, const struct modindex *ix)
{
	void *data;
	size_t len;
	int r = modindex_write(ix, &data, &len);
	if (r)
		return rf_err_set(c->err, -r, "%s/%s: cannot build the index", c->dir, name);
	r = put_mem(c, name, data, len);
	free(data);
	return r;
}

/* The field (0-based, blank-separated) of line, copied into out. */
static bool field(const char *line, int n, char *out, size_t size)
{
	const char *p = line;
	for (int i = 0;; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			return false;
		size_t len = strcspn(p, " \t\n");
		if (i == n) {
			if (len >= size)
				return false;
			memcpy(out, p, len);
			out[len] = '\0';
			return true;
		}
		p += len;
	}
}

/* Kinds of line filters for the text files depmod writes. */
enum filt {
	FILT_DEP,     /* "REL: DEPS": REL in the subset */
	FILT_ORDER,   /* "REL" */
	FILT_ALIAS,   /* "alias KEY MODNAME" (modules.alias, modules.symbols) */
	FILT_SOFTDEP, /* "softdep MODNAME pre: ... post: ..." */
	FILT_DEVNAME, /* "MODNAME DEVNAME TYPE" */
};

/* Filter DIR/name line by line to the subset, put it, and when ix is non-NULL index the kept
 * lines as depmod does for its .bin twin. prio: the module names in modules.dep order. */
static int filter_file(struct mod_ctx *c, const char *name, enum filt kind, struct modindex *ix,
		       struct strset *prio)
{
	char *text = NULL;
	int r = slurp(c, name, &text);
	if (r)
		return r;
	if (!text) {
		if (kind == FILT_DEP)
			return rf_err_set(c->err, ENOENT,
					  "%s/modules.dep: No such file (run depmod for it)",
					  c->dir);
		return 0;
	}
	char *out = NULL;
	size_t out_len = 0;
	FILE *m = open_memstream(&out, &out_len);
	if (!m) {
		free(text);
		return rf_err_set(c->err, ENOMEM, "out of memory");
	}
	char *save = NULL, *pending_comment = NULL;
	for (char *ln = strtok_r(text, "\n", &save); ln && !r; ln = strtok_r(NULL, "\n", &save)) {
		char a[PATH_MAX], b[PATH_MAX], mod[256];
		bool keep = false, is_comment = ln[0] == '#';
		switch (kind) {
		case FILT_DEP: {
			char *colon = strchr(ln, ':');
			if (!colon)
				break;
			*colon = '\0';
			keep = strset_has(&c->rels, ln);
			*colon = ':';
			break;
		}
		case FILT_ORDER:
			keep = strset_has(&c->rels, ln);
			break;
		case FILT_ALIAS:
			if (!is_comment && field(ln, 2, mod, sizeof(mod)))
				keep = strset_has(&c->names, mod);
			break;
		case FILT_SOFTDEP:
			if (!is_comment && field(ln, 1, a, sizeof(a))) {
				normalize_name(a, mod, sizeof(mod));
				keep = strset_has(&c->names, mod);
			}
			break;
		case FILT_DEVNAME:
			if (!is_comment && field(ln, 0, a, sizeof(a))) {
				normalize_name(a, mod, sizeof(mod));
				keep = strset_has(&c->names, mod);
			}
			break;
		}
		if (is_comment && kind != FILT_DEP && kind != FILT_ORDER)
			keep = true;
		if (!keep)
			continue;
		/* depmod heads modules.devname with its comment only when it has entries */
		if (kind == FILT_DEVNAME && is_comment) {
			if (!pending_comment)
				pending_comment = ln;
			continue;
		}
		if (pending_comment) {
			fprintf(m, "%s\n", pending_comment);
			pending_comment = NULL;
		}
		fprintf(m, "%s\n", ln);
		if (!ix || is_comment)
			continue;
		if (kind == FILT_DEP) {
			char *colon = strchr(ln, ':');
			*colon = '\0';
			modname_of(ln, mod, sizeof(mod));
			*colon = ':';
			r = strset_add(prio, mod);
			if (!r)
				r = modindex_add(ix, mod, ln, (uint32_t)(prio->n - 1));
		} else if (field(ln, 1, a, sizeof(a)) && field(ln, 2, b, sizeof(b))) {
			uint32_t p = 0;
			while (p < prio->n && strcmp(prio->s[p], b))
				p++;
			/* depmod skips aliases with an unmatched bracket, and so do we */
			if (!strncmp(a, "symbol:", 7) || !modindex_alias_normalize(a))
				r = modindex_add(ix, a, b, p);
		}
		if (r)
			r = rf_err_set(c->err, -r, "%s/%s: cannot index line '%s'", c->dir, name,
				       ln);
	}
	free(text);
	if (fclose(m) && !r)
		r = rf_err_set(c->err, ENOMEM, "out of memory");
	if (!r)
		r = put_mem(c, name, out, out_len);
	free(out);
	return r;
}

/* The text files and the .bin indexes of the subset. */
static int put_indexes(struct mod_ctx *c)
{
	struct modindex *dep = NULL, *alias = NULL, *sym = NULL;
	struct strset prio = {0};
	int r = modindex_new(&dep);
	if (!r)
		r = modindex_new(&alias);
	if (!r)
		r = modindex_new(&sym);
	if (r) {
		r = rf_err_set(c->err, ENOMEM, "out of memory");
		goto out;
	}
	r = filter_file(c, "modules.dep", FILT_DEP, dep, &prio);
	if (!r)
		r = put_index(c, "modules.dep.bin", dep);
	if (!r)
		r = filter_file(c, "modules.alias", FILT_ALIAS, alias, &prio);
	if (!r)
		r = put_index(c, "modules.alias.bin", alias);
	if (!r)
		r = filter_file(c, "modules.symbols", FILT_ALIAS, sym, &prio);
	if (!r)
		r = put_index(c, "modules.symbols.bin", sym);
	if (!r)
		r = filter_file(c, "modules.softdep", FILT_SOFTDEP, NULL, NULL);
	if (!r)
		r = filter_file(c, "modules.devname", FILT_DEVNAME, NULL, NULL);
	if (!r)
		r = filter_file(c, "modules.order", FILT_ORDER, NULL, NULL);
out:
	modindex_free(dep);
	modindex_free(alias);
	modindex_free(sym);
	strset_free(&prio);
	return r;
}

/* A file of DIR as it is in the guest (modules, and what describes the built-in modules,
 * which the subset does not change). Absent optional files are skipped. */
static int put_host(struct mod_ctx *c, const char *rel, bool is_optional)
{
	char *h = path_join(c->real, rel), *g = path_join(c->guest, rel);
	char real[PATH_MAX];
	struct stat st;
	int r = 0;
	if (!h || !g) {
		r = rf_err_set(c->err, ENOMEM, "out of memory");
		goto out;
	}
	if (!realpath(h, real) || stat(real, &st)) {
		if (!(is_optional && errno == ENOENT))
			r = rf_err_errno(c->err, errno, "%s/%s", c->dir, rel);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = rf_err_set(c->err, EINVAL, "%s/%s: not a regular file", c->dir, rel);
		goto out;
	}
	struct ovl_entry e = {
	    .path = g,
	    .attr = {.mode = S_IFREG | (st.st_mode & 0777),
		     .size = (uint64_t)st.st_size,
		     .mtime_sec = st.st_mtim.tv_sec,
		     .mtime_nsec = (uint32_t)st.st_mtim.tv_nsec},
	    .src = {.kind = st.st_size ? OVL_SRC_HOST : OVL_SRC_NONE, .host_path = real},
	};
	r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
out:
	free(h);
	free(g);
	return r;
}

static int modules_load(struct ovl_layer *layer, struct ovl_view *view, struct rf_err *err)
{
	struct mod_ctx c = {.layer = layer, .view = view, .err = err, .dir = layer->argv[0]};
	struct stat st;
	int r = 0;
	if (!realpath(c.dir, c.real) || stat(c.real, &st))
		return rf_err_errno(err, errno, "%s", c.dir);
	if (!S_ISDIR(st.st_mode))
		return rf_err_set(err, ENOTDIR, "%s: not a directory", c.dir);
	char *dep = path_join(c.real, "modules.dep");
	if (!dep)
		return rf_err_set(err, ENOMEM, "out of memory");
	r = stat(dep, &st);
	free(dep);
	if (r)
		return rf_err_errno(err, errno, "%s/modules.dep (run depmod for it)", c.dir);
	c.mtime = st.st_mtim.tv_sec;
	const char *version = strrchr(c.real, '/');
	version = version ? version + 1 : c.real;
	if (!*version || asprintf(&c.guest, "lib/modules/%s", version) < 0)
		return rf_err_set(err, EINVAL, "%s: cannot tell the kernel version", c.dir);
	/* no modprobe.d of the host: the guest has only the softdeps of modules.softdep */
	static const char *const no_config[] = {NULL};
	c.kmod = kmod_new(c.real, no_config);
	if (!c.kmod) {
		r = rf_err_set(err, ENOMEM, "%s: libkmod cannot use it", c.dir);
		goto out;
	}
	kmod_set_log_fn(c.kmod, kmod_silent, NULL);
	for (int i = 1; i < layer->argc && !r; i++) {
		struct kmod_list *list = NULL;
		int k = kmod_module_new_from_lookup(c.kmod, layer->argv[i], &list);
		if (k < 0)
			r = rf_err_errno(err, -k, "%s: looking up module '%s'", c.dir,
					 layer->argv[i]);
		else if (!list)
			r = rf_err_set(err, ENOENT,
				       "%s: no module or alias '%s' (not in modules.dep, "
				       "modules.alias or modules.builtin)",
				       c.dir, layer->argv[i]);
		else
			r = visit_list(&c, list, 0);
		kmod_module_unref_list(list);
	}
	for (size_t i = 0; i < c.rels.n && !r; i++)
		r = put_host(&c, c.rels.s[i], false);
	if (!r)
		r = put_indexes(&c);
	static const char *const builtin[] = {"modules.builtin", "modules.builtin.bin",
					      "modules.builtin.alias.bin",
					      "modules.builtin.modinfo"};
	for (size_t i = 0; i < sizeof(builtin) / sizeof(*builtin) && !r; i++)
		r = put_host(&c, builtin[i], true);
out:
	kmod_unref(c.kmod);
	strset_free(&c.names);
	strset_free(&c.rels);
	free(c.guest);
	return r;
}

const struct layer_ops layer_modules_ops = {
    .kind = "modules",
    .usage = "DIR NAME...",
    .min_args = 2,
    .max_args = -1,
    .path_args = 1u << 0,
    .load = modules_load,
};
