/* The dynamic loader's search, replayed without running anything: ld.so(8) "Shared library
 * search" and glibc elf/dl-load.c (_dl_map_object: DT_RPATH of the loader chain, DT_RUNPATH,
 * the cache, the system directories; _dl_dst_substitute for $ORIGIN, $LIB, $PLATFORM),
 * elf/dl-deps.c for the breadth-first order. The layout is Debian's multiarch one. */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

#define ELF_CACHE_BUCKETS 1024

/* A parsed candidate, by the path it was opened under. elf NULL: missing or not ELF. */
struct elf_slot {
	char *path;
	struct host_elf *elf;
	dev_t dev;
	ino_t ino;
	struct elf_slot *next;
};

struct host_resolver {
	struct host_ldcache *cache;
	struct elf_slot *buckets[ELF_CACHE_BUCKETS];
};

/* One object of the link map being built. */
struct obj {
	const char *name; /* the name it was asked for (borrowed from deps or the file) */
	const char *path; /* borrowed from its elf_slot */
	const struct host_elf *elf;
	dev_t dev;
	ino_t ino;
	char *origin; /* $ORIGIN; owned */
	int loader;   /* index of the object that loaded it, -1 for the binary */
};

struct lmap {
	struct obj *objs;
	size_t n, cap;
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The parsed ELF at path, from the cache or read now. *out NULL when the file is missing, not
 * a regular file or not ELF. Returns 0 or a negative errno (corrupt ELF, out of memory). */
static int elf_get(struct host_resolver *r, const char *path, const struct elf_slot **out,
		   struct rf_err *err)
{
	uint32_t b = fnv1a(path) % ELF_CACHE_BUCKETS;
	for (struct elf_slot *s = r->buckets[b]; s; s = s->next)
		if (!strcmp(s->path, path)) {
			*out = s;
			return 0;
		}
	struct elf_slot *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	struct stat st;
	/* an unreadable candidate is passed over, as ld.so's open_path passes over EACCES */
	if (!stat(path, &st) && S_ISREG(st.st_mode) && !access(path, R_OK)) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		int rc = host_elf_read(path, &s->elf, err);
		if (rc) {
			free(s->path);
			free(s);
			return rc;
		}
	}
	s->next = r->buckets[b];
	r->buckets[b] = s;
	*out = s;
	return 0;
}

int host_resolver_new(const char *ldcache_path, struct host_resolver **out, struct rf_err *err)
{
	struct host_resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return rf_err_set(err, ENOMEM, "out of memory");
	int rc = host_ldcache_load(ldcache_path, &r->cache, err);
	if (rc) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void host_resolver_free(struct host_resolver *r)
{
	if (!r)
		return;
	for (size_t b = 0; b < ELF_CACHE_BUCKETS; b++) {
		for (struct elf_slot *s = r->buckets[b], *n; s; s = n) {
			n = s->next;
			host_elf_free(s->elf);
			free(s->path);
			free(s);
		}
	}
	host_ldcache_free(r->cache);
	free(r);
}

void host_resolution_free(struct host_resolution *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->n_deps; i++) {
		free(res->deps[i].name);
		free(res->deps[i].path);
		free(res->deps[i].needed_by);
	}
	free(res->deps);
	free(res->file);
	free(res);
}

int host_resolution_check(const struct host_resolution *res, struct rf_err *err)
{
	for (size_t i = 0; i < res->n_deps; i++) {
		const struct host_dep *d = &res->deps[i];
		if (d->path)
			continue;
		if (d->is_interp)
			return rf_err_set(err, ENOENT, "%s: interpreter %s not found", res->file,
					  d->name);
		return rf_err_set(err, ENOENT, "%s: %s (needed by %s) not found", res->file,
				  d->name, d->needed_by);
	}
	return 0;
}

/* Debian's multiarch triplet for $LIB and the system directories (glibc's
 * sysdeps/unix/sysv/linux/x86_64/64/dl-cache.h and Debian's --libdir choice). */
static const char *multiarch(const struct host_elf *e)
{
	switch (e->e_machine) {
	case EM_X86_64:
		return e->ei_class == ELFCLASS64 ? "x86_64-linux-gnu" : "x86_64-linux-gnux32";
	case EM_386:
		return "i386-linux-gnu";
	case EM_AARCH64:
		return "aarch64-linux-gnu";
	default:
		return NULL;
	}
}

