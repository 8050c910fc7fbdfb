/* Helpers for the C unit tests: a temporary directory per test and small file writers.
 * Header-only so each test file stays self-contained. */
#ifndef RF_TESTUTIL_H
#define RF_TESTUTIL_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline char *tu_mkdtemp(void)
{
	const char *t = getenv("TMPDIR");
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/rf-test.XXXXXX", t && *t ? t : "/tmp");
	char *d = mkdtemp(buf);
	return d ? strdup(d) : NULL;
}

static inline int tu_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static inline void tu_rmtree(char *dir)
{
	if (dir)
		nftw(dir, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Write text to dir/name (parent directories must exist); returns the malloc'd full path. */
static inline char *tu_write(const char *dir, const char *name, const char *text)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	FILE *f = fopen(p, "w");
	if (!f) {
		free(p);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return p;
}

static inline char *tu_path(const char *dir, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

#endif
