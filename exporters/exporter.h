/* placeholder until the real exporter framework lands */
#ifndef RF_EXPORTER_H
#define RF_EXPORTER_H
#include <stdbool.h>
#include "err.h"
#include "view.h"
struct exp_options {
	const char *format;
	const char *compress;
	int level;
	bool has_epoch;
	long long epoch;
	unsigned threads;
};
int exp_export_file(const struct ovl_view *v, const char *out_path, const struct exp_options *o,
		    struct rf_err *err);
#endif