static const char *platform(const struct host_elf *e)
{
	switch (e->e_machine) {
	case EM_X86_64:
		return host_x86_64_platform();
	case EM_386:
		return "i686";
	case EM_AARCH64:
		return "aarch64";
	default:
		return "";
	}
}

/* Length of the dynamic string token tok at s (just after the '$'), braces included; 0 when
 * s does not start with it ("$ORIGINAL" is not "$ORIGIN"). */
static size_t dst_len(const char *s, const char *tok)
{
	size_t n = strlen(tok);
	if (s[0] == '{')
		return !strncmp(s + 1, tok, n) && s[1 + n] == '}' ? n + 2 : 0;
	return !strncmp(s, tok, n) && !(isalnum((unsigned char)s[n]) || s[n] == '_') ? n : 0;
}

/* Expand $ORIGIN, $LIB, $PLATFORM (bare or in braces) in s into out (PATH_MAX). Returns 0, or
 * -1 when the result is too long or names an unknown token (ld.so then drops the entry). */
static int expand_dst(const char *s, const char *origin, const struct host_elf *e, char *out)
{
	char lib[64];
	const char *ma = multiarch(e);
	snprintf(lib, sizeof(lib), ma ? "lib/%s" : "lib", ma ? ma : "");
	const char *const toks[] = {"ORIGIN", "LIB", "PLATFORM"};
	const char *const vals[] = {origin, lib, platform(e)};
	size_t o = 0;
	while (*s) {
		const char *val = NULL;
		size_t skip = 1;
		if (*s == '$') {
			for (size_t i = 0; i < 3 && !val; i++) {
				size_t n = dst_len(s + 1, toks[i]);
				if (n) {
					val = vals[i];
					skip = 1 + n;
				}
			}
			if (!val)
				return -1;
		}
		size_t n = val ? strlen(val) : 1;
		if (o + n >= PATH_MAX)
			return -1;
		memcpy(out + o, val ? val : s, n);
		o += n;
		s += skip;
	}
	out[o] = '\0';
	return 0;
}

/* A candidate the loader would accept: a regular ELF shared object of the requester's class,
 * byte order and machine (ld.so's open_verify). */
static bool compatible(const struct host_elf *want, const struct elf_slot *s)
{
	return s->elf && s->elf->ei_class == want->ei_class && s->elf->ei_data == want->ei_data &&
	       s->elf->e_machine == want->e_machine && s->elf->e_type == ET_DYN;
}

/* Try name in dir: the glibc-hwcaps subdirectories this CPU supports, the legacy hwcaps
 * subdirectories, then dir itself. */
static int try_dir(struct host_resolver *r, const char *dir, const char *name,
		   const struct host_elf *want, const struct elf_slot **found, struct rf_err *err)
{
	if (dir[0] != '/')
		return 0; /* relative to the process's working directory: unknown in the guest */
	size_t n_sub;
	const char *const *sub = host_hwcaps_subdirs(want->e_machine, &n_sub);
	size_t n_legacy = 0;
	if (want->e_machine == EM_X86_64 && want->ei_class == ELFCLASS64)
		while (host_legacy_subdir(n_legacy))
			n_legacy++;
	char cand[PATH_MAX];
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	for (size_t i = 0; i <= n_sub + n_legacy; i++) {
		int len;
		if (i < n_sub)
			len = snprintf(cand, sizeof(cand), "%.*s/glibc-hwcaps/%s/%s", (int)dl, dir,
				       sub[i], name);
		else if (i < n_sub + n_legacy)
			len = snprintf(cand, sizeof(cand), "%.*s/%s/%s", (int)dl, dir,
				       host_legacy_subdir(i - n_sub), name);
		else
			len = snprintf(cand, sizeof(cand), "%.*s/%s", (int)dl, dir, name);
		if (len < 0 || (size_t)len >= sizeof(cand))
			continue;
		const struct elf_slot *s;
		int rc = elf_get(r, cand, &s, err);
		if (rc)
			return rc;
		if (compatible(want, s)) {
			*found = s;
			return 1;
		}
	}
	return 0;
}

