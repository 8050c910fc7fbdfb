/* The entries layer: explicit gen_init_cpio lines (file dir nod slink pipe sock), as the
 * kernel's usr/gen_init_cpio.c turns them into newc entries. Owners and modes are the line's;
 * a file's content and mtime come from its host location. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "layer.h"
#include "spec.h"
#include "view.h"

struct entry_rec {
	struct spec_entry e; /* deep copy */
	char *origin;
};

struct entries_priv {
	struct entry_rec *recs;
	size_t n;
};

static void rec_clear(struct entry_rec *r)
{
	free(r->e.name);
	free(r->e.location);
	for (size_t i = 0; i < r->e.n_hardlinks; i++)
		free(r->e.hardlinks[i]);
	free(r->e.hardlinks);
	free(r->origin);
}

int layer_entries_add(struct ovl_layer *layer, const struct spec_entry *e, const char *origin)
{
	struct entries_priv *p = layer->priv;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		layer->priv = p;
	}
	struct entry_rec *nr = realloc(p->recs, (p->n + 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	p->recs = nr;
	struct entry_rec *r = &p->recs[p->n];
	memset(r, 0, sizeof(*r));
	r->e = *e;
	r->e.name = strdup(e->name);
	r->e.location = e->location ? strdup(e->location) : NULL;
	r->e.hardlinks = NULL;
	r->e.n_hardlinks = 0;
	r->origin = strdup(origin);
	int bad = !r->e.name || (e->location && !r->e.location) || !r->origin;
	if (!bad && e->n_hardlinks) {
		r->e.hardlinks = calloc(e->n_hardlinks, sizeof(char *));
		bad = !r->e.hardlinks;
		for (size_t i = 0; !bad && i < e->n_hardlinks; i++) {
			r->e.hardlinks[i] = strdup(e->hardlinks[i]);
			bad = !r->e.hardlinks[i];
			r->e.n_hardlinks += !bad;
		}
	}
	if (bad) {
		rec_clear(r);
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

static int put_file(struct ovl_layer *layer, struct ovl_view *v, const struct entry_rec *r,
		    uint64_t key, struct rf_err *err)
{
	struct stat st;
	char real[PATH_MAX];
	if (stat(r->e.location, &st))
		return rf_err_errno(err, errno, "%s: %s", r->origin, r->e.location);
	if (!S_ISREG(st.st_mode))
		return rf_err_set(err, EINVAL, "%s: %s: not a regular file", r->origin,
				  r->e.location);
	if (!realpath(r->e.location, real))
		return rf_err_errno(err, errno, "%s: %s", r->origin, r->e.location);
	struct ovl_entry e = {
		.attr = {.mode = S_IFREG | r->e.mode, .uid = r->e.uid, .gid = r->e.gid,
			 .size = (uint64_t)st.st_size, .mtime_sec = st.st_mtim.tv_sec,
			 .mtime_nsec = (uint32_t)st.st_mtim.tv_nsec},
		.src = {.kind = st.st_size ? OVL_SRC_HOST : OVL_SRC_NONE, .host_path = real},
		.hardlink_key = r->e.n_hardlinks ? key : 0,
	};
	for (size_t i = 0; i <= r->e.n_hardlinks; i++) {
		e.path = i ? r->e.hardlinks[i - 1] : r->e.name;
		struct rf_err perr = {0};
		int ret = ovl_view_put(v, layer, &e, NULL, &perr);
		if (ret)
			return rf_err_set(err, -ret, "%s: %s", r->origin, perr.msg);
	}
	return 0;
}

static int entries_load(struct ovl_layer *layer, struct ovl_view *v, struct rf_err *err)
{
	struct entries_priv *p = layer->priv;
	if (!p)
		return 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct entry_rec *r = &p->recs[i];
		struct ovl_entry e = {
			.path = r->e.name,
			.attr = {.mode = r->e.mode, .uid = r->e.uid, .gid = r->e.gid},
		};
		int ret = 0;
		struct rf_err perr = {0};
		switch (r->e.type) {
		case SPEC_FILE:
			ret = put_file(layer, v, r, i + 1, &perr);
			if (ret)
				return rf_err_set(err, -ret, "%s", perr.msg);
			continue;
		case SPEC_DIR:
			e.attr.mode |= S_IFDIR;
			break;
		case SPEC_NOD:
			e.attr.mode |= r->e.dev_type == 'b' ? S_IFBLK : S_IFCHR;
			e.attr.rdev_major = r->e.maj;
			e.attr.rdev_minor = r->e.min;
			break;
		case SPEC_SLINK:
			e.attr.mode |= S_IFLNK;
			e.link_target = r->e.location;
			break;
		case SPEC_PIPE:
			e.attr.mode |= S_IFIFO;
			break;
		case SPEC_SOCK:
			e.attr.mode |= S_IFSOCK;
			break;
		}
		ret = ovl_view_put(v, layer, &e, NULL, &perr);
		if (ret)
			return rf_err_set(err, -ret, "%s: %s", r->origin, perr.msg);
	}
	return 0;
}

static void entries_destroy(struct ovl_layer *layer)
{
	struct entries_priv *p = layer->priv;
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		rec_clear(&p->recs[i]);
	free(p->recs);
	free(p);
	layer->priv = NULL;
}

const struct layer_ops layer_entries_ops = {
	.kind = "entries",
	.usage = "(gen_init_cpio lines)",
	.min_args = 0,
	.max_args = 0,
	.names_own_origin = 1,
	.load = entries_load,
	.destroy = entries_destroy,
};
