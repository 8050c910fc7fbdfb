/* The host layer: `host PATH...` puts each host file at its host path, with the ELF interpreter
 * and the DT_NEEDED closure the dynamic loader would map for it (host.h). Symlinks met on the
 * way (merged-/usr's /lib -> usr/lib, libz.so.1 -> libz.so.1.2.13) are reproduced as symlinks,
 * so the guest sees the host's layout. Only the paths the resolution names are read. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "host.h"
#include "layer.h"
#include "path.h"
#include "view.h"

/* Symlinks followed while placing one path, as the kernel's MAXSYMLINKS */
#define HOST_MAX_LINKS 40

struct host_ctx {
	struct ovl_layer *layer;
	struct ovl_view *view;
	struct rf_err *err;
	char **done; /* host paths already placed */
	size_t n_done, cap_done;
};

static bool seen(struct host_ctx *c, const char *path)
{
	for (size_t i = 0; i < c->n_done; i++)
		if (!strcmp(c->done[i], path))
			return true;
	return false;
}

static int mark(struct host_ctx *c, const char *path)
{
	if (c->n_done == c->cap_done) {
		size_t cap = c->cap_done ? c->cap_done * 2 : 32;
		char **n = realloc(c->done, cap * sizeof(*n));
		if (!n)
			return rf_err_set(c->err, ENOMEM, "out of memory");
		c->done = n;
		c->cap_done = cap;
	}
	if (!(c->done[c->n_done] = strdup(path)))
		return rf_err_set(c->err, ENOMEM, "out of memory");
	c->n_done++;
	return 0;
}

static struct ovl_attr host_attr(const struct stat *st)
{
	return (struct ovl_attr){
	    .mode = st->st_mode,
	    .rdev_major = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? major(st->st_rdev) : 0,
	    .rdev_minor = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? minor(st->st_rdev) : 0,
	    .size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0,
	    .mtime_sec = st->st_mtim.tv_sec,
	    .mtime_nsec = (uint32_t)st->st_mtim.tv_nsec,
	};
}

/* Place the host path `asked` (absolute) in the view, walking it a component at a time as the
 * kernel's path walk does: a symlink component is put as a symlink and its target walked in
 * turn, so every link of the chain lands at its host path, and the final file at its real path.
 * A directory already in the view where the host has a symlink is kept (a lower layer's /lib
 * is not replaced); the walk goes on through the host's target and the asked path is linked to
 * the file at the end, so the loader still finds it. A directory as the final component is
 * refused: that is a tree layer's job. */
static int place(struct host_ctx *c, const char *asked)
{
	char rest[PATH_MAX], cur[PATH_MAX] = "", cand[PATH_MAX], target[PATH_MAX];
	bool kept_dir = false;
	int links = 0;
	struct stat st;
	if (strlen(asked) >= sizeof(rest))
		return rf_err_set(c->err, ENAMETOOLONG, "%s: path too long", asked);
	strcpy(rest, asked);
	for (;;) {
		char *p = rest;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		if (len > NAME_MAX)
			return rf_err_set(c->err, ENAMETOOLONG, "%s: name too long", asked);
		memcpy(comp, p, len);
		comp[len] = '\0';
		memmove(rest, p + len, strlen(p + len) + 1);
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *s = strrchr(cur, '/');
			*(s ? s : cur) = '\0';
			continue;
		}
		int n = snprintf(cand, sizeof(cand), "%s%s%s", cur, cur[0] ? "/" : "", comp);
		if (n < 0 || (size_t)n >= sizeof(cand))
			return rf_err_set(c->err, ENAMETOOLONG, "%s: path too long", asked);
		char host[PATH_MAX + 1];
		snprintf(host, sizeof(host), "/%s", cand);
		if (lstat(host, &st))
			return rf_err_errno(c->err, errno, "%s", errno == ENOENT ? asked : host);
		if (S_ISLNK(st.st_mode)) {
			if (++links > HOST_MAX_LINKS)
				return rf_err_set(c->err, ELOOP,
						  "%s: too many levels of symbolic links", asked);
			ssize_t tl = readlink(host, target, sizeof(target) - 1);
			if (tl <= 0)
				return rf_err_errno(c->err, tl < 0 ? errno : EINVAL, "%s", host);
			target[tl] = '\0';
			const struct ovl_node *have = ovl_view_lookup(c->view, cand);
			if (have && S_ISDIR(have->attr.mode) && rest[0]) {
				kept_dir = true;
			} else {
				struct ovl_entry e = {
				    .path = cand, .attr = host_attr(&st), .link_target = target};
				e.attr.mode = S_IFLNK | 0777;
				e.attr.size = (uint64_t)tl;
				int r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
				if (r)
					return r;
			}
			if (strlen(target) + 1 + strlen(rest) >= sizeof(rest))
				return rf_err_set(c->err, ENAMETOOLONG, "%s: path too long", asked);
			memmove(rest + tl + 1, rest, strlen(rest) + 1);
			memcpy(rest, target, (size_t)tl);
			rest[tl] = '/';
			if (target[0] == '/')
				cur[0] = '\0';
			continue;
		}
		if (rest[strspn(rest, "/")]) {
			if (!S_ISDIR(st.st_mode))
				return rf_err_set(c->err, ENOTDIR, "%s: Not a directory", host);
			strcpy(cur, cand);
			continue;
		}
		if (S_ISDIR(st.st_mode))
			return rf_err_set(
			    c->err, EISDIR,
			    "%s: Is a directory (a host layer takes files; use a tree "
			    "layer for a directory)",
			    asked);
		struct ovl_entry e = {.path = cand, .attr = host_attr(&st)};
		if (S_ISREG(st.st_mode) && st.st_size) {
			e.src.kind = OVL_SRC_HOST;
			e.src.host_path = host;
			e.src.stamp = ovl_host_stamp_of(&st);
		}
		int r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
		if (r)
			return r;
		strcpy(cur, cand);
		break;
	}
	char *guest = NULL;
	/* a path with ".." (an $ORIGIN/../lib spelling) is only reached through the view's links */
	if (!kept_dir || path_normalize(asked, &guest) || ovl_view_resolve(c->view, guest, true)) {
		free(guest);
		return 0;
	}
	/* the asked path runs through a lower layer's directory: link it to the file */
	char abs[PATH_MAX + 1];
	snprintf(abs, sizeof(abs), "/%s", cur);
	struct ovl_entry e = {.path = guest, .attr = host_attr(&st), .link_target = abs};
	e.attr.mode = S_IFLNK | 0777;
	e.attr.size = strlen(abs);
	int r = ovl_view_put(c->view, c->layer, &e, NULL, c->err);
	free(guest);
	return r;
}

