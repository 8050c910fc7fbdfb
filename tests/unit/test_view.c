/* Unit tests of the merged view (overlay/view.c, build.c, sources/tree.c, entries.c):
 * newest wins, directories merge, whiteouts and opaque directories, symlinked parents
 * resolved inside the view, a stable sorted walk, hard links, content reads, symlinks stored
 * as files by the upper layer (and bad stored targets refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "layer.h"
#include "meta.h"
#include "spec.h"
#include "testutil.h"
#include "viewtest.h"
#include "view.h"

static void mkdirs(const char *dir, const char *rel)
{
	char *p = tu_path(dir, rel);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

struct walk_rec {
	char buf[4096];
};

static int collect(const struct ovl_node *n, const char *path, void *arg)
{
	struct walk_rec *w = arg;
	(void)n;
	strcat(w->buf, "/");
	strcat(w->buf, path);
	strcat(w->buf, "\n");
	return 0;
}

static void test_newest_wins_and_dirs_merge(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "a");
	mkdirs(d, "a/etc");
	mkdirs(d, "b");
	mkdirs(d, "b/etc");
	free(tu_write(d, "a/etc/hostname", "lower\n"));
	free(tu_write(d, "a/etc/passwd", "root:x:0:0::/root:/bin/sh\n"));
	free(tu_write(d, "b/etc/hostname", "upper\n"));
	free(tu_write(d, "init.sh", "#!/bin/sh\n"));
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d,
				   "tree a\n"
				   "tree b\n"
				   "file /etc/motd init.sh 0644 0 0\n",
				   &err);
	assert_non_null(v);
	struct ovl_node *h = ovl_view_lookup(v, "etc/hostname");
	assert_non_null(h);
	char *c = tu_read_all(h);
	assert_string_equal(c, "upper\n");
	free(c);
	assert_non_null(ovl_view_lookup(v, "etc/passwd"));
	size_t nl;
	struct ovl_layer *const *layers = ovl_view_layers(v, &nl);
	assert_int_equal(nl, 3);
	assert_ptr_equal(h->layer, layers[1]);
	assert_ptr_equal(ovl_view_lookup(v, "etc/passwd")->layer, layers[0]);
	assert_ptr_equal(ovl_view_lookup(v, "etc/motd")->layer, layers[2]);
	/* tree layers squash owners to root by default */
	assert_int_equal(h->attr.uid, 0);
	struct walk_rec w = {""};
	ovl_view_walk(v, collect, &w);
	assert_string_equal(w.buf, "/\n/etc\n/etc/hostname\n/etc/motd\n/etc/passwd\n");
	ovl_view_free(v);
	tu_rmtree(d);
}

static void test_replace_dir_by_file_drops_children(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "a");
	mkdirs(d, "a/x");
	free(tu_write(d, "a/x/child", "c"));
	free(tu_write(d, "f", "file"));
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tree a\nslink /x /target 0777 0 0\n", &err);
	assert_non_null(v);
	struct ovl_node *x = ovl_view_lookup(v, "x");
	assert_true(S_ISLNK(x->attr.mode));
	assert_string_equal(x->link_target, "/target");
	assert_int_equal(x->attr.size, 7);
	assert_null(ovl_view_lookup(v, "x/child"));
	assert_int_equal(ovl_view_count(v), 2);
	ovl_view_free(v);
	tu_rmtree(d);
}

static void test_whiteout_and_opaque(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "low");
	mkdirs(d, "low/etc");
	mkdirs(d, "low/opt");
	free(tu_write(d, "low/etc/gone", "x"));
	free(tu_write(d, "low/etc/kept", "x"));
	free(tu_write(d, "low/opt/old1", "x"));
	free(tu_write(d, "low/opt/old2", "x"));
	mkdirs(d, "up");
	mkdirs(d, "up/etc");
	mkdirs(d, "up/opt");
	free(tu_write(d, "up/etc/.wh.gone", ""));
	free(tu_write(d, "up/opt/.wh..wh..opq", ""));
	free(tu_write(d, "up/opt/new", "n"));
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tree low\ntree up\n", &err);
	assert_non_null(v);
	assert_null(ovl_view_lookup(v, "etc/gone"));
	assert_null(ovl_view_lookup(v, "etc/.wh.gone"));
	assert_non_null(ovl_view_lookup(v, "etc/kept"));
	assert_null(ovl_view_lookup(v, "opt/old1"));
	assert_null(ovl_view_lookup(v, "opt/old2"));
	assert_null(ovl_view_lookup(v, "opt/.wh..wh..opq"));
	assert_non_null(ovl_view_lookup(v, "opt/new"));
	assert_true(ovl_view_lookup(v, "opt")->is_opaque);
	ovl_view_free(v);
	tu_rmtree(d);
}

