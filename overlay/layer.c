/* Registry of lower-layer kinds and the generic layer object. A new kind is one file in
 * overlay/sources/ plus one line in the table below. */
#include "layer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

static const struct layer_ops *const kinds[] = {
	&layer_tree_ops,
	&layer_busybox_ops,
	&layer_host_ops,
	&layer_tcz_ops,
	&layer_archive_ops,
	&layer_modules_ops,
	&layer_image_ops,
	NULL,
};

const struct layer_ops *layer_kind_find(const char *kind)
{
	for (size_t i = 0; kinds[i]; i++)
		if (!strcmp(kinds[i]->kind, kind))
			return kinds[i];
	return NULL;
}

const struct layer_ops *const *layer_kinds(void)
{
	return kinds;
}

int layer_new(const struct layer_ops *ops, char *const *argv, int argc, const char *origin,
	      struct ovl_layer **out)
{
	struct ovl_layer *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ops = ops;
	l->argv = calloc((size_t)argc + 1, sizeof(char *));
	l->origin = strdup(origin ? origin : "");
	if (!l->argv || !l->origin)
		goto fail;
	l->argc = argc;
	size_t label_len = strlen(ops->kind) + 1;
	for (int i = 0; i < argc; i++) {
		l->argv[i] = strdup(argv[i]);
		if (!l->argv[i])
			goto fail;
		label_len += strlen(argv[i]) + 1;
	}
	l->label = malloc(label_len + 1);
	if (!l->label)
		goto fail;
	strcpy(l->label, ops->kind);
	for (int i = 0; i < argc; i++) {
		strcat(l->label, " ");
		strcat(l->label, argv[i]);
	}
	*out = l;
	return 0;
fail:
	layer_free(l);
	return -ENOMEM;
}

void layer_free(struct ovl_layer *l)
{
	if (!l)
		return;
	if (l->ops && l->ops->destroy)
		l->ops->destroy(l);
	if (l->argv)
		for (int i = 0; i < l->argc; i++)
			free(l->argv[i]);
	free(l->argv);
	free(l->origin);
	free(l->label);
	free(l);
}

void layer_note_source(struct ovl_layer *layer, const struct stat *st)
{
	if (!st || layer->has_unnoted_source) {
		layer->has_unnoted_source = true;
		layer->content_id = 0;
		return;
	}
	uint64_t id = layer->content_id;
	if (!id) { /* the first source: start from the kind and the arguments */
		id = XXH3_64bits(layer->ops->kind, strlen(layer->ops->kind));
		for (int i = 0; i < layer->argc; i++)
			id = XXH3_64bits_withSeed(layer->argv[i], strlen(layer->argv[i]) + 1, id);
	}
	int64_t f[] = {(int64_t)st->st_dev, (int64_t)st->st_ino, (int64_t)st->st_size,
		       (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
		       (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec};
	id = XXH3_64bits_withSeed(f, sizeof(f), id);
	layer->content_id = id ? id : 1;
}

