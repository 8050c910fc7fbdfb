/* Fuzz target for the archive layer (overlay/sources/archive.c, libarchive underneath): any
 * bytes as FILE give a view whose files read back whole, or a one-line error. */
#include "fuzz_layer_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_layer_file(data, size, "in.archive", "archive ./in.archive\n");
}
