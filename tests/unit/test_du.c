/* Unit tests of the du model and the initramfs reader (inspect/): newc archives made here,
 * compressed with zlib/zstd, concatenated as the kernel accepts them; compressed costs add up
 * to the file size exactly, incompressible data costs about its size, bad input fails with the
 * part before the failure kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "diff.h"
#include "du.h"
#include "layer.h"
#include "output.h"
#include "readers.h"
#include "view.h"
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (!n)
		return;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void pad4(struct buf *b, size_t base)
{
	static const uint8_t z[4];
	put(b, z, (4 - (b->len - base) % 4) % 4);
}

/* One newc entry as usr/gen_init_cpio writes it; base is where the stream started. */
static void newc(struct buf *b, size_t base, const char *name, unsigned mode, const void *data,
		 size_t size)
{
	char h[160];
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1u,
		 mode, 0u, 0u, 1u, 0u, size, 0u, 0u, 0u, 0u, strlen(name) + 1, 0u);
	put(b, h, 110);
	put(b, name, strlen(name) + 1);
	pad4(b, base);
	put(b, data, size);
	pad4(b, base);
}

static void trailer(struct buf *b, size_t base)
{
	newc(b, base, "TRAILER!!!", 0, NULL, 0);
}

static uint8_t *random_bytes(size_t n, unsigned seed)
{
	uint8_t *d = malloc(n);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d[i] = (uint8_t)x;
	}
	return d;
}

static void gzip_into(struct buf *out, const struct buf *in)
{
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	size_t cap = deflateBound(&z, in->len) + 64;
	uint8_t *o = malloc(cap);
	z.next_in = in->p;
	z.avail_in = (uInt)in->len;
	z.next_out = o;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	put(out, o, cap - z.avail_out);
	deflateEnd(&z);
	free(o);
}

static void zstd_into(struct buf *out, const struct buf *in)
{
	size_t cap = ZSTD_compressBound(in->len);
	uint8_t *o = malloc(cap);
	size_t n = ZSTD_compress(o, cap, in->p, in->len, 3);
	assert_false(ZSTD_isError(n));
	put(out, o, n);
	free(o);
}

static const struct du_node *find(const struct du_node *n, const char *path)
{
	char *p = du_node_path(n);
	int same = !strcmp(p, path);
	free(p);
	if (same)
		return n;
	for (size_t i = 0; i < n->n_children; i++) {
		const struct du_node *r = find(n->children[i], path);
		if (r)
			return r;
	}
	return NULL;
}

static struct du_tree *read_buf(const struct buf *b, int expect, const struct insp_opts *o)
{
	struct du_tree *t = NULL;
	struct rf_err err = {0};
	struct insp_opts none = {0};
	assert_int_equal(du_tree_new("t", "cpio", &t), 0);
	int r = insp_read_cpio(b->p, b->len, "t.img", t, o ? o : &none, &err);
	if (r != expect)
		fail_msg("insp_read_cpio: %d (%s), expected %d", r, err.msg, expect);
	if (expect)
		assert_true(strncmp(err.msg, "t.img: ", 7) == 0);
	du_tree_finish(t);
	return t;
}

/* A gzip archive: the root's compressed bytes are the file, the 256 KiB of random data cost
 * about 256 KiB, the text far less, and the headers line holds the rest. */
static void test_gzip_attribution(void **state)
{
	(void)state;
	struct buf raw = {0}, img = {0};
	uint8_t *rnd = random_bytes(256 * 1024, 1);
	char text[60000];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = "abcdefgh\n"[i % 9];
	newc(&raw, 0, ".", 040755, NULL, 0);
	newc(&raw, 0, "bin", 040755, NULL, 0);
	newc(&raw, 0, "bin/rnd", 0100644, rnd, 256 * 1024);
	newc(&raw, 0, "./etc//text", 0100644, text, sizeof(text));
	newc(&raw, 0, "etc/link", 0120777, "../bin/rnd", 10);
	trailer(&raw, 0);
	gzip_into(&img, &raw);
	struct du_tree *t = read_buf(&img, 0, NULL);
	assert_int_equal(t->root->compressed_bytes, img.len);
	assert_int_equal(t->root->size_bytes, raw.len);
	assert_int_equal(t->stream_bytes, raw.len);
	const struct du_node *r = find(t->root, "/bin/rnd"), *x = find(t->root, "/etc/text");
	const struct du_node *m = find(t->root, "/(cpio headers and padding)");
	assert_non_null(r);
	assert_non_null(x);
	assert_non_null(m);
	assert_int_equal(m->type, DU_META);
	assert_int_equal(r->size_bytes, 256 * 1024);
	assert_true(r->compressed_bytes > 256 * 1024 * 98 / 100);
	assert_true(r->compressed_bytes < 256 * 1024 * 102 / 100);
	assert_true(x->compressed_bytes < sizeof(text) / 20);
	assert_int_equal(find(t->root, "/etc/link")->size_bytes, 10);
	assert_int_equal(m->size_bytes, raw.len - 256 * 1024 - sizeof(text) - 10);
	/* largest first (by compressed bytes) */
	assert_string_equal(t->root->children[0]->name, "bin");
	assert_int_equal(t->n_segments, 1);
	assert_string_equal(t->segments[0].compression, "gzip");
	du_tree_free(t);
	free(rnd);
	free(raw.p);
	free(img.p);
}

