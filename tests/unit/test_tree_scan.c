/* The tree layer's read-ahead (overlay/sources/tree_scan.h): its listings come in exactly the
 * order of a depth-first walk that lists each directory itself, whatever the shape of the
 * tree, and it never descends into symlinks, whiteout-named directories or past max_depth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "path.h"
#include "testutil.h"
#include "tree_scan.h"

/* Compare two listings entry by entry. */
static void same_listing(const struct scan_dir *a, const struct scan_dir *b)
{
	assert_int_equal(a->err, b->err);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->e[i].name, b->e[i].name);
		assert_int_equal(a->e[i].stat_err, b->e[i].stat_err);
		assert_int_equal(a->e[i].st.st_ino, b->e[i].st.st_ino);
		assert_int_equal(a->e[i].st.st_mode, b->e[i].st.st_mode);
		assert_int_equal(a->e[i].xattr_len > 0, b->e[i].xattr_len > 0);
		if (i)
			assert_true(strcmp(a->e[i - 1].name, a->e[i].name) < 0);
	}
}

/* The reference walk: list host synchronously, take the next read-ahead listing, compare,
 * recurse as the tree layer does. Returns the number of directories visited. */
static size_t walk(struct tree_scan *s, const char *host, int depth, int max_depth)
{
	struct scan_dir *ref = tree_scan_list(host);
	struct scan_dir *got = tree_scan_next(s);
	assert_non_null(ref);
	assert_non_null(got);
	same_listing(ref, got);
	size_t visited = 1;
	for (size_t i = 0; i < ref->n; i++) {
		const struct scan_entry *e = &ref->e[i];
		if (e->stat_err || !S_ISDIR(e->st.st_mode) || !tree_scan_is_entry(e->name) ||
		    depth + 1 > max_depth)
			continue;
		char *p = path_join(host, e->name);
		visited += walk(s, p, depth + 1, max_depth);
		free(p);
	}
	tree_scan_dir_free(ref);
	tree_scan_dir_free(got);
	return visited;
}

/* A tree of more directories than the read-ahead queue holds, with nesting, files, a
 * whiteout-named directory, a symlink to a directory and a user xattr. */
static char *make_tree(size_t *n_dirs)
{
	char *root = tu_mkdtemp();
	assert_non_null(root);
	char p[PATH_MAX];
	*n_dirs = 1;
	for (int a = 0; a < 30; a++) {
		snprintf(p, sizeof(p), "%s/d%02d", root, a);
		assert_int_equal(mkdir(p, 0755), 0);
		(*n_dirs)++;
		for (int b = 0; b < 10; b++) {
			snprintf(p, sizeof(p), "%s/d%02d/s%d", root, a, b);
			assert_int_equal(mkdir(p, 0755), 0);
			(*n_dirs)++;
			snprintf(p, sizeof(p), "%s/d%02d/s%d/f", root, a, b);
			free(tu_write(root, p + strlen(root) + 1, "x"));
		}
	}
	snprintf(p, sizeof(p), "%s/d00/s0/deep", root);
	assert_int_equal(mkdir(p, 0755), 0);
	(*n_dirs)++;
	snprintf(p, sizeof(p), "%s/.wh.gone", root); /* a whiteout: not descended */
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/.wh.gone/inner", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/link", root); /* never followed */
	assert_int_equal(symlink("d01", p), 0);
	snprintf(p, sizeof(p), "%s/d02/s1/f", root);
	if (setxattr(p, "user.t", "v", 1, 0) && errno != ENOTSUP)
		fail_msg("setxattr: %s", strerror(errno));
	return root;
}

static void test_order_matches_walk(void **state)
{
	(void)state;
	size_t n_dirs;
	char *root = make_tree(&n_dirs);
	struct tree_scan *s = NULL;
	assert_int_equal(tree_scan_start(root, 4096, &s), 0);
	assert_int_equal(walk(s, root, 0, 4096), n_dirs);
	assert_null(tree_scan_next(s)); /* nothing more: the symlink and .wh.gone were skipped */
	tree_scan_stop(s);
	tu_rmtree(root);
}

static void test_max_depth_and_early_stop(void **state)
{
	(void)state;
	size_t n_dirs;
	char *root = make_tree(&n_dirs);
	struct tree_scan *s = NULL;
	/* depth 1: the root and its 30 children, none of their subdirectories */
	assert_int_equal(tree_scan_start(root, 1, &s), 0);
	assert_int_equal(walk(s, root, 0, 1), 31);
	assert_null(tree_scan_next(s));
	tree_scan_stop(s);
	/* a walk that stops after one listing frees what was read ahead (ASan checks) */
	assert_int_equal(tree_scan_start(root, 4096, &s), 0);
	tree_scan_dir_free(tree_scan_next(s));
	tree_scan_stop(s);
	tu_rmtree(root);
}

static void test_errors_are_listed(void **state)
{
	(void)state;
	char *root = tu_mkdtemp();
	struct tree_scan *s = NULL;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/missing", root);
	assert_int_equal(tree_scan_start(p, 4096, &s), 0);
	struct scan_dir *d = tree_scan_next(s);
	assert_non_null(d);
	assert_int_equal(d->err, ENOENT);
	tree_scan_dir_free(d);
	tree_scan_stop(s);
	/* a symlink as the root is not followed either */
	snprintf(p, sizeof(p), "%s/l", root);
	assert_int_equal(symlink("/", p), 0);
	d = tree_scan_list(p);
	assert_non_null(d);
	assert_int_equal(d->err, ENOTDIR); /* O_DIRECTORY | O_NOFOLLOW */
	tree_scan_dir_free(d);
	tu_rmtree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_matches_walk),
	    cmocka_unit_test(test_max_depth_and_early_stop),
	    cmocka_unit_test(test_errors_are_listed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
