/* The ext4 exporter: a bare ext4 filesystem image, or with --partition a raw disk holding it
 * in one partition. The filesystem itself is made by ext4_writer.c (libext2fs). */
#include <errno.h>
#include <string.h>

#include "exporter.h"
#include "ext4_writer.h"
#include "partition.h"

static int ext4_open(struct exp_ctx *c)
{
	const char *z = c->opt->compress;
	if (z && strcmp(z, "none"))
		return rf_err_set(c->err, EINVAL,
				  "--compress '%s': an ext4 image is not compressed (use .qcow2 "
				  "with --compress deflate)",
				  z);
	if (c->opt->partition && part_check_kind(c->opt->partition, c->err))
		return -EINVAL;
	struct ext4w *w;
	int r = ext4w_open(c, c->fd, c->opt->partition ? PART_OFFSET : 0, &w);
	if (!r)
		c->priv = w;
	return r;
}

static int ext4_add(struct exp_ctx *c, const struct ovl_node *n, const char *path)
{
	return ext4w_add(c->priv, n, path);
}

static int ext4_close(struct exp_ctx *c)
{
	struct ext4w *w = c->priv;
	int r = ext4w_close(w);
	if (!r && c->opt->partition) {
		uint64_t disk;
		r = part_write(c->fd, c->opt->partition, ext4w_size_bytes(w), ext4w_uuid(w),
			       c->out_path, &disk, c->err);
	}
	return r;
}

static void ext4_destroy(struct exp_ctx *c)
{
	ext4w_free(c->priv);
	c->priv = NULL;
}

static const char *const ext4_suffixes[] = {".ext4", ".img", NULL};
const struct exporter_ops exp_ext4_ops = {.name = "ext4",
					  .suffixes = ext4_suffixes,
					  .open = ext4_open,
					  .add = ext4_add,
					  .close = ext4_close,
					  .destroy = ext4_destroy};