/* Microcode-style: an uncompressed archive, zero padding, a gzip stream holding two archives
 * (a trailer in the middle, as the kernel allows), a zstd stream without a trailer. */
static void test_segments(void **state)
{
	(void)state;
	struct buf img = {0}, g = {0}, z = {0};
	uint8_t *rnd = random_bytes(5000, 2);
	newc(&img, 0, "kernel/x86/microcode/AuthenticAMD.bin", 0100644, rnd, 5000);
	trailer(&img, 0);
	static const uint8_t zeros[512];
	put(&img, zeros, 512);
	newc(&g, 0, "a", 0100644, "aaaa", 4);
	trailer(&g, 0);
	put(&g, zeros, 8);
	newc(&g, 0, "b", 0100644, "bbbbbbb", 7);
	trailer(&g, 0);
	size_t gz_at = img.len;
	gzip_into(&img, &g);
	put(&img, zeros, 3);
	newc(&z, 0, "c", 0100644, "c", 1);
	zstd_into(&img, &z);
	struct insp_opts o = {.by_layer = true};
	struct du_tree *t = read_buf(&img, 0, &o);
	assert_int_equal(t->n_segments, 3);
	assert_string_equal(t->segments[0].compression, "none");
	assert_string_equal(t->segments[1].compression, "gzip");
	assert_string_equal(t->segments[2].compression, "zstd");
	assert_int_equal(t->root->compressed_bytes, img.len);
	const struct du_node *mc =
	    find(t->root, "[segment 1 (cpio at byte 0)]/kernel/x86/microcode/AuthenticAMD.bin");
	assert_non_null(mc);
	assert_int_equal(mc->compressed_bytes, 5000); /* uncompressed: costs itself */
	char p[64];
	snprintf(p, sizeof(p), "[segment 2 (gzip at byte %zu)]/a", gz_at);
	assert_int_equal(find(t->root, p)->size_bytes, 4);
	snprintf(p, sizeof(p), "[segment 2 (gzip at byte %zu)]/b", gz_at);
	assert_int_equal(find(t->root, p)->size_bytes, 7);
	snprintf(p, sizeof(p), "[segment 3 (zstd at byte %zu)]/c",
		 img.len - t->segments[2].compressed_bytes);
	assert_int_equal(find(t->root, p)->size_bytes, 1);
	assert_int_equal(t->root->size_bytes, t->stream_bytes);
	du_tree_free(t);
	free(rnd);
	free(img.p);
	free(g.p);
	free(z.p);
}

/* A truncated gzip stream and a bad magic fail; the entries before stay in the tree. */
static void test_bad_input(void **state)
{
	(void)state;
	struct buf raw = {0}, img = {0};
	uint8_t *rnd = random_bytes(40000, 3);
	for (int i = 0; i < 8; i++) {
		char name[8];
		snprintf(name, sizeof(name), "f%d", i);
		newc(&raw, 0, name, 0100644, rnd + i * 5000, 5000);
	}
	trailer(&raw, 0);
	gzip_into(&img, &raw);
	img.len = img.len * 6 / 10;
	struct du_tree *t = read_buf(&img, -EIO, NULL);
	assert_int_equal(find(t->root, "/f0")->size_bytes, 5000);
	assert_int_equal(find(t->root, "/f2")->size_bytes, 5000);
	assert_null(find(t->root, "/f7"));
	assert_int_equal(t->root->compressed_bytes, img.len);
	du_tree_free(t);

	/* the fourth header's magic broken in an uncompressed archive */
	size_t at = 3 * (116 + 5000);
	assert_memory_equal(raw.p + at, "070701", 6);
	raw.p[at + 5] = '9';
	t = read_buf(&raw, -EINVAL, NULL);
	assert_non_null(find(t->root, "/f2"));
	assert_null(find(t->root, "/f3"));
	du_tree_free(t);

	/* junk that is neither cpio nor a known compression after a valid archive */
	raw.p[at + 5] = '1';
	put(&raw, "JUNK", 4);
	t = read_buf(&raw, -EINVAL, NULL);
	assert_non_null(find(t->root, "/f7"));
	du_tree_free(t);
	free(rnd);
	free(raw.p);
	free(img.p);
}