static void test_symlinked_parent_resolves_inside_view(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	free(tu_write(d, "libc", "libc"));
	struct rf_err err = {0};
	/* lib -> usr/lib (merged /usr); an escaping link stays inside the root */
	struct ovl_view *v = tu_build(d,
				   "dir /usr 0755 0 0\n"
				   "dir /usr/lib 0755 0 0\n"
				   "slink /lib usr/lib 0777 0 0\n"
				   "slink /esc ../../../../tmp 0777 0 0\n"
				   "slink /abs /usr 0777 0 0\n"
				   "file /lib/libc.so.6 libc 0755 0 0\n"
				   "file /esc/x libc 0644 0 0\n"
				   "file /abs/y libc 0644 0 0\n",
				   &err);
	assert_non_null(v);
	assert_true(S_ISLNK(ovl_view_lookup(v, "lib")->attr.mode));
	assert_non_null(ovl_view_lookup(v, "usr/lib/libc.so.6"));
	/* ../../../../tmp from the root is /tmp of the guest, never the host's */
	assert_non_null(ovl_view_lookup(v, "tmp/x"));
	assert_non_null(ovl_view_lookup(v, "usr/y"));
	struct ovl_node *r = ovl_view_resolve(v, "lib/libc.so.6", true);
	assert_ptr_equal(r, ovl_view_lookup(v, "usr/lib/libc.so.6"));
	ovl_view_free(v);
	tu_rmtree(d);
}

static void test_symlink_loop_is_an_error(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	free(tu_write(d, "f", "f"));
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d,
				   "slink /a b 0777 0 0\n"
				   "slink /b a 0777 0 0\n"
				   "file /a/x f 0644 0 0\n",
				   &err);
	assert_null(v);
	assert_int_equal(err.code, ELOOP);
	assert_string_equal(err.msg,
			    "t.spec:3: /a/x: cannot place it: too many levels of symbolic links");
	tu_rmtree(d);
}

static void test_hard_links_and_inodes(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "t");
	free(tu_write(d, "t/one", "same content"));
	char *a = tu_path(d, "t/one"), *b = tu_path(d, "t/two");
	assert_int_equal(link(a, b), 0);
	free(tu_write(d, "t/other", "o"));
	free(tu_write(d, "src", "x"));
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tree t\nfile /h1 src 0644 0 0 /h2 /h3\n", &err);
	assert_non_null(v);
	struct ovl_node *one = ovl_view_lookup(v, "one"), *two = ovl_view_lookup(v, "two");
	assert_int_equal(one->ino, two->ino);
	assert_int_equal(one->nlink, 2);
	assert_int_not_equal(ovl_view_lookup(v, "other")->ino, one->ino);
	assert_int_equal(ovl_view_lookup(v, "other")->nlink, 1);
	assert_int_equal(ovl_view_lookup(v, "h3")->nlink, 3);
	assert_int_equal(ovl_view_lookup(v, "h1")->ino, ovl_view_lookup(v, "h3")->ino);
	/* the root directory: 2 + no subdirectories */
	assert_int_equal(ovl_view_root(v)->nlink, 2);
	free(a);
	free(b);
	ovl_view_free(v);
	tu_rmtree(d);
}