/* Search a colon-separated DT_RPATH / DT_RUNPATH list of object o. */
static int try_path_list(struct host_resolver *r, const char *list, const struct obj *o,
			 const char *name, const struct host_elf *want,
			 const struct elf_slot **found, struct rf_err *err)
{
	char dir[PATH_MAX];
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > 0 && len < PATH_MAX) {
			char raw[PATH_MAX];
			memcpy(raw, p, len);
			raw[len] = '\0';
			if (!expand_dst(raw, o->origin, o->elf, dir)) {
				int rc = try_dir(r, dir, name, want, found, err);
				if (rc)
					return rc;
			}
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}

/* ld.so's search for DT_NEEDED name of object lm->objs[req]. Returns 1 and *found, 0 when
 * not found, or a negative errno. */
static int search(struct host_resolver *r, const struct lmap *lm, size_t req, const char *name,
		  const struct elf_slot **found, struct rf_err *err)
{
	const struct obj *o = &lm->objs[req];
	const struct host_elf *want = o->elf;
	int rc;
	if (strchr(name, '/')) {
		char p[PATH_MAX];
		if (expand_dst(name, o->origin, want, p))
			return 0;
		if ((rc = elf_get(r, p, found, err)))
			return rc;
		return compatible(want, *found);
	}
	if (!o->elf->runpath) {
		for (int l = (int)req; l >= 0; l = lm->objs[l].loader) {
			const struct obj *lo = &lm->objs[l];
			if (lo->elf->rpath &&
			    (rc = try_path_list(r, lo->elf->rpath, lo, name, want, found, err)))
				return rc;
		}
	} else if ((rc = try_path_list(r, o->elf->runpath, o, name, want, found, err))) {
		return rc;
	}
	const char *cached = host_ldcache_lookup(r->cache, name, want->ei_class, want->e_machine);
	if (cached) {
		if ((rc = elf_get(r, cached, found, err)))
			return rc;
		if (compatible(want, *found))
			return 1;
	}
	const char *ma = multiarch(want);
	char d1[64], d2[64];
	snprintf(d1, sizeof(d1), "/lib/%s", ma ? ma : "");
	snprintf(d2, sizeof(d2), "/usr/lib/%s", ma ? ma : "");
	const char *sysdirs[] = {d1, d2, "/lib", "/usr/lib"};
	for (size_t i = ma ? 0 : 2; i < 4; i++)
		if ((rc = try_dir(r, sysdirs[i], name, want, found, err)))
			return rc;
	return 0;
}

/* The loaded object this name or file stands for, as _dl_map_object's _dl_name_match_p and
 * its file identity check find it; -1 when none. */
static int find_loaded(const struct lmap *lm, const char *name, const struct elf_slot *file)
{
	for (size_t i = 0; i < lm->n; i++) {
		const struct obj *o = &lm->objs[i];
		if (name && (!strcmp(o->name, name) || !strcmp(o->path, name) ||
			     (o->elf->soname && !strcmp(o->elf->soname, name))))
			return (int)i;
		if (file && o->dev == file->dev && o->ino == file->ino)
			return (int)i;
	}
	return -1;
}

static int add_obj(struct lmap *lm, const char *name, const struct elf_slot *s, int loader,
		   const char *origin_of, struct rf_err *err)
{
	if (lm->n == lm->cap) {
		size_t cap = lm->cap ? lm->cap * 2 : 16;
		struct obj *n = realloc(lm->objs, cap * sizeof(*n));
		if (!n)
			return rf_err_set(err, ENOMEM, "out of memory");
		lm->objs = n;
		lm->cap = cap;
	}
	const char *slash = strrchr(origin_of, '/');
	char *origin = slash == origin_of ? strdup("/")
		       : slash		  ? strndup(origin_of, (size_t)(slash - origin_of))
					  : strdup(".");
	if (!origin)
		return rf_err_set(err, ENOMEM, "out of memory");
	lm->objs[lm->n++] = (struct obj){.name = name,
					 .path = s->path,
					 .elf = s->elf,
					 .dev = s->dev,
					 .ino = s->ino,
					 .origin = origin,
					 .loader = loader};
	return 0;
}