static void test_model(void **state)
{
	(void)state;
	struct du_tree *t = NULL;
	assert_int_equal(du_tree_new("x", "view", &t), 0);
	assert_int_equal(
	    du_tree_add(t, "host /usr/bin/xz", NULL, "usr/lib/liblzma.so.5", DU_FILE, 300, 0), 0);
	assert_int_equal(du_tree_add(t, "host /usr/bin/xz", NULL, "usr/bin/xz", DU_FILE, 100, 0),
			 0);
	assert_int_equal(du_tree_add(t, "busybox", NULL, "bin/busybox", DU_FILE, 1000, 0), 0);
	assert_int_equal(du_tree_add(t, "busybox", NULL, "bin/busybox", DU_FILE, 5, 0), 0);
	du_tree_finish(t);
	assert_int_equal(t->root->size_bytes, 1405);
	assert_int_equal(t->root->n_entries, 4);
	assert_string_equal(t->root->children[0]->name, "busybox");
	const struct du_node *lib = find(t->root, "[host /usr/bin/xz]/usr/lib/liblzma.so.5");
	assert_non_null(lib);
	assert_int_equal(lib->parent->size_bytes, 300);
	assert_int_equal(lib->parent->parent->size_bytes, 400);
	char b[32];
	assert_string_equal(du_human(1023, false, b), "1023");
	assert_string_equal(du_human(1536, false, b), "1.5K");
	assert_string_equal(du_human(1048575, false, b), "1.0M");
	assert_string_equal(du_human(1048575, true, b), "1048575");
	struct du_node **leaves;
	size_t n;
	assert_int_equal(du_tree_leaves(t, false, &leaves, &n), 0);
	assert_int_equal(n, 3);
	free(leaves);
	du_tree_free(t);
}

/* Put host path p into the view as the host layer would: symlinks kept (parents resolved
 * on the host), regular files read from the host, directories implied. */
static void put_host(struct ovl_view *v, struct ovl_layer *l, const char *p)
{
	char *d1 = strdup(p), *d2 = strdup(p);
	char rd[PATH_MAX], full[PATH_MAX * 2];
	assert_non_null(realpath(dirname(d1), rd));
	snprintf(full, sizeof(full), "%s/%s", strcmp(rd, "/") ? rd : "", basename(d2));
	struct stat st;
	assert_int_equal(lstat(full, &st), 0);
	struct ovl_entry e = {.path = full + 1};
	struct rf_err err = {0};
	char target[PATH_MAX] = "";
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(full, target, sizeof(target) - 1);
		assert_true(n > 0);
		target[n] = '\0';
		e.attr.mode = S_IFLNK | 0777;
		e.attr.size = (uint64_t)n;
		e.link_target = target;
	} else if (S_ISREG(st.st_mode)) {
		e.attr.mode = S_IFREG | 0755;
		e.attr.size = (uint64_t)st.st_size;
		e.src.kind = OVL_SRC_HOST;
		e.src.host_path = full;
	}
	if (e.attr.mode && ovl_view_lookup(v, e.path) == NULL)
		assert_int_equal(ovl_view_put(v, l, &e, NULL, &err), 0);
	if (target[0]) {
		char next[PATH_MAX * 3];
		if (target[0] == '/')
			snprintf(next, sizeof(next), "%s", target);
		else
			snprintf(next, sizeof(next), "%s/%s", rd, target);
		put_host(v, l, next);
	}
	free(d1);
	free(d2);
}

/* --by layer inside a host layer: each binary with its DT_NEEDED closure (as ldd lists it),
 * libraries needed by several under "shared by", every file counted once. */
