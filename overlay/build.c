/* Building a merged view from a parsed SPEC: layers are created in SPEC order, consecutive
 * gen_init_cpio lines grouped into one entries layer, loaded bottom first, then finalized. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layer.h"
#include "spec.h"
#include "view.h"

static int load_layer(struct ovl_view *v, struct ovl_layer *l, struct rf_err *err)
{
	struct rf_err lerr = {0};
	int r = l->ops->load(l, v, &lerr);
	if (!r)
		return 0;
	if (!lerr.code)
		rf_err_set(&lerr, -r, "%s: %s", l->label, strerror(-r));
	if (l->ops->names_own_origin || !l->origin[0])
		return rf_err_set(err, lerr.code, "%s", lerr.msg);
	return rf_err_set(err, lerr.code, "%s: %s", l->origin, lerr.msg);
}

/* Stack the upper layer directory on top as a tree layer labelled "upper DIR". */
static int add_upper(struct ovl_view *v, const char *upper_dir, struct rf_err *err)
{
	struct stat st;
	if (!upper_dir)
		return 0;
	if (stat(upper_dir, &st))
		return errno == ENOENT ? 0 : rf_err_errno(err, errno, "%s", upper_dir);
	struct ovl_layer *l = NULL;
	char *argv[] = {(char *)upper_dir};
	if (layer_new(&layer_tree_ops, argv, 1, "", &l))
		return rf_err_set(err, ENOMEM, "out of memory");
	free(l->label);
	if (asprintf(&l->label, "upper %s", upper_dir) < 0) {
		l->label = NULL;
		layer_free(l);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	if (ovl_view_add_layer(v, l)) {
		layer_free(l);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	return load_layer(v, l, err);
}

int ovl_view_add_upper(struct ovl_view *v, const char *upper_dir, struct rf_err *err)
{
	int r = add_upper(v, upper_dir, err);
	if (!r && ovl_view_finalize(v))
		r = rf_err_set(err, ENOMEM, "out of memory");
	return r;
}

int ovl_view_build(const struct spec *spec, struct ovl_view **out, struct rf_err *err)
{
	return ovl_view_build_upper(spec, NULL, out, err);
}

int ovl_view_build_upper(const struct spec *spec, const char *upper_dir, struct ovl_view **out,
			 struct rf_err *err)
{
	struct ovl_view *v = NULL;
	int r = ovl_view_new(&v);
	if (r)
		return rf_err_set(err, ENOMEM, "out of memory");
	size_t i = 0;
	while (i < spec->n_lines) {
		const struct spec_line *ln = &spec->lines[i];
		struct ovl_layer *l = NULL;
		if (ln->is_entry) {
			r = layer_new(&layer_entries_ops, NULL, 0, ln->origin, &l);
			if (r)
				goto nomem;
			size_t j = i;
			for (; j < spec->n_lines && spec->lines[j].is_entry; j++) {
				r = layer_entries_add(l, &spec->lines[j].entry,
						      spec->lines[j].origin);
				if (r) {
					layer_free(l);
					goto nomem;
				}
			}
			free(l->label);
			size_t sz = strlen(ln->origin) + 32;
			l->label = malloc(sz);
			if (l->label)
				snprintf(l->label, sz, "entries %s%s", ln->origin,
					 j - i > 1 ? "..." : "");
			i = j;
		} else {
			r = layer_new(layer_kind_find(ln->keyword), ln->argv, ln->argc, ln->origin,
				      &l);
			if (r)
				goto nomem;
			i++;
		}
		if (!l->label || ovl_view_add_layer(v, l)) {
			layer_free(l);
			goto nomem;
		}
		r = load_layer(v, l, err);
		if (r)
			goto out;
	}
	if ((r = ovl_view_add_upper(v, upper_dir, err)))
		goto out;
	*out = v;
	return 0;
nomem:
	r = rf_err_set(err, ENOMEM, "out of memory");
out:
	ovl_view_free(v);
	return r;
}
