/* Unit tests of the image layer (overlay/sources/image.c, qcow_io.c): what `ls` does not
 * show (xattrs, nanosecond mtimes, hard links as one inode) and reads from many threads at
 * once, as the FUSE frontend and the parallel exporters do, on images made by mke2fs -d. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "layer.h"
#include "testutil.h"
#include "view.h"

#define BIG_BYTES (3u << 20)

struct fixture {
	char *dir;
	char raw[PATH_MAX], qcow[PATH_MAX];
	unsigned char *big; /* the content of big.bin */
	struct stat st_a;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->dir = tu_mkdtemp();
	char cmd[4 * PATH_MAX];
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/src/d && head -c %u /dev/urandom > %s/src/d/big.bin", f->dir,
		 BIG_BYTES, f->dir);
	if (system(cmd))
		return -1;
	char *a = tu_path(f->dir, "src/a");
	char *b = tu_path(f->dir, "src/d/b");
	FILE *fp = fopen(a, "w");
	fputs("content of a\n", fp);
	fclose(fp);
	if (link(a, b) || setxattr(a, "user.rootfs.test", "value", 5, 0))
		return -1;
	struct timespec ts[2] = {{.tv_sec = 1700000000, .tv_nsec = 123456789},
				 {.tv_sec = 1700000001, .tv_nsec = 987654321}};
	if (utimensat(AT_FDCWD, a, ts, 0) || stat(a, &f->st_a))
		return -1;
	free(a);
	free(b);
	snprintf(f->raw, sizeof(f->raw), "%s/disk.raw", f->dir);
	snprintf(f->qcow, sizeof(f->qcow), "%s/disk.qcow2", f->dir);
	snprintf(cmd, sizeof(cmd),
		 "mke2fs -q -F -t ext4 -I 256 -d %s/src %s 32M >/dev/null 2>&1 && "
		 /* mke2fs -d keeps whole seconds only: the nanoseconds (<< 2, above the epoch
		  * bits) go in with debugfs */
		 "debugfs -w -R 'sif a mtime_extra %u' %s >/dev/null 2>&1 && "
		 "qemu-img convert -O qcow2 %s %s",
		 f->dir, f->raw, 123456789u << 2, f->raw, f->raw, f->qcow);
	if (system(cmd))
		return -1;
	char *bp = tu_path(f->dir, "src/d/big.bin");
	int fd = open(bp, O_RDONLY);
	free(bp);
	f->big = malloc(BIG_BYTES);
	if (fd < 0 || read(fd, f->big, BIG_BYTES) != (ssize_t)BIG_BYTES)
		return -1;
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tu_rmtree(f->dir);
	free(f->big);
	free(f);
	return 0;
}

static struct ovl_view *load(const char *image)
{
	char *argv[] = {(char *)image};
	struct ovl_layer *l;
	struct ovl_view *v;
	struct rf_err err = {0};
	assert_int_equal(ovl_view_new(&v), 0);
	assert_int_equal(layer_new(&layer_image_ops, argv, 1, "test", &l), 0);
	assert_int_equal(ovl_view_add_layer(v, l), 0);
	int r = l->ops->load(l, v, &err);
	if (r)
		fail_msg("%s", err.msg);
	assert_int_equal(ovl_view_finalize(v), 0);
	return v;
}

static void check_metadata(const char *image, const struct fixture *f)
{
	struct ovl_view *v = load(image);
	struct ovl_node *a = ovl_view_lookup(v, "a"), *b = ovl_view_lookup(v, "d/b");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->attr.mtime_sec, f->st_a.st_mtim.tv_sec);
	assert_int_equal(a->attr.mtime_nsec, 123456789);
	bool found = false;
	for (size_t i = 0; i < a->n_xattrs; i++)
		if (!strcmp(a->xattrs[i].name, "user.rootfs.test")) {
			assert_int_equal(a->xattrs[i].size, 5);
			assert_memory_equal(a->xattrs[i].value, "value", 5);
			found = true;
		}
	assert_true(found);
	assert_int_not_equal(a->hardlink_key, 0);
	assert_int_equal(a->hardlink_key, b->hardlink_key);
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->nlink, 2);
	char buf[64] = "";
	struct rf_err err = {0};
	assert_int_equal(ovl_node_pread(b, buf, sizeof(buf), 0, &err), 13);
	assert_string_equal(buf, "content of a\n");
	ovl_view_free(v);
}

static void test_metadata_raw_and_qcow2(void **state)
{
	struct fixture *f = *state;
	check_metadata(f->raw, f);
	check_metadata(f->qcow, f);
}

struct reader {
	const struct ovl_node *n;
	const unsigned char *want;
	unsigned seed;
	int bad;
};

static void *read_many(void *arg)
{
	struct reader *r = arg;
	unsigned char *buf = malloc(65536);
	for (int i = 0; i < 300; i++) {
		size_t len = 1 + rand_r(&r->seed) % 65536;
		uint64_t off = rand_r(&r->seed) % BIG_BYTES;
		struct rf_err err = {0};
		ssize_t got = ovl_node_pread(r->n, buf, len, off, &err);
		size_t want = off + len > BIG_BYTES ? BIG_BYTES - off : len;
		if (got != (ssize_t)want || memcmp(buf, r->want + off, want))
			r->bad++;
	}
	free(buf);
	return NULL;
}

/* Eight threads read one file of the image at random offsets at once: each read must see
 * the file's bytes (libext2fs and libqcow are not thread-safe: the layer serializes them). */
static void test_concurrent_reads(void **state)
{
	struct fixture *f = *state;
	const char *images[] = {f->raw, f->qcow};
	for (int k = 0; k < 2; k++) {
		struct ovl_view *v = load(images[k]);
		const struct ovl_node *n = ovl_view_lookup(v, "d/big.bin");
		assert_non_null(n);
		assert_int_equal(n->attr.size, BIG_BYTES);
		pthread_t t[8];
		struct reader r[8];
		for (int i = 0; i < 8; i++) {
			r[i] = (struct reader){.n = n, .want = f->big, .seed = (unsigned)i + 1};
			assert_int_equal(pthread_create(&t[i], NULL, read_many, &r[i]), 0);
		}
		for (int i = 0; i < 8; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(r[i].bad, 0);
		}
		ovl_view_free(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metadata_raw_and_qcow2),
	    cmocka_unit_test(test_concurrent_reads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
