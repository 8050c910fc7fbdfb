/* Error context shared by every module: a negative errno for the machine and a one-line
 * message for the human, filled once where the failure is understood (as libarchive's
 * archive_set_error does). The library never prints or exits; the CLI prints the message. */
#ifndef RF_ERR_H
#define RF_ERR_H

#include <stdarg.h>

struct rf_err {
	int code;      /* positive errno, 0 when no error was recorded */
	char msg[512]; /* "FILE: reason", NUL-terminated, empty when code is 0 */
};

/* Record an error: code is a positive errno, fmt a printf format for the message. The first
 * error recorded wins (a caller further up does not overwrite the precise cause). err may be
 * NULL. Returns -code, so a caller can write `return rf_err_set(err, ENOENT, ...)`. */
int rf_err_set(struct rf_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* As rf_err_set, appending ": strerror(code)" to the message. */
int rf_err_errno(struct rf_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Forget a recorded error (err may be NULL). */
void rf_err_clear(struct rf_err *err);

#endif
