/* Unit tests of the qcow2 writer (exporters/qcow2_writer.c) and the qcow2 exporter, read back
 * with libqcow (an independent reader): a raw image with data clusters, partial clusters,
 * explicit zero clusters, holes, an L2 table boundary and a partial last cluster converts to a
 * qcow2 image whose media equals the raw image byte for byte, compressed or not; a view
 * exported as .qcow2 reads back as the .ext4 export of the same view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <libqcow.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter.h"
#include "qcow2_writer.h"
#include "spec.h"
#include "testutil.h"
#include "view.h"

#define MIB (1ULL << 20)

/* Compare the media of qcow2 file q with the raw file raw, in 1 MiB steps. */
static void assert_same_media(const char *q, const char *raw)
{
	libqcow_file_t *f = NULL;
	libqcow_error_t *e = NULL;
	assert_int_equal(libqcow_file_initialize(&f, &e), 1);
	assert_int_equal(libqcow_file_open(f, q, LIBQCOW_OPEN_READ, &e), 1);
	size64_t media = 0;
	assert_int_equal(libqcow_file_get_media_size(f, &media, &e), 1);
	int fd = open(raw, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(media, (size64_t)st.st_size);
	char *a = malloc(MIB), *b = malloc(MIB);
	for (uint64_t off = 0; off < media; off += MIB) {
		size_t len = media - off < MIB ? (size_t)(media - off) : MIB;
		assert_int_equal(libqcow_file_read_buffer_at_offset(f, a, len, (off64_t)off, &e),
				 (ssize_t)len);
		assert_int_equal(pread(fd, b, len, (off_t)off), (ssize_t)len);
		if (memcmp(a, b, len))
			fail_msg("media differs in the MiB at %llu", (unsigned long long)off);
	}
	free(a);
	free(b);
	close(fd);
	libqcow_file_close(f, &e);
	libqcow_file_free(&f, &e);
}

static void put_at(int fd, uint64_t off, size_t len, unsigned seed, bool random)
{
	char *buf = malloc(len);
	srand(seed);
	for (size_t i = 0; i < len; i++)
		buf[i] = random ? (char)rand() : (char)('a' + i % 26);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	free(buf);
}

static void convert(const char *raw, const char *q, bool compress)
{
	int in = open(raw, O_RDONLY);
	int out = open(q, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(in >= 0 && out >= 0);
	struct stat st;
	assert_int_equal(fstat(in, &st), 0);
	struct qcow2_opts o = {.compress = compress, .level = -1};
	struct rf_err err = {0};
	int r = qcow2_convert(in, (uint64_t)st.st_size, out, &o, q, &err);
	if (r)
		fail_msg("%s", err.msg);
	close(in);
	close(out);
}

static void test_convert_layouts(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *raw = tu_path(dir, "disk.raw"), *q = tu_path(dir, "disk.qcow2"),
	     *qz = tu_path(dir, "diskz.qcow2");
	int fd = open(raw, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	uint64_t size = 513 * MIB + 1000; /* two L2 tables, a partial last cluster */
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	put_at(fd, 0, 4096, 1, true);		     /* the first cluster, partly */
	put_at(fd, 3 * 65536 - 100, 300, 2, true);   /* straddles two clusters */
	put_at(fd, 10 * MIB, 3 * MIB + 7, 3, false); /* compressible run */
	put_at(fd, 100 * MIB, 2 * MIB, 4, true);     /* incompressible run */
	char zeros[65536] = {0};		     /* written zeros: data, but zero */
	assert_int_equal(pwrite(fd, zeros, sizeof(zeros), (off_t)(200 * MIB)), 65536);
	put_at(fd, 512 * MIB - 65536, 2 * 65536, 5, true); /* across the L2 boundary */
	put_at(fd, size - 500, 500, 6, true);		   /* the partial last cluster */
	close(fd);
	convert(raw, q, false);
	convert(raw, qz, true);
	assert_same_media(q, raw);
	assert_same_media(qz, raw);
	struct stat sq, sz;
	assert_int_equal(stat(q, &sq), 0);
	assert_int_equal(stat(qz, &sz), 0);
	/* only allocated clusters: far below the virtual size, and compression helps */
	assert_true(sq.st_size < 12 * (int64_t)MIB);
	assert_true(sz.st_size < sq.st_size - 2 * (int64_t)MIB);
	free(raw);
	free(q);
	free(qz);
	tu_rmtree(dir);
}

static void test_export_view(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *tree = tu_path(dir, "tree");
	assert_int_equal(mkdir(tree, 0755), 0);
	free(tu_write(tree, "hello", "hello world\n"));
	char *big = tu_path(tree, "big");
	int fd = open(big, O_RDWR | O_CREAT, 0644);
	put_at(fd, 0, 3 * MIB, 7, true);
	put_at(fd, 20 * MIB, 100000, 8, false);
	close(fd);
	const char *text = "tree ./tree\n"
			   "nod /dev/console 0600 0 0 c 5 1\n"
			   "slink /bin/sh busybox 0777 0 0\n";
	struct spec *s = NULL;
	struct ovl_view *v = NULL;
	struct rf_err err = {0};
	assert_int_equal(spec_parse_buffer(text, strlen(text), "t.spec", dir, &s, &err), 0);
	assert_int_equal(ovl_view_build(s, &v, &err), 0);
	struct exp_options o = {.level = -1, .has_epoch = true, .epoch = 1700000000, .quiet = true};
	char *ext4 = tu_path(dir, "out.ext4"), *q = tu_path(dir, "out.qcow2"),
	     *qz = tu_path(dir, "outz.qcow2");
	assert_int_equal(exp_export_file(v, ext4, &o, &err), 0);
	assert_int_equal(exp_export_file(v, q, &o, &err), 0);
	o.compress = "deflate";
	assert_int_equal(exp_export_file(v, qz, &o, &err), 0);
	assert_same_media(q, ext4);
	assert_same_media(qz, ext4);
	ovl_view_free(v);
	spec_free(s);
	free(ext4);
	free(q);
	free(qz);
	free(big);
	free(tree);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_convert_layouts),
	    cmocka_unit_test(test_export_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
