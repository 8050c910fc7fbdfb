/* Fuzz target for the SPEC parser (overlay/spec.c): any bytes must give a spec or a one-line
 * error, never a crash, a leak or an unbounded allocation. libFuzzer entry point. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec *s = NULL;
	struct rf_err err = {0};
	int r = spec_parse_buffer((const char *)data, size, "fuzz.spec", "/base", &s, &err);
	if (r == 0) {
		spec_free(s);
	} else if (!err.code || !err.msg[0] || strchr(err.msg, '\n')) {
		__builtin_trap(); /* every failure must carry a one-line message */
	}
	return 0;
}