static void test_entries_attributes(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	free(tu_write(d, "init", "#!/bin/sh\necho hi\n"));
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d,
				   "nod /dev/console 0600 0 5 c 5 1\n"
				   "nod /dev/vda 0660 0 6 b 254 0\n"
				   "pipe /run/p 0620 1 2\n"
				   "sock /run/s 0600 0 0\n"
				   "file /init init 04755 0 0\n",
				   &err);
	assert_non_null(v);
	struct ovl_node *c = ovl_view_lookup(v, "dev/console");
	assert_int_equal(c->attr.mode, S_IFCHR | 0600);
	assert_int_equal(c->attr.gid, 5);
	assert_int_equal(c->attr.rdev_major, 5);
	assert_int_equal(c->attr.rdev_minor, 1);
	assert_int_equal(ovl_view_lookup(v, "dev/vda")->attr.mode, S_IFBLK | 0660);
	assert_int_equal(ovl_view_lookup(v, "run/p")->attr.mode, S_IFIFO | 0620);
	assert_int_equal(ovl_view_lookup(v, "run/s")->attr.mode, S_IFSOCK | 0600);
	struct ovl_node *i = ovl_view_lookup(v, "init");
	assert_int_equal(i->attr.mode, S_IFREG | 04755);
	char *txt = tu_read_all(i);
	assert_string_equal(txt, "#!/bin/sh\necho hi\n");
	free(txt);
	/* implied parent directories */
	struct ovl_node *run = ovl_view_lookup(v, "run");
	assert_int_equal(run->attr.mode, S_IFDIR | 0755);
	ovl_view_free(v);
	tu_rmtree(d);
}

static void test_missing_host_file_names_line(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "dir /x 0755 0 0\nfile /init /nonexistent/init 0755 0 0\n",
				   &err);
	assert_null(v);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg,
			    "t.spec:2: /nonexistent/init: No such file or directory");
	v = tu_build(d, "tree ./no-such-dir\n", &err);
	assert_null(v);
	tu_rmtree(d);
}

static void test_control_dir_name_is_reserved(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	char *top = tu_path(d, "t"), *sub = tu_path(d, "t/.rootfs-fuse");
	assert_int_equal(mkdir(top, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "dir /.rootfs-fuse/x 0755 0 0\n", &err);
	assert_null(v);
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "t.spec:1: /.rootfs-fuse/x: the name /.rootfs-fuse is reserved"));
	rf_err_clear(&err);
	v = tu_build(d, "tree ./t\n", &err);
	assert_null(v);
	assert_non_null(strstr(err.msg, "reserved for the mount's control directory"));
	/* the same name below the root is an ordinary name */
	rf_err_clear(&err);
	v = tu_build(d, "dir /etc/.rootfs-fuse 0755 0 0\n", &err);
	assert_non_null(v);
	ovl_view_free(v);
	free(top);
	free(sub);
	tu_rmtree(d);
}

static void test_tree_override_stat_and_xattrs(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "t");
	char *dev = tu_write(d, "t/console", "");
	char *f = tu_write(d, "t/ping", "bin");
	const char *ov = "0:0:020600:5:1";
	if (setxattr(dev, META_XATTR_OVERRIDE, ov, strlen(ov), 0)) {
		/* a filesystem without user xattrs (tmpfs before 6.6): nothing to test here */
		free(dev);
		free(f);
		tu_rmtree(d);
		skip();
	}
	const char *cap = "\x01\x00\x00\x02";
	assert_int_equal(setxattr(f, META_XATTR_PREFIX "security.capability", cap, 4, 0), 0);
	assert_int_equal(setxattr(f, "user.comment", "hi", 2, 0), 0);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tree t\n", &err);
	assert_non_null(v);
	struct ovl_node *c = ovl_view_lookup(v, "console");
	assert_int_equal(c->attr.mode, S_IFCHR | 0600);
	assert_int_equal(c->attr.rdev_major, 5);
	assert_int_equal(c->attr.rdev_minor, 1);
	struct ovl_node *p = ovl_view_lookup(v, "ping");
	assert_int_equal(p->n_xattrs, 2);
	int seen_cap = 0, seen_user = 0;
	for (size_t i = 0; i < p->n_xattrs; i++) {
		if (!strcmp(p->xattrs[i].name, "security.capability")) {
			seen_cap = 1;
			assert_int_equal(p->xattrs[i].size, 4);
			assert_memory_equal(p->xattrs[i].value, cap, 4);
		}
		seen_user |= !strcmp(p->xattrs[i].name, "user.comment");
	}
	assert_true(seen_cap && seen_user);
	ovl_view_free(v);
	free(dev);
	free(f);
	tu_rmtree(d);
}

