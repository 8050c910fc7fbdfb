/* Unit tests of the upper layer (overlay/upper.c): copy-up keeps content, holes, metadata and
 * xattrs and leaves the parent's times alone; created device nodes, whiteouts and opaque
 * directories read back through the tree layer (ovl_view_build_upper) as the guest saw them;
 * work/ is emptied at open; xattr names are mapped; symlinks with an owner are stored as files
 * holding their target (copy-up, creation, conversion in place) and read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "layer.h"
#include "meta.h"
#include "path.h"
#include "spec.h"
#include "testutil.h"
#include "upper.h"
#include "view.h"

static struct ovl_view *build(const char *dir, const char *spec_text, const char *upper)
{
	struct spec *s = NULL;
	struct ovl_view *v = NULL;
	struct rf_err err = {0};
	assert_int_equal(spec_parse_buffer(spec_text, strlen(spec_text), "t.spec", dir, &s, &err),
			 0);
	int r = ovl_view_build_upper(s, upper, &v, &err);
	if (r)
		fail_msg("build: %s", err.msg);
	spec_free(s);
	return v;
}

struct fixture {
	char *dir, *state, *upper;
	struct ovl_view *lower;
	struct ovl_upper *u;
};

static void setup(struct fixture *f)
{
	f->dir = tu_mkdtemp();
	char *t = tu_path(f->dir, "t");
	assert_int_equal(mkdir(t, 0755), 0);
	char *etc = tu_path(t, "etc");
	assert_int_equal(mkdir(etc, 0755), 0);
	free(etc);
	char *p = tu_write(t, "etc/motd", "hello\n");
	assert_int_equal(setxattr(p, META_XATTR_PREFIX "security.capability", "CAP", 3, 0), 0);
	struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
	p = tu_path(t, "sparse");
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 8 << 20), 1);
	close(fd);
	free(p);
	free(t);
	f->lower = build(f->dir, "tree ./t\nnod /dev/console 0600 0 5 c 5 1\n", NULL);
	f->state = tu_path(f->dir, "state");
	f->upper = tu_path(f->state, "upper");
	struct rf_err err = {0};
	assert_int_equal(upper_open(f->state, &f->u, &err), 0);
}

static void teardown(struct fixture *f)
{
	upper_close(f->u);
	ovl_view_free(f->lower);
	free(f->state);
	free(f->upper);
	tu_rmtree(f->dir);
}

/* Copy lower path "DIR/NAME" up (DIR copied up first, without data). */
static int copy_up_path(struct fixture *f, const char *dir, const char *path, bool has_data)
{
	int dfd = upper_root_fd(f->u), own = -1;
	struct rf_err err = {0};
	if (*dir) {
		struct stat st;
		if (fstatat(dfd, dir, &st, AT_SYMLINK_NOFOLLOW))
			assert_int_equal(upper_copy_up(f->u, dfd, dir,
						       ovl_view_lookup(f->lower, dir), false, false,
						       NULL, &err),
					 0);
		own = dfd = openat(upper_root_fd(f->u), dir, O_PATH | O_DIRECTORY);
		assert_true(dfd >= 0);
	}
	int r = upper_copy_up(f->u, dfd, path_basename(path), ovl_view_lookup(f->lower, path),
			      has_data, false, NULL, &err);
	if (own >= 0)
		close(own);
	return r;
}

static void test_copy_up_keeps_everything(void **state)
{
	(void)state;
	struct fixture f;
	setup(&f);
	struct stat before, after;
	assert_int_equal(copy_up_path(&f, "etc", "etc/motd", true), 0);
	assert_int_equal(copy_up_path(&f, "", "sparse", true), 0);
	char *etc = tu_path(f.upper, "etc");
	assert_int_equal(stat(etc, &before), 0);
	assert_int_equal(copy_up_path(&f, "etc", "etc/motd", true), -EEXIST);
	assert_int_equal(stat(etc, &after), 0);
	/* the parent's times are not the guest's business */
	assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	char *sp = tu_path(f.upper, "sparse");
	struct stat ss;
	assert_int_equal(stat(sp, &ss), 0);
	assert_int_equal(ss.st_size, (8 << 20) + 1);
	assert_true(ss.st_blocks < 1024); /* the hole stayed a hole */
	/* the tree layer reads it back as the guest saw it */
	struct ovl_view *v = build(f.dir, "tree ./t\nnod /dev/console 0600 0 5 c 5 1\n", f.upper);
	const struct ovl_node *n = ovl_view_lookup(v, "etc/motd");
	assert_non_null(n);
	assert_true(strstr(n->layer->label, "upper") != NULL);
	assert_int_equal(n->attr.mode, S_IFREG | 0644);
	assert_int_equal(n->attr.mtime_sec, 1000000000);
	assert_int_equal(n->n_xattrs, 1);
	assert_string_equal(n->xattrs[0].name, "security.capability");
	char buf[16] = {0};
	struct rf_err err = {0};
	assert_int_equal(ovl_node_pread(n, buf, sizeof(buf), 0, &err), 6);
	assert_string_equal(buf, "hello\n");
	ovl_view_free(v);
	free(sp);
	free(etc);
	teardown(&f);
}

