/* Unit tests of the tcz layer (overlay/sources/tcz.c, tcz_deps.c) on images made by
 * mksquashfs: hard links share an inode, device nodes and xattrs as stored, the dependency
 * order decides who keeps a path (copy2fs answers no), and concurrent reads are safe. */
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

static void test_hard_links_devices_xattrs(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	tu_sh("cd %s && mkdir -p tce/optional p/usr/local/bin && seq 1 30000 > p/usr/local/bin/a && "
	   "ln p/usr/local/bin/a p/usr/local/bin/b && ln -s a p/usr/local/bin/c",
	   d);
	char *a = tu_path(d, "p/usr/local/bin/a");
	bool has_xattr = setxattr(a, "user.rootfs", "yes", 3, 0) == 0;
	tu_sh("cd %s && mksquashfs p tce/optional/p.tcz -noappend -quiet -p 'dev d 755 0 0' "
	   "-p 'dev/console c 600 0 5 5 1' -p 'dev/vda b 660 0 6 254 16' >/dev/null",
	   d);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tcz ./tce/optional p.tcz\n", &err);
	assert_non_null(v);
	struct ovl_node *na = ovl_view_lookup(v, "usr/local/bin/a");
	struct ovl_node *nb = ovl_view_lookup(v, "usr/local/bin/b");
	struct ovl_node *nc = ovl_view_lookup(v, "usr/local/bin/c");
	assert_non_null(na);
	assert_non_null(nb);
	assert_non_null(nc);
	assert_int_equal(na->ino, nb->ino);
	assert_int_equal(na->nlink, 2);
	assert_true(S_ISLNK(nc->attr.mode));
	assert_string_equal(nc->link_target, "a");
	char *ca = tu_read_all(na), *cb = tu_read_all(nb);
	assert_string_equal(ca, cb);
	assert_int_equal(strncmp(ca, "1\n2\n3\n", 6), 0);
	free(ca);
	free(cb);
	struct ovl_node *con = ovl_view_lookup(v, "dev/console");
	assert_non_null(con);
	assert_true(S_ISCHR(con->attr.mode));
	assert_int_equal(con->attr.mode & 07777, 0600);
	assert_int_equal(con->attr.gid, 5);
	assert_int_equal(con->attr.rdev_major, 5);
	assert_int_equal(con->attr.rdev_minor, 1);
	struct ovl_node *vda = ovl_view_lookup(v, "dev/vda");
	assert_true(S_ISBLK(vda->attr.mode));
	assert_int_equal(vda->attr.rdev_major, 254);
	assert_int_equal(vda->attr.rdev_minor, 16);
	if (has_xattr) {
		assert_int_equal(na->n_xattrs, 1);
		assert_string_equal(na->xattrs[0].name, "user.rootfs");
		assert_int_equal(na->xattrs[0].size, 3);
		assert_memory_equal(na->xattrs[0].value, "yes", 3);
	}
	struct ovl_node *inst = ovl_view_lookup(v, "usr/local/tce.installed/p");
	assert_non_null(inst);
	assert_true(S_ISREG(inst->attr.mode));
	assert_int_equal(inst->attr.size, 0);
	assert_null(ovl_view_lookup(v, "tmp/setup.lst"));
	ovl_view_free(v);
	free(a);
	tu_rmtree(d);
}

/* base <- liba, libb <- app: base loads first and keeps a path app also brings; the startup
 * scripts are queued in dependency order. */
static void test_order_and_first_wins(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	tu_sh("cd %s && mkdir -p o && for p in base liba libb app; do "
	   "mkdir -p $p/usr/local/share $p/usr/local/tce.installed && echo $p > "
	   "$p/usr/local/share/$p; "
	   "echo $p > $p/usr/local/share/conflict; done && "
	   "printf '#!/bin/sh\\n' > liba/usr/local/tce.installed/liba && "
	   "printf '#!/bin/sh\\n' > app/usr/local/tce.installed/app && "
	   "chmod 755 liba/usr/local/tce.installed/liba app/usr/local/tce.installed/app && "
	   "for p in base liba libb app; do mksquashfs $p o/$p.tcz -all-root -noappend -quiet "
	   ">/dev/null; done && printf 'liba.tcz\\n\\nlibb\\n' > o/app.tcz.dep && "
	   "echo base > o/liba.tcz.dep && echo base.tcz > o/libb.tcz.dep",
	   d);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tcz ./o app\n", &err);
	if (!v)
		fail_msg("%s", err.msg);
	char *c = tu_read_all(ovl_view_lookup(v, "usr/local/share/conflict"));
	assert_string_equal(c, "base\n");
	free(c);
	c = tu_read_all(ovl_view_lookup(v, "tmp/setup.lst"));
	assert_string_equal(c, "/usr/local/tce.installed/liba\n/usr/local/tce.installed/app\n");
	free(c);
	for (const char *const *p = (const char *const[]){"base", "liba", "libb", "app", NULL}; *p;
	     p++) {
		char path[128];
		snprintf(path, sizeof(path), "usr/local/share/%s", *p);
		assert_non_null(ovl_view_lookup(v, path));
		snprintf(path, sizeof(path), "usr/local/tce.installed/%s", *p);
		assert_non_null(ovl_view_lookup(v, path));
	}
	ovl_view_free(v);
	tu_rmtree(d);
}

static void test_concurrent_reads(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	tu_sh("cd %s && mkdir -p o p/x && seq 1 40000 > p/x/one && seq 50000 90000 > p/x/two && "
	   "mksquashfs p o/p.tcz -all-root -noappend -quiet -b 4096 >/dev/null",
	   d);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tcz ./o p\n", &err);
	assert_non_null(v);
	const struct ovl_node *one = ovl_view_lookup(v, "x/one"),
			      *two = ovl_view_lookup(v, "x/two");
	tu_concurrent_reads(one, two);
	ovl_view_free(v);
	tu_rmtree(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hard_links_devices_xattrs),
	    cmocka_unit_test(test_order_and_first_wins),
	    cmocka_unit_test(test_concurrent_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