static void test_host_split(void **state)
{
	(void)state;
	char *bins[] = {"/usr/bin/xz", "/usr/bin/lz4", "/usr/bin/zstd"};
	struct ovl_view *v = NULL;
	struct ovl_layer *l = NULL;
	assert_int_equal(ovl_view_new(&v), 0);
	assert_int_equal(layer_new(&layer_host_ops, bins, 3, "--host", &l), 0);
	assert_int_equal(ovl_view_add_layer(v, l), 0);
	put_host(v, l, "/lib");
	put_host(v, l, "/lib64");
	char libs[3][16][PATH_MAX];
	int n_libs[3] = {0};
	for (int b = 0; b < 3; b++) {
		put_host(v, l, bins[b]);
		char cmd[256], line[PATH_MAX];
		snprintf(cmd, sizeof(cmd), "ldd %s", bins[b]);
		FILE *f = popen(cmd, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			char *p = strchr(line, '/'), *sp;
			if (!p || !(sp = strchr(p, ' ')))
				continue;
			*sp = '\0';
			put_host(v, l, p);
			assert_true(realpath(p, libs[b][n_libs[b]]) != NULL);
			n_libs[b]++;
		}
		pclose(f);
		assert_true(n_libs[b] >= 2); /* libc and the interpreter at least */
	}
	assert_int_equal(ovl_view_finalize(v), 0);
	struct du_tree *t = NULL;
	struct rf_err err = {0};
	struct insp_opts o = {.by_layer = true};
	assert_int_equal(du_tree_new("x", "view", &t), 0);
	assert_int_equal(insp_read_view(v, t, &o, &err), 0);
	du_tree_finish(t);
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "[%s]/[/usr/bin/xz]/usr/bin/xz", l->label);
	assert_non_null(find(t->root, p));
	/* each library of each binary sits in a sub-group naming that binary */
	const struct du_node *lg = t->root->children[0];
	assert_string_equal(lg->name, l->label);
	for (int b = 0; b < 3; b++)
		for (int i = 0; i < n_libs[b]; i++) {
			int hits = 0;
			for (size_t g = 0; g < lg->n_children; g++) {
				const struct du_node *sg = lg->children[g];
				snprintf(p, sizeof(p), "[%s]/[%s]%s", l->label, sg->name,
					 libs[b][i]);
				if (find(sg, p)) {
					hits++;
					if (!strstr(sg->name, bins[b]))
						fail_msg("%s of %s in [%s]", libs[b][i], bins[b],
							 sg->name);
				}
			}
			if (hits != 1)
				fail_msg("%s of %s found %d times", libs[b][i], bins[b], hits);
		}
	snprintf(p, sizeof(p), "[%s]/[shared by /usr/bin/xz, /usr/bin/lz4, /usr/bin/zstd]",
		 l->label);
	assert_non_null(find(t->root, p));
	/* counted once: the layer's group is the sum of the view */
	assert_int_equal(lg->size_bytes, t->root->size_bytes);
	uint64_t sum = 0;
	for (size_t g = 0; g < lg->n_children; g++)
		sum += lg->children[g]->size_bytes;
	assert_int_equal(sum, lg->size_bytes);
	du_tree_free(t);
	ovl_view_free(v);
}

static const struct layer_ops fake_modules_ops = {.kind = "modules", .min_args = 1, .max_args = -1};

static void put_mem(struct ovl_view *v, struct ovl_layer *l, const char *path, const char *text)
{
	struct ovl_entry e = {.path = path};
	struct rf_err err = {0};
	e.attr.mode = S_IFREG | 0644;
	e.attr.size = strlen(text);
	e.src.kind = OVL_SRC_MEM;
	e.src.data = (void *)text;
	assert_int_equal(ovl_view_put(v, l, &e, NULL, &err), 0);
}

/* --by layer inside a modules layer: each module with the dependencies modules.dep lists
 * ('-' and '_' alike, compressed .ko.xz too); a dependency of both under "shared by". */