static void test_tree_symlink_is_not_followed(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "t");
	char *l = tu_path(d, "t/passwd");
	assert_int_equal(symlink("/etc/passwd", l), 0);
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tree t\n", &err);
	assert_non_null(v);
	struct ovl_node *n = ovl_view_lookup(v, "passwd");
	assert_true(S_ISLNK(n->attr.mode));
	assert_string_equal(n->link_target, "/etc/passwd");
	assert_int_equal(n->src.kind, OVL_SRC_NONE);
	/* resolving it inside the view finds nothing: the host's /etc is not the guest's */
	assert_null(ovl_view_resolve(v, "passwd", true));
	free(l);
	ovl_view_free(v);
	tu_rmtree(d);
}

/* A stored symlink (meta.h): file t/NAME holding len bytes of content, override value ov.
 * Returns false when the filesystem keeps no user xattrs. */
static bool put_stored_link(const char *d, const char *name, const char *content, size_t len,
			    const char *ov)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "t/%s", name);
	char *p = tu_path(d, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	bool has_xattrs = !setxattr(p, META_XATTR_OVERRIDE, ov, strlen(ov), 0);
	free(p);
	return has_xattrs;
}

static void test_tree_stored_symlink(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "t");
	mkdirs(d, "t/a");
	free(tu_write(d, "t/a/b", "x"));
	if (!put_stored_link(d, "l", "a/b", 3, "1000:1000:0120777")) {
		tu_rmtree(d);
		skip();
	}
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tree t\n", &err);
	assert_non_null(v);
	struct ovl_node *n = ovl_view_lookup(v, "l");
	assert_non_null(n);
	assert_int_equal(n->attr.mode, S_IFLNK | 0777);
	assert_int_equal(n->attr.uid, 1000);
	assert_int_equal(n->attr.gid, 1000);
	assert_int_equal(n->attr.size, 3);
	assert_string_equal(n->link_target, "a/b");
	assert_int_equal(n->src.kind, OVL_SRC_NONE);
	assert_int_equal(n->hardlink_key, 0);
	/* it resolves inside the view like any symlink */
	assert_ptr_equal(ovl_view_resolve(v, "l", true), ovl_view_lookup(v, "a/b"));
	ovl_view_free(v);
	tu_rmtree(d);
}

/* Each bad stored target fails the build with one message naming the file. */
static void expect_bad_stored_link(const char *content, size_t len, const char *why)
{
	char *d = tu_mkdtemp();
	mkdirs(d, "t");
	if (!put_stored_link(d, "bad", content, len, "1000:1000:0120777")) {
		tu_rmtree(d);
		skip();
	}
	struct rf_err err = {0};
	assert_null(tu_build(d, "tree t\n", &err));
	char *p = tu_path(d, "t/bad");
	char want[PATH_MAX + 128];
	snprintf(want, sizeof(want), "%s: %s", p, why);
	assert_non_null(strstr(err.msg, want));
	assert_null(strchr(err.msg, '\n'));
	free(p);
	tu_rmtree(d);
}

static void test_tree_stored_symlink_bad_target(void **state)
{
	(void)state;
	char *big = malloc(PATH_MAX);
	memset(big, 'a', PATH_MAX);
	expect_bad_stored_link(big, PATH_MAX, "stored symlink target longer than 4095 bytes");
	/* PATH_MAX-1 bytes is the longest target there is: accepted */
	char *d = tu_mkdtemp();
	mkdirs(d, "t");
	assert_true(put_stored_link(d, "max", big, PATH_MAX - 1, "0:0:0120777"));
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tree t\n", &err);
	assert_non_null(v);
	assert_int_equal(ovl_view_lookup(v, "max")->attr.size, PATH_MAX - 1);
	ovl_view_free(v);
	tu_rmtree(d);
	free(big);
	expect_bad_stored_link("a\0b", 3, "stored symlink target holds a NUL byte");
	expect_bad_stored_link("", 0, "stored symlink target is empty");
}