static void test_create_whiteout_opaque(void **state)
{
	(void)state;
	struct fixture f;
	setup(&f);
	int root = upper_root_fd(f.u), fd = -1;
	struct rf_err err = {0};
	struct ovl_attr dev = {
	    .mode = S_IFCHR | 0620, .uid = 0, .gid = 5, .rdev_major = 4, .rdev_minor = 1};
	assert_int_equal(upper_copy_up(f.u, root, "dev", ovl_view_lookup(f.lower, "dev"), false,
				       false, &fd, &err),
			 0);
	int dev_fd = fd;
	assert_int_equal(upper_create(f.u, dev_fd, "tty1", &dev, false, &fd), 0);
	struct upper_stat us;
	assert_int_equal(upper_stat(fd, &us), 0);
	assert_true(us.has_override);
	assert_int_equal(us.st.st_mode, S_IFCHR | 0620);
	assert_int_equal(us.st.st_gid, 5);
	close(fd);
	assert_int_equal(upper_create(f.u, dev_fd, "tty1", &dev, false, &fd), -EEXIST);
	assert_int_equal(upper_put_whiteout(dev_fd, "console"), 0);
	assert_true(upper_has_whiteout(dev_fd, "console"));
	close(dev_fd);
	struct ovl_attr d = {.mode = S_IFDIR | 0700};
	assert_int_equal(upper_create(f.u, root, "etc", &d, true, &fd), 0);
	assert_true(upper_is_opaque(fd));
	close(fd);
	struct ovl_view *v = build(f.dir, "tree ./t\nnod /dev/console 0600 0 5 c 5 1\n", f.upper);
	assert_null(ovl_view_lookup(v, "dev/console"));
	const struct ovl_node *t = ovl_view_lookup(v, "dev/tty1");
	assert_non_null(t);
	assert_int_equal(t->attr.mode, S_IFCHR | 0620);
	assert_int_equal(t->attr.rdev_major, 4);
	const struct ovl_node *e = ovl_view_lookup(v, "etc");
	assert_non_null(e);
	assert_int_equal(e->n_children, 0);
	assert_int_equal(e->attr.mode, S_IFDIR | 0700);
	ovl_view_free(v);
	teardown(&f);
}

static void test_work_emptied_and_xattr_names(void **state)
{
	(void)state;
	struct fixture f;
	setup(&f);
	char *w = tu_path(f.state, "work");
	free(tu_write(w, "cu.7", "left over by a crash"));
	upper_close(f.u);
	struct rf_err err = {0};
	assert_int_equal(upper_open(f.state, &f.u, &err), 0);
	DIR *d = opendir(w);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	assert_int_equal(n, 2);
	int fd = -1;
	struct ovl_attr a = {.mode = S_IFREG | 0644};
	assert_int_equal(upper_create(f.u, upper_root_fd(f.u), "x", &a, false, &fd), 0);
	assert_int_equal(upper_setxattr(fd, "trusted.t", "1", 1, 0), 0);
	assert_int_equal(upper_setxattr(fd, "user.u", "22", 2, 0), 0);
	char v[8];
	assert_int_equal(upper_getxattr(fd, "user.u", v, sizeof(v)), 2);
	char list[256];
	ssize_t ll = upper_listxattr(fd, list, sizeof(list));
	assert_int_equal(ll, (ssize_t)(strlen("trusted.t") + strlen("user.u") + 2));
	assert_int_equal(upper_removexattr(fd, "trusted.t"), 0);
	assert_int_equal(upper_getxattr(fd, "trusted.t", v, sizeof(v)), -ENODATA);
	/* one holder per state directory */
	struct ovl_upper *second = NULL;
	assert_int_equal(upper_open(f.state, &second, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "in use by another mount"));
	assert_true(upper_name_reserved(true, ".rootfs-fuse"));
	assert_false(upper_name_reserved(false, ".rootfs-fuse"));
	assert_true(upper_name_reserved(false, ".wh.x"));
	close(fd);
	free(w);
	teardown(&f);
}

