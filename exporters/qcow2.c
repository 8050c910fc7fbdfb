/* The qcow2 exporter: the ext4 filesystem (or, with --partition, a raw disk holding it) built
 * in a temporary sparse file, then streamed into a qcow2 v3 image by qcow2_writer.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter.h"
#include "ext4_writer.h"
#include "partition.h"
#include "qcow2_writer.h"

struct qcow2_state {
	struct exp_ctx sub; /* the ext4 writer's context: the same export, fd = raw */
	int raw;	    /* the temporary raw image, unlinked (O_TMPFILE) */
	struct ext4w *w;
};

/* An unnamed temporary file beside the output (same filesystem, so a full disk shows up as
 * the output's), else in $TMPDIR or /tmp. A name without a directory (exp_export_fd's name,
 * e.g. for the mount's control directory, where the working directory may be the mount
 * itself) goes straight to $TMPDIR. */
static int open_raw(const char *out_path)
{
	const char *slash = strrchr(out_path, '/');
	if (slash) {
		char dir[PATH_MAX];
		size_t n = (size_t)(slash - out_path);
		if (n < sizeof(dir)) {
			memcpy(dir, out_path, n);
			dir[n] = 0;
			int fd = open(n ? dir : "/", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
			if (fd >= 0)
				return fd;
		}
	}
	const char *t = getenv("TMPDIR");
	return open(t && *t ? t : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

static int qcow2_open(struct exp_ctx *c)
{
	const char *z = c->opt->compress;
	if (z && strcmp(z, "deflate") && strcmp(z, "zlib") && strcmp(z, "none"))
		return rf_err_set(c->err, EINVAL,
				  "--compress '%s': qcow2 clusters are compressed with deflate "
				  "(or none)",
				  z);
	if (c->opt->level > 9)
		return rf_err_set(c->err, EINVAL, "--level %d: deflate levels are 0 to 9",
				  c->opt->level);
	if (c->opt->partition && part_check_kind(c->opt->partition, c->err))
		return -EINVAL;
	struct qcow2_state *s = calloc(1, sizeof(*s));
	if (!s)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	c->priv = s;
	s->raw = open_raw(c->out_path);
	if (s->raw < 0)
		return rf_err_errno(c->err, errno, "%s: cannot create a temporary raw image",
				    c->out_path);
	s->sub = *c;
	s->sub.fd = s->raw;
	s->sub.priv = NULL;
	return ext4w_open(&s->sub, s->raw, c->opt->partition ? PART_OFFSET : 0, &s->w);
}

static int qcow2_add(struct exp_ctx *c, const struct ovl_node *n, const char *path)
{
	struct qcow2_state *s = c->priv;
	return ext4w_add(s->w, n, path);
}

static int qcow2_close(struct exp_ctx *c)
{
	struct qcow2_state *s = c->priv;
	uint64_t disk = ext4w_size_bytes(s->w);
	int r = ext4w_close(s->w);
	if (!r && c->opt->partition)
		r = part_write(s->raw, c->opt->partition, disk, ext4w_uuid(s->w), c->out_path,
			       &disk, c->err);
	const char *z = c->opt->compress;
	struct qcow2_opts o = {.compress = z && strcmp(z, "none"), .level = c->opt->level};
	if (!r)
		r = qcow2_convert(s->raw, disk, c->fd, &o, c->out_path, c->err);
	return r;
}

static void qcow2_destroy(struct exp_ctx *c)
{
	struct qcow2_state *s = c->priv;
	if (!s)
		return;
	ext4w_free(s->w);
	if (s->raw >= 0)
		close(s->raw);
	free(s);
	c->priv = NULL;
}

static const char *const qcow2_suffixes[] = {".qcow2", NULL};
const struct exporter_ops exp_qcow2_ops = {.name = "qcow2",
					   .suffixes = qcow2_suffixes,
					   .open = qcow2_open,
					   .add = qcow2_add,
					   .close = qcow2_close,
					   .destroy = qcow2_destroy};