static int add_dep(struct host_resolution *res, size_t *cap, const char *name, const char *path,
		   const char *needed_by, bool is_interp, struct rf_err *err)
{
	if (res->n_deps == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct host_dep *n = realloc(res->deps, c * sizeof(*n));
		if (!n)
			return rf_err_set(err, ENOMEM, "out of memory");
		res->deps = n;
		*cap = c;
	}
	struct host_dep *d = &res->deps[res->n_deps];
	*d = (struct host_dep){.name = strdup(name),
			       .path = path ? strdup(path) : NULL,
			       .needed_by = strdup(needed_by),
			       .is_interp = is_interp};
	if (!d->name || (path && !d->path) || !d->needed_by) {
		free(d->name);
		free(d->path);
		free(d->needed_by);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	res->n_deps++;
	return 0;
}

int host_resolve(struct host_resolver *r, const char *file, struct host_resolution **out,
		 struct rf_err *err)
{
	struct lmap lm = {0};
	size_t cap = 0;
	int rc = 0;
	struct host_resolution *res = calloc(1, sizeof(*res));
	if (!res || !(res->file = strdup(file))) {
		free(res);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	char real[PATH_MAX];
	struct stat st;
	if (stat(file, &st) || !realpath(file, real) ||
	    (S_ISREG(st.st_mode) && access(file, R_OK))) {
		rc = rf_err_errno(err, errno, "%s", file);
		goto out;
	}
	const struct elf_slot *main_slot;
	if ((rc = elf_get(r, file, &main_slot, err)))
		goto out;
	if (!main_slot->elf)
		goto done; /* not ELF (or not a regular file): a plain file */
	res->is_elf = true;
	/* the kernel maps PT_INTERP even for a program without PT_DYNAMIC (klibc's) */
	res->is_dynamic = main_slot->elf->is_dynamic;
	if ((rc = add_obj(&lm, res->file, main_slot, -1, real, err)))
		goto out;
	/* ld.so maps itself before the binary's DT_NEEDED: its soname then satisfies libc's
	 * DT_NEEDED on it */
	const char *interp = main_slot->elf->interp;
	if (interp) {
		const struct elf_slot *s;
		if ((rc = elf_get(r, interp, &s, err)))
			goto out;
		bool ok = s->elf && s->elf->e_machine == main_slot->elf->e_machine &&
			  s->elf->ei_class == main_slot->elf->ei_class;
		if ((rc = add_dep(res, &cap, interp, ok ? interp : NULL, file, true, err)))
			goto out;
		if (ok && (rc = add_obj(&lm, res->deps[res->n_deps - 1].name, s, 0, interp, err)))
			goto out;
	}
	/* breadth first over the link map as it grows (elf/dl-deps.c) */
	for (size_t i = 0; i < lm.n; i++) {
		if (interp && i == 1 && lm.objs[1].loader == 0 && !strcmp(lm.objs[1].name, interp))
			continue; /* ld.so does not load the interpreter's own DT_NEEDED */
		const struct host_elf *e = lm.objs[i].elf;
		for (size_t k = 0; k < e->n_needed; k++) {
			const char *name = e->needed[k];
			if (find_loaded(&lm, name, NULL) >= 0)
				continue;
			bool missing = false;
			for (size_t d = 0; d < res->n_deps && !missing; d++)
				missing = !res->deps[d].path && !strcmp(res->deps[d].name, name);
			if (missing)
				continue; /* reported once */
			const struct elf_slot *s = NULL;
			rc = search(r, &lm, i, name, &s, err);
			if (rc < 0)
				goto out;
			if (rc == 0) {
				if ((rc = add_dep(res, &cap, name, NULL, lm.objs[i].path, false,
						  err)))
					goto out;
				continue;
			}
			rc = 0;
			if (find_loaded(&lm, NULL, s) >= 0)
				continue; /* the same file under another name */
			if ((rc = add_dep(res, &cap, name, s->path, lm.objs[i].path, false, err)))
				goto out;
			if ((rc = add_obj(&lm, res->deps[res->n_deps - 1].name, s, (int)i, s->path,
					  err)))
				goto out;
		}
	}
done:
	*out = res;
	res = NULL;
out:
	for (size_t i = 0; i < lm.n; i++)
		free(lm.objs[i].origin);
	free(lm.objs);
	host_resolution_free(res);
	return rc;
}