/* Is the upper entry dir/name a regular file (the stored form of a symlink)? */
static bool is_stored(int dir_fd, const char *name)
{
	struct stat st;
	assert_int_equal(fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return S_ISREG(st.st_mode);
}

static void test_symlinks_with_owners(void **state)
{
	(void)state;
	struct fixture f;
	setup(&f);
	const char *spec = "tree ./t\n"
			   "slink /etc/owned ../srv/target 0777 1000 1000\n"
			   "slink /etc/plain /bin/sh 0777 0 0\n";
	ovl_view_free(f.lower);
	f.lower = build(f.dir, spec, NULL);
	/* copy-up: an owned lower symlink is stored as a file, a root-owned one stays a symlink */
	assert_int_equal(copy_up_path(&f, "etc", "etc/owned", true), 0);
	assert_int_equal(copy_up_path(&f, "etc", "etc/plain", true), 0);
	int etc = openat(upper_root_fd(f.u), "etc", O_PATH | O_DIRECTORY);
	assert_true(etc >= 0);
	assert_true(is_stored(etc, "owned"));
	assert_false(is_stored(etc, "plain"));
	int fd = -1;
	char buf[PATH_MAX];
	struct upper_stat us;
	assert_int_equal(upper_open_path(etc, "owned", &fd), 0);
	assert_int_equal(upper_readlink(fd, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "../srv/target");
	assert_int_equal(upper_stat(fd, &us), 0);
	assert_int_equal(us.st.st_mode, S_IFLNK | 0777);
	assert_int_equal(us.st.st_uid, 1000);
	assert_int_equal(us.st.st_size, 13);
	close(fd);
	/* chown of a host symlink: renamed over by its stored form, mtime and parent times kept */
	assert_int_equal(upper_open_path(etc, "plain", &fd), 0);
	struct ovl_attr a = {.mode = S_IFLNK | 0777, .uid = 5, .gid = 6};
	assert_int_equal(upper_set_override(fd, &a), -ENOTSUP);
	struct timespec ts[2] = {{1200000000, 0}, {1200000000, 0}};
	assert_int_equal(utimensat(etc, "plain", ts, AT_SYMLINK_NOFOLLOW), 0);
	struct stat before, after;
	assert_int_equal(fstatat(etc, "", &before, AT_EMPTY_PATH), 0);
	int nfd = -1;
	assert_int_equal(upper_store_symlink(f.u, fd, &a, &nfd), 0);
	assert_int_equal(fstatat(etc, "", &after, AT_EMPTY_PATH), 0);
	assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	assert_true(is_stored(etc, "plain"));
	assert_int_equal(upper_readlink(nfd, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "/bin/sh");
	assert_int_equal(upper_stat(nfd, &us), 0);
	assert_int_equal(us.st.st_uid, 5);
	assert_int_equal(us.st.st_gid, 6);
	assert_int_equal(us.st.st_mtim.tv_sec, 1200000000);
	/* the old descriptor names nothing in the upper layer any more */
	assert_int_equal(upper_store_symlink(f.u, fd, &a, &nfd), -ESTALE);
	close(fd);
	close(nfd);
	/* a new symlink: a host symlink for root, stored for anyone else */
	struct ovl_attr root = {0}, user = {.uid = 1000, .gid = 100};
	assert_int_equal(upper_symlink(f.u, etc, "r", "x", &root, &fd), 0);
	close(fd);
	assert_int_equal(upper_symlink(f.u, etc, "u", "y/z", &user, &fd), 0);
	close(fd);
	assert_int_equal(upper_symlink(f.u, etc, "u", "y/z", &user, &fd), -EEXIST);
	assert_false(is_stored(etc, "r"));
	assert_true(is_stored(etc, "u"));
	close(etc);
	char *w = tu_path(f.state, "work");
	DIR *d = opendir(w);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	assert_int_equal(n, 2); /* nothing left in work/ */
	free(w);
	/* the tree layer reads every one back as the guest saw it */
	struct ovl_view *v = build(f.dir, spec, f.upper);
	const struct ovl_node *o = ovl_view_lookup(v, "etc/owned");
	assert_int_equal(o->attr.mode, S_IFLNK | 0777);
	assert_int_equal(o->attr.uid, 1000);
	assert_string_equal(o->link_target, "../srv/target");
	const struct ovl_node *p = ovl_view_lookup(v, "etc/plain");
	assert_int_equal(p->attr.uid, 5);
	assert_int_equal(p->attr.mtime_sec, 1200000000);
	assert_string_equal(p->link_target, "/bin/sh");
	const struct ovl_node *u = ovl_view_lookup(v, "etc/u");
	assert_int_equal(u->attr.gid, 100);
	assert_string_equal(u->link_target, "y/z");
	assert_int_equal(u->attr.size, 3);
	assert_string_equal(ovl_view_lookup(v, "etc/r")->link_target, "x");
	ovl_view_free(v);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_up_keeps_everything),
	    cmocka_unit_test(test_create_whiteout_opaque),
	    cmocka_unit_test(test_work_emptied_and_xattr_names),
	    cmocka_unit_test(test_symlinks_with_owners),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
