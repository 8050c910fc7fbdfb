/* placeholder until the real exporter framework lands */
#include <errno.h>
#include "exporter.h"
int exp_export_file(const struct ovl_view *v, const char *out_path, const struct exp_options *o,
		    struct rf_err *err)
{
	(void)v;
	(void)o;
	return rf_err_set(err, ENOSYS, "%s: exporter not built yet", out_path);
}
