/* What `du` reads: a directory, an initramfs, an ISO, an ext4 raw/qcow2 image or a SPEC,
 * told apart by their magic numbers (ISO 9660 "CD001" at 32769, ext2/3/4 0xEF53 at 1080,
 * qcow2 "QFI\xfb" at 0, newc "07070" or a compression magic after optional zero padding). */
#include "readers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xxhash.h>

#include "attribute.h"
#include "decode.h"
#include "layer.h"
#include "spec.h"
#include "view.h"

#define PROBE_BYTES 4096

struct view_ctx {
	struct du_tree *t;
	bool by_layer;
	struct insp_attrib *attrib; /* --by layer: binaries and modules inside their layer */
	uint64_t *seen_ino;	    /* hard-linked files already counted */
	size_t n_seen, cap_seen;
	bool digest;
	XXH3_state_t *xxh;
	uint8_t *buf; /* DIGEST_CHUNK bytes */
	struct rf_err *err;
};

#define DIGEST_CHUNK (1u << 18)

/* XXH3-64 of a regular file's content, read through the view. */
static int view_digest(struct view_ctx *c, const struct ovl_node *n, uint64_t *out)
{
	XXH3_64bits_reset(c->xxh);
	for (uint64_t off = 0;;) {
		ssize_t got = ovl_node_pread(n, c->buf, DIGEST_CHUNK, off, c->err);
		if (got < 0)
			return (int)got;
		if (!got)
			break;
		XXH3_64bits_update(c->xxh, c->buf, (size_t)got);
		off += (uint64_t)got;
	}
	*out = XXH3_64bits_digest(c->xxh);
	return 0;
}

static bool seen_before(struct view_ctx *c, uint64_t ino, int *err)
{
	for (size_t i = 0; i < c->n_seen; i++)
		if (c->seen_ino[i] == ino)
			return true;
	if (c->n_seen == c->cap_seen) {
		size_t cap = c->cap_seen ? c->cap_seen * 2 : 16;
		uint64_t *n = realloc(c->seen_ino, cap * sizeof(*n));
		if (!n) {
			*err = -ENOMEM;
			return false;
		}
		c->seen_ino = n;
		c->cap_seen = cap;
	}
	c->seen_ino[c->n_seen++] = ino;
	return false;
}

static int view_one(const struct ovl_node *n, const char *path, void *arg)
{
	struct view_ctx *c = arg;
	int r = 0;
	if (!*path)
		return 0;
	uint64_t size = n->attr.size;
	if (S_ISREG(n->attr.mode) && n->nlink > 1 && seen_before(c, n->ino, &r))
		size = 0; /* a hard link: its data is counted at the first name */
	if (r)
		return r;
	const char *group = NULL, *sub = NULL;
	if (c->by_layer) {
		group = n->layer ? n->layer->label : "(implied directories)";
		errno = 0;
		sub = insp_attrib_group(c->attrib, n);
		if (!sub && c->attrib && errno == ENOMEM)
			return -ENOMEM;
	}
	struct du_attr a = {.mode = n->attr.mode,
			    .uid = n->attr.uid,
			    .gid = n->attr.gid,
			    .rdev = makedev(n->attr.rdev_major, n->attr.rdev_minor)};
	if (c->digest && S_ISLNK(n->attr.mode) && n->link_target) {
		a.digest = XXH3_64bits(n->link_target, strlen(n->link_target));
		a.has_digest = true;
	} else if (c->digest && S_ISREG(n->attr.mode)) {
		if ((r = view_digest(c, n, &a.digest)))
			return r;
		a.has_digest = true;
	}
	return du_tree_add_attr(c->t, group, sub, path, S_ISDIR(n->attr.mode) ? DU_DIR : DU_FILE,
				size, 0, &a);
}

int insp_read_view(const struct ovl_view *v, struct du_tree *t, const struct insp_opts *o,
		   struct rf_err *err)
{
	struct view_ctx c = {.t = t, .by_layer = o->by_layer, .digest = o->digest, .err = err};
	if (o->by_layer && insp_attrib_new(v, &c.attrib, err))
		return -ENOMEM;
	int r = 0;
	if (o->digest && (!(c.xxh = XXH3_createState()) || !(c.buf = malloc(DIGEST_CHUNK))))
		r = -ENOMEM;
	if (!r)
		r = ovl_view_walk(v, view_one, &c);
	insp_attrib_free(c.attrib);
	free(c.seen_ino);
	XXH3_freeState(c.xxh);
	free(c.buf);
	if (r == -ENOMEM) /* else a read error, err filled by ovl_node_pread */
		return rf_err_set(err, ENOMEM, "out of memory");
	return r;
}

/* The view of one layer line "keyword target", built without SPEC text so that a name with
 * spaces stays one argument. */
