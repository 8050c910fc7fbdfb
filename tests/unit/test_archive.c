/* Unit tests of the archive layer (overlay/sources/archive.c) on archives made by GNU cpio and
 * GNU tar: hard links share an inode and one content whichever member carries the data,
 * xattrs as stored, a "." entry sets the root, uncompressed members read in place, sparse
 * members, and concurrent reads are safe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "spec.h"
#include "testutil.h"
#include "viewtest.h"
#include "view.h"

static void check_links(const char *dir, const char *archive)
{
	char spec[256];
	snprintf(spec, sizeof(spec), "archive ./%s\n", archive);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(dir, spec, &err);
	if (!v)
		fail_msg("%s: %s", archive, err.msg);
	struct ovl_node *a = ovl_view_lookup(v, "bin/a"), *b = ovl_view_lookup(v, "bin/b"),
			*c = ovl_view_lookup(v, "sbin/c");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->ino, c->ino);
	assert_int_equal(a->nlink, 3);
	assert_int_equal(a->attr.size, 5);
	assert_int_equal(c->attr.size, 5);
	assert_int_equal(a->attr.mode, S_IFREG | 0751);
	char *ca = tu_read_all(a), *cc = tu_read_all(c);
	assert_string_equal(ca, "data\n");
	assert_string_equal(cc, "data\n");
	free(ca);
	free(cc);
	assert_int_equal(ovl_view_root(v)->attr.mode, S_IFDIR | 0711);
	ovl_view_free(v);
}

static void test_hard_links(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	tu_sh("cd %s && mkdir -p src/bin src/sbin && echo data > src/bin/a && chmod 751 src/bin/a && "
	   "ln src/bin/a src/bin/b && ln src/bin/a src/sbin/c && chmod 711 src && "
	   "(cd src && find . | cpio -o -H newc 2>/dev/null) > t.cpio && "
	   "(cd src && find . | cpio -o -H odc 2>/dev/null) | gzip > t.odc.gz && "
	   "tar -C src -cf t.tar . && tar -C src --format=posix -cJf t.pax.xz .",
	   d);
	check_links(d, "t.cpio"); /* uncompressed: served from the archive itself */
	check_links(d, "t.odc.gz");
	check_links(d, "t.tar");
	check_links(d, "t.pax.xz");
	tu_rmtree(d);
}

static void test_xattrs(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	tu_sh("mkdir -p %s/src && echo x > %s/src/f", d, d);
	char *f = tu_path(d, "src/f");
	if (setxattr(f, "user.rootfs", "yes", 3, 0)) {
		free(f);
		tu_rmtree(d);
		skip();
	}
	tu_sh("cd %s && tar -C src --xattrs --xattrs-include='user.*' --format=posix -cf t.tar .", d);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "archive ./t.tar\n", &err);
	assert_non_null(v);
	struct ovl_node *n = ovl_view_lookup(v, "f");
	assert_non_null(n);
	assert_int_equal(n->n_xattrs, 1);
	assert_string_equal(n->xattrs[0].name, "user.rootfs");
	assert_int_equal(n->xattrs[0].size, 3);
	assert_memory_equal(n->xattrs[0].value, "yes", 3);
	ovl_view_free(v);
	free(f);
	tu_rmtree(d);
}

static void test_concurrent_reads_and_sparse(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	tu_sh("cd %s && mkdir -p src && seq 1 30000 > src/one && seq 40000 70000 > src/two && "
	   "truncate -s 200000 src/sparse && printf tail >> src/sparse && "
	   "tar -C src -S -czf t.tgz .",
	   d);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "archive ./t.tgz\n", &err);
	assert_non_null(v);
	const struct ovl_node *one = ovl_view_lookup(v, "one"), *two = ovl_view_lookup(v, "two");
	const struct ovl_node *sp = ovl_view_lookup(v, "sparse");
	assert_non_null(sp);
	assert_int_equal(sp->attr.size, 200004);
	char *s = tu_read_all(sp);
	for (size_t i = 0; i < 200000; i++)
		if (s[i])
			fail_msg("sparse byte %zu is %d", i, s[i]);
	assert_memory_equal(s + 200000, "tail", 4);
	free(s);
	tu_concurrent_reads(one, two);
	ovl_view_free(v);
	tu_rmtree(d);
}

/* Members of an uncompressed archive are read from the archive itself; a sparse member (its
 * blocks not one run of the file) and compressed content come from the spool. */
static void test_direct_and_spooled(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	tu_sh("cd %s && mkdir -p src && seq 1 30000 > src/plain && printf head > src/sparse && "
	   "head -c 3500000 /dev/urandom > src/big && "
	   "truncate -s 300000 src/sparse && printf tail >> src/sparse && "
	   "tar -C src -S -cf t.tar . && gzip -k t.tar",
	   d);
	for (int gz = 0; gz < 2; gz++) {
		struct rf_err err = {0};
		struct ovl_view *v =
		    tu_build(d, gz ? "archive ./t.tar.gz\n" : "archive ./t.tar\n", &err);
		assert_non_null(v);
		const struct ovl_node *pl = ovl_view_lookup(v, "plain");
		const struct ovl_node *sp = ovl_view_lookup(v, "sparse");
		assert_non_null(pl);
		assert_non_null(sp);
		assert_int_equal(!!(pl->src.cookie & (1ull << 63)), !gz);
		assert_int_equal(sp->src.cookie & (1ull << 63), 0);
		char *c = tu_read_all(pl);
		assert_int_equal(strncmp(c, "1\n2\n3\n", 6), 0);
		assert_int_equal(strcmp(c + pl->attr.size - 6, "30000\n"), 0);
		free(c);
		/* 3.5 MB spans several of libarchive's input buffers: still read in place */
		const struct ovl_node *big = ovl_view_lookup(v, "big");
		assert_non_null(big);
		assert_int_equal(!!(big->src.cookie & (1ull << 63)), !gz);
		c = tu_read_all(big);
		char *src_big = tu_path(d, "src/big");
		FILE *f = fopen(src_big, "rb");
		assert_non_null(f);
		char *want = malloc(big->attr.size);
		assert_int_equal(fread(want, 1, big->attr.size, f), big->attr.size);
		fclose(f);
		assert_memory_equal(c, want, big->attr.size);
		free(want);
		free(src_big);
		free(c);
		assert_int_equal(sp->attr.size, 300004);
		c = tu_read_all(sp);
		assert_memory_equal(c, "head", 4);
		for (size_t i = 4; i < 300000; i++)
			if (c[i])
				fail_msg("sparse byte %zu is %d", i, c[i]);
		assert_memory_equal(c + 300000, "tail", 4);
		free(c);
		ovl_view_free(v);
	}
	tu_rmtree(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hard_links),
	    cmocka_unit_test(test_xattrs),
	    cmocka_unit_test(test_concurrent_reads_and_sparse),
	    cmocka_unit_test(test_direct_and_spooled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
