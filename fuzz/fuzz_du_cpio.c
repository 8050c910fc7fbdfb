/* Fuzz target for the initramfs reader of du (inspect/cpio_read.c, decode.c): any bytes must
 * give a report or a one-line error, never a crash or a leak, and the compressed bytes of the
 * report (what was read plus "(unread)") must always add up to the input's size. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "du.h"
#include "readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct du_tree *t = NULL;
	struct rf_err err = {0};
	struct insp_opts o = {.by_layer = size & 1};
	if (du_tree_new("fuzz", "cpio", &t))
		return 0;
	int r = insp_read_cpio(data, size, "fuzz.img", t, &o, &err);
	if (r && (!err.code || !err.msg[0] || strchr(err.msg, '\n')))
		__builtin_trap(); /* every failure must carry a one-line message */
	du_tree_finish(t);
	if (t->root->compressed_bytes != size)
		__builtin_trap();
	du_tree_free(t);
	return 0;
}
