/* Fuzz target for the ISO 9660 reader of du and diff (inspect/iso_read.c over libisofs): any
 * bytes must give a report or a one-line error, never a crash or a leak, and on success the
 * image bytes of the entries plus the metadata line must add up to the input's size. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "du.h"
#include "readers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[PATH_MAX];

static void fuzz_cleanup(void)
{
	unlink(fuzz_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_path[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fuzz_path, sizeof(fuzz_path), "%s/rf-fuzz-iso.XXXXXX",
			 t && *t ? t : "/tmp");
		int fd = mkstemp(fuzz_path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(fuzz_cleanup);
	}
	FILE *f = fopen(fuzz_path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	struct du_tree *t = NULL;
	struct rf_err err = {0};
	struct insp_opts o = {.digest = size & 1};
	if (du_tree_new("fuzz", "iso", &t))
		return 0;
	int r = insp_read_iso(fuzz_path, t, &o, &err);
	if (r && (!err.code || !err.msg[0] || strchr(err.msg, '\n')))
		__builtin_trap(); /* every failure must carry a one-line message */
	du_tree_finish(t);
	if (!r && t->root->compressed_bytes != size)
		__builtin_trap();
	du_tree_free(t);
	return 0;
}