static int read_view_of(const char *keyword, const char *target, struct du_tree *t,
			const struct insp_opts *o, struct rf_err *err)
{
	if (!spec_is_keyword(keyword))
		return rf_err_set(err, ENOTSUP,
				  "%s: reading it needs the '%s' layer, which this build lacks",
				  target, keyword);
	struct spec *s = NULL;
	struct ovl_view *v = NULL;
	char *argv[] = {(char *)target};
	if (spec_new(NULL, &s))
		return rf_err_set(err, ENOMEM, "out of memory");
	int r = spec_add_line(s, keyword, argv, 1, target, err);
	if (!r)
		r = ovl_view_build(s, &v, err);
	if (!r)
		r = insp_read_view(v, t, o, err);
	ovl_view_free(v);
	spec_free(s);
	return r;
}

static int read_spec(const char *target, struct du_tree *t, const struct insp_opts *o,
		     struct rf_err *err)
{
	struct spec *s = NULL;
	struct ovl_view *v = NULL;
	int r = spec_parse_file(target, &s, err);
	if (!r)
		r = ovl_view_build(s, &v, err);
	if (!r)
		r = insp_read_view(v, t, o, err);
	ovl_view_free(v);
	spec_free(s);
	return r;
}

/* Classify a regular file from its first bytes. */
static const char *classify(int fd, off_t size)
{
	uint8_t b[PROBE_BYTES];
	ssize_t n = pread(fd, b, sizeof(b), 0);
	if (n <= 0)
		return "empty";
	if (n >= 4 && !memcmp(b, "QFI\xfb", 4))
		return "image";
	uint8_t iso[5];
	if (size > 32774 && pread(fd, iso, 5, 32769) == 5 && !memcmp(iso, "CD001", 5))
		return "iso";
	if (n >= 1082 && b[1080] == 0x53 && b[1081] == 0xef)
		return "image";
	ssize_t i = 0;
	while (i < n && !b[i])
		i++;
	if (i < n && (i & 3) == 0 && n - i >= 5 && !memcmp(b + i, "07070", 5))
		return "cpio";
	if (i < n && insp_decoder_detect(b + i, (size_t)(n - i)))
		return "cpio";
	for (ssize_t k = 0; k < n; k++)
		if (!b[k] || (b[k] < 0x20 && b[k] != '\n' && b[k] != '\t' && b[k] != '\r'))
			return "unknown";
	return "spec";
}

int insp_detect(const char *target, const char **kind, struct rf_err *err)
{
	struct stat st;
	if (stat(target, &st))
		return rf_err_errno(err, errno, "%s", target);
	if (S_ISDIR(st.st_mode)) {
		*kind = "tree";
		return 0;
	}
	int fd = open(target, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(err, errno, "%s", target);
	*kind = classify(fd, st.st_size);
	close(fd);
	if (!strcmp(*kind, "empty") || !strcmp(*kind, "unknown"))
		return rf_err_set(err, EINVAL,
				  "%s: not an initramfs (cpio), ISO, ext4/qcow2 image nor a SPEC",
				  target);
	return 0;
}

static int read_cpio_file(const char *target, struct du_tree *t, const struct insp_opts *o,
			  struct rf_err *err)
{
	int fd = open(target, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(err, errno, "%s", target);
	struct stat st;
	if (fstat(fd, &st)) {
		close(fd);
		return rf_err_errno(err, errno, "%s", target);
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return rf_err_errno(err, errno, "%s: mmap", target);
	int r = insp_read_cpio(m, (size_t)st.st_size, target, t, o, err);
	munmap(m, (size_t)st.st_size);
	return r;
}

int insp_load(const char *target, const struct insp_opts *o, struct du_tree **out,
	      struct rf_err *err)
{
	const char *kind;
	int r = insp_detect(target, &kind, err);
	if (r)
		return r;
	struct du_tree *t = NULL;
	bool is_view = strcmp(kind, "cpio") && strcmp(kind, "iso");
	if (du_tree_new(target, is_view ? "view" : kind, &t))
		return rf_err_set(err, ENOMEM, "out of memory");
	if (!strcmp(kind, "cpio"))
		r = read_cpio_file(target, t, o, err);
	else if (!strcmp(kind, "iso"))
		r = insp_read_iso(target, t, o, err);
	else if (!strcmp(kind, "spec"))
		r = read_spec(target, t, o, err);
	else
		r = read_view_of(kind, target, t, o, err);
	if (r && !(o->partial && !strcmp(kind, "cpio"))) {
		du_tree_free(t);
		return r;
	}
	if (r) {
		t->partial_error = strdup(err->msg);
		if (!t->partial_error) {
			du_tree_free(t);
			return r;
		}
	}
	du_tree_finish(t);
	*out = t;
	return r;
}
