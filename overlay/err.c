/* Error context helpers: see err.h. */
#include "err.h"

#include <stdio.h>
#include <errno.h>
#include <string.h>

#define EIO_FALLBACK EIO

static int err_vset(struct rf_err *err, int code, int with_errno, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = EIO_FALLBACK;
	if (!err || err->code)
		return -code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(code));
	return -code;
}

int rf_err_set(struct rf_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return r;
}

int rf_err_errno(struct rf_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(err, code, 1, fmt, ap);
	va_end(ap);
	return r;
}

void rf_err_clear(struct rf_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
