/* The exporter framework: registry of formats, format selection by suffix, the temporary
 * output and its rename, the sorted walk that feeds each format's add(). See exporter.h. */
#include "exporter.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"

static const struct exporter_ops *const formats[] = {
	&exp_cpio_ops,
	&exp_ext4_ops,
	&exp_qcow2_ops,
	&exp_iso_ops,
	NULL,
};

/* Compression implied by a cpio suffix; the first entry is the default. */
static const struct {
	const char *suffix;
	const char *compress;
} cpio_suffixes[] = {
	{".cpio.gz", "gzip"}, {".cpio.zst", "zstd"}, {".cpio.xz", "xz"},
	{".cpio.lz4", "lz4"}, {".cpio", "none"},
};

const struct exporter_ops *exp_find(const char *name)
{
	for (size_t i = 0; formats[i]; i++)
		if (!strcmp(formats[i]->name, name))
			return formats[i];
	return NULL;
}

const struct exporter_ops *const *exp_formats(void)
{
	return formats;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t sl = strlen(s), xl = strlen(suffix);
	return sl >= xl && !strcmp(s + sl - xl, suffix);
}

const struct exporter_ops *exp_from_suffix(const char *path, const char **compress)
{
	const struct exporter_ops *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; formats[i]; i++)
		for (const char *const *s = formats[i]->suffixes; s && *s; s++)
			if (strlen(*s) > best_len && ends_with(path, *s)) {
				best = formats[i];
				best_len = strlen(*s);
			}
	*compress = NULL;
	if (!best)
		best = &exp_cpio_ops;
	if (best == &exp_cpio_ops) {
		*compress = cpio_suffixes[0].compress;
		for (size_t i = 0; i < sizeof(cpio_suffixes) / sizeof(cpio_suffixes[0]); i++)
			if (ends_with(path, cpio_suffixes[i].suffix)) {
				*compress = cpio_suffixes[i].compress;
				break;
			}
	}
	return best;
}

unsigned exp_threads(const struct exp_options *o)
{
	if (o && o->threads)
		return o->threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

int64_t exp_mtime(const struct exp_options *o, const struct ovl_node *n)
{
	return o && o->has_epoch ? o->epoch : n->attr.mtime_sec;
}

struct walk_ctx {
	const struct exporter_ops *ops;
	struct exp_ctx *c;
	struct exp_progress progress;
};

static int walk_add(const struct ovl_node *n, const char *path, void *arg)
{
	struct walk_ctx *w = arg;
	int r = w->ops->add(w->c, n, path);
	if (r)
		return r;
	exp_progress_add(&w->progress, S_ISREG(n->attr.mode) ? n->attr.size : 0);
	return 0;
}

static int run(const struct ovl_view *v, int fd, const char *name, const struct exp_options *o,
	       struct rf_err *err)
{
	static const struct exp_options defaults = {.level = -1};
	if (!o)
		o = &defaults;
	const char *compress = NULL;
	const struct exporter_ops *ops = exp_from_suffix(name, &compress);
	if (o->format) {
		ops = exp_find(o->format);
		if (!ops)
			return rf_err_set(err, EINVAL, "unknown export format '%s'", o->format);
		if (ops == &exp_cpio_ops && !compress)
			compress = cpio_suffixes[0].compress;
	}
	if (o->compress)
		compress = o->compress;
	struct exp_ctx c = {.view = v, .fd = fd, .out_path = name, .opt = o,
			    .compress = compress, .err = err};
	struct walk_ctx w = {.ops = ops, .c = &c};
	int r = ops->open(&c);
	if (r)
		goto out;
	exp_progress_begin(&w.progress, name, o->quiet);
	r = ovl_view_walk(v, walk_add, &w);
	if (!r)
		r = ops->close(&c);
	exp_progress_end(&w.progress);
	struct stat st;
	if (!r && o->pieces && !o->pieces->filled) {
		if (fstat(fd, &st))
			r = rf_err_errno(err, errno, "%s", name);
		else if ((r = exp_pieces_add(o->pieces, EXP_PIECE_OUTPUT, 0, (uint64_t)st.st_size)))
			rf_err_set(err, -r, "%s: %s", name, strerror(-r));
	}
out:
	if (ops->destroy)
		ops->destroy(&c);
	if (r && !err->code)
		rf_err_set(err, -r, "%s: %s", name, strerror(-r));
	return r;
}

int exp_export_fd(const struct ovl_view *v, int fd, const char *name, const struct exp_options *o,
		  struct rf_err *err)
{
	return run(v, fd, name, o, err);
}

int exp_export_file(const struct ovl_view *v, const char *out_path, const struct exp_options *o,
		    struct rf_err *err)
{
	char tmp[PATH_MAX];
	const char *base = strrchr(out_path, '/');
	int dir_len = base ? (int)(base - out_path + 1) : 0;
	base = base ? base + 1 : out_path;
	if (!*base)
		return rf_err_set(err, EISDIR, "%s: not a file name", out_path);
	if (o && o->pieces)
		return rf_err_set(err, EINVAL, "%s: pieces are for exp_export_fd", out_path);
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dir_len, out_path, base) >=
	    (int)sizeof(tmp))
		return rf_err_set(err, ENAMETOOLONG, "%s: name too long", out_path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(err, errno, "%s: cannot create a temporary file beside it",
				    out_path);
	/* mkostemp makes 0600; an export is an ordinary file: honour the umask */
	mode_t um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	int r = run(v, fd, out_path, o, err);
	if (!r && o && o->fsync && fsync(fd))
		r = rf_err_errno(err, errno, "%s: fsync", out_path);
	if (close(fd) && !r)
		r = rf_err_errno(err, errno, "%s: close", out_path);
	if (!r && rename(tmp, out_path))
		r = rf_err_errno(err, errno, "%s: rename", out_path);
	if (r)
		unlink(tmp);
	return r;
}
