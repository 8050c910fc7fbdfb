/* placeholder until the real host layer lands */
#include <errno.h>
#include "layer.h"
static int host_load(struct ovl_layer *l, struct ovl_view *v, struct rf_err *err)
{
	(void)l;
	(void)v;
	return rf_err_set(err, ENOSYS, "host layer not built yet");
}
const struct layer_ops layer_host_ops = {.kind = "host", .usage = "PATH...", .min_args = 1,
	.max_args = -1, .path_args = 1, .rest_are_paths = 1, .load = host_load};