static int place_once(struct host_ctx *c, const char *path)
{
	if (seen(c, path))
		return 0;
	int r = place(c, path);
	return r ? r : mark(c, path);
}

/* A library taken from DIR/glibc-hwcaps/LEVEL/ or a legacy hwcaps subdirectory of DIR
 * (DIR/haswell/, DIR/tls/x86_64/...) needs that CPU: the guest may run on a lesser one (qemu's
 * TCG default is baseline x86-64), where its loader falls back to DIR. Put the baseline
 * DIR/NAME too when the host has one. */
static int place_baseline(struct host_ctx *c, const char *path)
{
	const char *name = strrchr(path, '/');
	const char *h = strstr(path, "/glibc-hwcaps/");
	size_t dir_len = 0;
	if (h && name >= h + strlen("/glibc-hwcaps/"))
		dir_len = (size_t)(h - path);
	for (size_t i = 0; !dir_len && host_legacy_subdir(i); i++) {
		const char *sub = host_legacy_subdir(i);
		size_t sl = strlen(sub), pl = (size_t)(name - path);
		if (pl > sl + 1 && path[pl - sl - 1] == '/' && !strncmp(name - sl, sub, sl))
			dir_len = pl - sl - 1;
	}
	if (!dir_len)
		return 0;
	char base[PATH_MAX];
	int n = snprintf(base, sizeof(base), "%.*s%s", (int)dir_len, path, name);
	struct stat st;
	if (n < 0 || (size_t)n >= sizeof(base) || lstat(base, &st))
		return 0;
	return place_once(c, base);
}

static int host_load(struct ovl_layer *layer, struct ovl_view *v, struct rf_err *err)
{
	struct host_ctx c = {.layer = layer, .view = v, .err = err};
	struct host_resolver *res = NULL;
	int r = host_resolver_new(NULL, &res, err);
	for (int i = 0; i < layer->argc && !r; i++) {
		const char *file = layer->argv[i];
		struct stat st;
		if (file[0] != '/') {
			r = rf_err_set(err, EINVAL, "%s: not an absolute host path", file);
			break;
		}
		if (stat(file, &st)) {
			r = rf_err_errno(err, errno, "%s", file);
			break;
		}
		if ((r = place_once(&c, file)))
			break;
		if (!S_ISREG(st.st_mode))
			continue;
		struct host_resolution *hr = NULL;
		if ((r = host_resolve(res, file, &hr, err)))
			break;
		r = host_resolution_check(hr, err);
		for (size_t k = 0; k < hr->n_deps && !r; k++) {
			const char *p = hr->deps[k].path;
			if (p[0] != '/') {
				char *abs = realpath(p, NULL);
				r = abs ? place_once(&c, abs) : rf_err_errno(err, errno, "%s", p);
				free(abs);
			} else {
				r = place_once(&c, p);
			}
			if (!r)
				r = place_baseline(&c, p);
		}
		host_resolution_free(hr);
	}
	for (size_t i = 0; i < c.n_done; i++)
		free(c.done[i]);
	free(c.done);
	host_resolver_free(res);
	return r;
}

const struct layer_ops layer_host_ops = {
    .kind = "host",
    .usage = "PATH...",
    .min_args = 1,
    .max_args = -1,
    .path_args = 1,
    .rest_are_paths = 1,
    .load = host_load,
};
