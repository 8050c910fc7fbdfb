/* Shared body of the fuzz targets that feed one file to a layer kind (fuzz_archive.c,
 * fuzz_tcz.c): the input becomes FILE in a private temporary directory, the view of SPEC_LINE
 * is built and every regular file read back. Any bytes must give a view or a one-line error,
 * never a crash or a leak. */
#ifndef RF_FUZZ_LAYER_FILE_H
#define RF_FUZZ_LAYER_FILE_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec.h"
#include "view.h"

static char fuzz_dir[PATH_MAX];

static void fuzz_cleanup(void)
{
	rmdir(fuzz_dir);
}

static int fuzz_read_all(const struct ovl_node *n, const char *path, void *ctx)
{
	(void)path;
	(void)ctx;
	static char buf[65536];
	if (!S_ISREG(n->attr.mode))
		return 0;
	for (uint64_t off = 0; off < n->attr.size;) {
		struct rf_err err = {0};
		ssize_t got = ovl_node_pread(n, buf, sizeof(buf), off, &err);
		if (got < 0) {
			if (!err.msg[0] || strchr(err.msg, '\n'))
				__builtin_trap();
			return 0;
		}
		if (got == 0)
			__builtin_trap(); /* short content: size and data disagree */
		off += (uint64_t)got;
	}
	return 0;
}

static int fuzz_layer_file(const uint8_t *data, size_t size, const char *file,
			   const char *spec_line)
{
	if (!fuzz_dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/rf-fuzz.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_cleanup);
	}
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, file);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	struct spec *s = NULL;
	struct ovl_view *v = NULL;
	struct rf_err err = {0};
	if (spec_parse_buffer(spec_line, strlen(spec_line), "fuzz.spec", fuzz_dir, &s, &err))
		abort();
	if (ovl_view_build(s, &v, &err) == 0) {
		ovl_view_walk(v, fuzz_read_all, NULL);
		ovl_view_free(v);
	} else if (!err.code || !err.msg[0] || strchr(err.msg, '\n')) {
		__builtin_trap(); /* every failure must carry a one-line message */
	}
	spec_free(s);
	unlink(path);
	return 0;
}

#endif