/* The mount's control directory stacks STATE/upper on a copy of its kept lower view: the copy
 * gets the upper layer's whiteouts and files, the lower view stays as it was, and the copy
 * outlives nothing it borrows (freed first, as the mount does). */
static void test_clone_then_add_upper(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "low");
	mkdirs(d, "low/etc");
	free(tu_write(d, "low/etc/gone", "x"));
	free(tu_write(d, "low/etc/kept", "old"));
	mkdirs(d, "up");
	mkdirs(d, "up/etc");
	free(tu_write(d, "up/etc/.wh.gone", ""));
	free(tu_write(d, "up/etc/kept", "new!"));
	struct rf_err err = {0};
	struct ovl_view *lower = tu_build(d, "tree low\n", &err);
	assert_non_null(lower);
	size_t n_lower = ovl_view_count(lower);
	for (int round = 0; round < 2; round++) {
		struct ovl_view *v = NULL;
		assert_int_equal(ovl_view_clone(lower, &v), 0);
		char *up = tu_path(d, "up");
		assert_int_equal(ovl_view_add_upper(v, up, &err), 0);
		free(up);
		assert_null(ovl_view_lookup(v, "etc/gone"));
		struct ovl_node *k = ovl_view_lookup(v, "etc/kept");
		assert_non_null(k);
		char *c = tu_read_all(k);
		assert_string_equal(c, "new!");
		free(c);
		ovl_view_free(v);
	}
	assert_int_equal(ovl_view_count(lower), n_lower);
	assert_non_null(ovl_view_lookup(lower, "etc/gone"));
	char *c = tu_read_all(ovl_view_lookup(lower, "etc/kept"));
	assert_string_equal(c, "old");
	free(c);
	/* a missing upper directory adds nothing */
	struct ovl_view *v = NULL;
	assert_int_equal(ovl_view_clone(lower, &v), 0);
	char *none = tu_path(d, "none");
	assert_int_equal(ovl_view_add_upper(v, none, &err), 0);
	free(none);
	assert_int_equal(ovl_view_count(v), n_lower);
	ovl_view_free(v);
	ovl_view_free(lower);
	tu_rmtree(d);
}

/* The mount notices a host file under its lower view rebuilt in place (the digest changes),
 * and nothing else makes it change. */
static void test_host_digest_follows_host_files(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	mkdirs(d, "low");
	free(tu_write(d, "low/mod.ko", "module v1"));
	free(tu_write(d, "low/other", "x"));
	struct rf_err err = {0};
	struct ovl_view *v = tu_build(d, "tree low\n", &err);
	assert_non_null(v);
	uint64_t d0 = ovl_view_host_digest(v);
	assert_int_equal(ovl_view_host_digest(v), d0);
	usleep(20000);
	free(tu_write(d, "low/mod.ko", "module v2, rebuilt"));
	uint64_t d1 = ovl_view_host_digest(v);
	assert_true(d1 != d0);
	assert_int_equal(ovl_view_host_digest(v), d1);
	char *p = tu_path(d, "low/other");
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_true(ovl_view_host_digest(v) != d1);
	ovl_view_free(v);
	tu_rmtree(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newest_wins_and_dirs_merge),
		cmocka_unit_test(test_replace_dir_by_file_drops_children),
		cmocka_unit_test(test_whiteout_and_opaque),
		cmocka_unit_test(test_symlinked_parent_resolves_inside_view),
		cmocka_unit_test(test_symlink_loop_is_an_error),
		cmocka_unit_test(test_hard_links_and_inodes),
		cmocka_unit_test(test_entries_attributes),
		cmocka_unit_test(test_missing_host_file_names_line),
		cmocka_unit_test(test_control_dir_name_is_reserved),
		cmocka_unit_test(test_tree_override_stat_and_xattrs),
		cmocka_unit_test(test_tree_symlink_is_not_followed),
		cmocka_unit_test(test_tree_stored_symlink),
		cmocka_unit_test(test_tree_stored_symlink_bad_target),
		cmocka_unit_test(test_clone_then_add_upper),
		cmocka_unit_test(test_host_digest_follows_host_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
