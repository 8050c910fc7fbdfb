/* placeholder until the real cpio exporter lands */
#include <errno.h>
#include "exporter.h"
static int cpio_open(struct exp_ctx *c)
{
	return rf_err_set(c->err, ENOSYS, "%s: the cpio exporter is not built yet", c->out_path);
}
static int cpio_add(struct exp_ctx *c, const struct ovl_node *n, const char *path)
{
	(void)c;
	(void)n;
	(void)path;
	return -ENOSYS;
}
static int cpio_close(struct exp_ctx *c)
{
	(void)c;
	return -ENOSYS;
}
static const char *const cpio_suffixes[] = {".cpio", ".cpio.gz", ".cpio.zst", ".cpio.xz",
					    ".cpio.lz4", NULL};
const struct exporter_ops exp_cpio_ops = {.name = "cpio", .suffixes = cpio_suffixes,
	.open = cpio_open, .add = cpio_add, .close = cpio_close};
