/* Fuzz target for the tcz layer (overlay/sources/tcz.c, libsquashfs underneath): any bytes as
 * a package image give a view whose files read back whole, or a one-line error. */
#include "fuzz_layer_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_layer_file(data, size, "p.tcz", "tcz . p\n");
}