static void test_modules_split(void **state)
{
	(void)state;
	char *args[] = {"/lib/modules/6.1.0-t", "ext4", "virtio-blk"};
	struct ovl_view *v = NULL;
	struct ovl_layer *l = NULL;
	assert_int_equal(ovl_view_new(&v), 0);
	assert_int_equal(layer_new(&fake_modules_ops, args, 3, "t.spec:1", &l), 0);
	assert_int_equal(ovl_view_add_layer(v, l), 0);
	const char *d = "lib/modules/6.1.0-t/";
	const char *dep =
	    "kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz kernel/fs/mbcache.ko.xz "
	    "kernel/crypto/crc32c_generic.ko.xz\n"
	    "kernel/fs/jbd2/jbd2.ko.xz: kernel/crypto/crc32c_generic.ko.xz\n"
	    "kernel/fs/mbcache.ko.xz:\n"
	    "kernel/crypto/crc32c_generic.ko.xz:\n"
	    "kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz "
	    "kernel/crypto/crc32c_generic.ko.xz\n"
	    "kernel/drivers/virtio/virtio.ko.xz:\n";
	static const char *const kos[] = {"kernel/fs/ext4/ext4.ko.xz",
					  "kernel/fs/jbd2/jbd2.ko.xz",
					  "kernel/fs/mbcache.ko.xz",
					  "kernel/crypto/crc32c_generic.ko.xz",
					  "kernel/drivers/block/virtio_blk.ko.xz",
					  "kernel/drivers/virtio/virtio.ko.xz"};
	static const char *const owner[] = {
	    "ext4", "ext4", "ext4", "shared by ext4, virtio-blk", "virtio-blk", "virtio-blk"};
	char p[512];
	snprintf(p, sizeof(p), "%smodules.dep", d);
	put_mem(v, l, p, dep);
	snprintf(p, sizeof(p), "%smodules.alias", d);
	put_mem(v, l, p, "alias virtio:d00000002v* virtio_blk\n");
	for (size_t i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "%s%s", d, kos[i]);
		put_mem(v, l, p, kos[i]); /* content: its own name, sizes differ */
	}
	assert_int_equal(ovl_view_finalize(v), 0);
	struct du_tree *t = NULL;
	struct rf_err err = {0};
	struct insp_opts o = {.by_layer = true};
	assert_int_equal(du_tree_new("x", "view", &t), 0);
	assert_int_equal(insp_read_view(v, t, &o, &err), 0);
	du_tree_finish(t);
	for (size_t i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "[%s]/[%s]/%s%s", l->label, owner[i], d, kos[i]);
		if (!find(t->root, p))
			fail_msg("%s not found", p);
	}
	snprintf(p, sizeof(p), "[%s]/[(other files)]/%smodules.alias", l->label, d);
	assert_non_null(find(t->root, p));
	du_tree_free(t);
	ovl_view_free(v);
}

/* diff compares attributes and digests where both sides have them, directories included */
static void test_diff_what(void **state)
{
	(void)state;
	struct du_tree *t[2];
	for (int k = 0; k < 2; k++) {
		assert_int_equal(du_tree_new("x", "view", &t[k]), 0);
		struct du_attr dir = {.mode = 040755}, f = {.mode = 0100644, .has_digest = true};
		struct du_attr l = {.mode = 0120777, .digest = 7, .has_digest = true};
		struct du_attr dev = {.mode = 020600, .rdev = 0x501};
		dir.mode = k ? 040700 : 040755;
		assert_int_equal(du_tree_add_attr(t[k], NULL, NULL, "etc", DU_DIR, 0, 0, &dir), 0);
		f.digest = k ? 2 : 1; /* same size, other data */
		assert_int_equal(du_tree_add_attr(t[k], NULL, NULL, "etc/a", DU_FILE, 6, 0, &f), 0);
		f.digest = 3;
		f.uid = k ? 1000 : 0;
		assert_int_equal(du_tree_add_attr(t[k], NULL, NULL, "etc/b", DU_FILE, 6, 0, &f), 0);
		f.uid = 0;
		f.has_digest = !k; /* a digest on one side only: not compared */
		f.digest = 9 + (uint64_t)k;
		assert_int_equal(du_tree_add_attr(t[k], NULL, NULL, "etc/c", DU_FILE, 6, 0, &f), 0);
		l.digest = k ? 8 : 7;
		assert_int_equal(du_tree_add_attr(t[k], NULL, NULL, "sh", DU_FILE, 7, 0, &l), 0);
		dev.rdev = k ? 0x502 : 0x501;
		assert_int_equal(du_tree_add_attr(t[k], NULL, NULL, "tty", DU_FILE, 0, 0, &dev), 0);
		assert_int_equal(du_tree_add(t[k], NULL, NULL, "nometa", DU_FILE, 1, 0), 0);
		du_tree_finish(t[k]);
	}
	struct du_diff *d = NULL;
	assert_int_equal(du_diff_compute(t[0], t[1], &d), 0);
	assert_int_equal(d->n_changes, 5);
	const char *want[][2] = {{"/etc", "mode"},
				 {"/etc/a", "content"},
				 {"/etc/b", "owner"},
				 {"/sh", "target"},
				 {"/tty", "rdev"}};
	char w[80];
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(d->changes[i].path, want[i][0]);
		assert_int_equal(d->changes[i].kind, '~');
		assert_string_equal(du_what_names(d->changes[i].what, w, sizeof(w)), want[i][1]);
	}
	du_diff_free(d);
	assert_int_equal(du_diff_compute(t[0], t[0], &d), 0);
	assert_int_equal(d->n_changes, 0);
	du_diff_free(d);
	du_tree_free(t[0]);
	du_tree_free(t[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gzip_attribution), cmocka_unit_test(test_segments),
	    cmocka_unit_test(test_bad_input),	     cmocka_unit_test(test_model),
	    cmocka_unit_test(test_host_split),	     cmocka_unit_test(test_modules_split),
	    cmocka_unit_test(test_diff_what),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
