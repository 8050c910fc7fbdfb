/* Unit tests of exporters/pieces.c: an export kept as pieces of open files (the mount's
 * control directory serves a cpio export from the segment cache's entries this way). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pieces.h"
#include "testutil.h"

static int open_file(const char *dir, const char *name, const char *text)
{
	char *p = tu_write(dir, name, text);
	int fd = open(p, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	free(p);
	return fd;
}

static void test_layout_merge_and_find(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	struct exp_pieces p = {0};
	/* output bytes [0,10), an entry's bytes [4,24), output [10,15) then [15,18): merged */
	assert_int_equal(exp_pieces_add(&p, EXP_PIECE_OUTPUT, 0, 10), 0);
	assert_int_equal(exp_pieces_add(&p, open_file(d, "e1", "0123456789abcdefghijklmnop"), 4, 20),
			 0);
	assert_int_equal(exp_pieces_add(&p, EXP_PIECE_OUTPUT, 10, 5), 0);
	assert_int_equal(exp_pieces_add(&p, EXP_PIECE_OUTPUT, 15, 3), 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.n_fds, 1);
	assert_int_equal(p.size, 38);
	assert_true(p.filled);
	assert_int_equal(p.v[1].start, 10);
	assert_int_equal(p.v[2].start, 30);
	assert_int_equal(p.v[2].len, 8);
	assert_int_equal(exp_pieces_find(&p, 0), 0);
	assert_int_equal(exp_pieces_find(&p, 9), 0);
	assert_int_equal(exp_pieces_find(&p, 10), 1);
	assert_int_equal(exp_pieces_find(&p, 29), 1);
	assert_int_equal(exp_pieces_find(&p, 30), 2);
	assert_int_equal(exp_pieces_find(&p, 37), 2);
	/* output pieces that do not continue each other stay apart */
	assert_int_equal(exp_pieces_add(&p, EXP_PIECE_OUTPUT, 100, 2), 0);
	assert_int_equal(p.n, 4);
	exp_pieces_free(&p);
	assert_int_equal(p.n, 0);
	assert_null(p.v);
	tu_rmtree(d);
}

/* A piece's file written to (same size, even with its mtime put back) or truncated after it
 * was added is stale: the control directory exports again instead of serving it. */
static void test_check_finds_changed_files(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	struct exp_pieces p = {0};
	int a = open_file(d, "a", "aaaaaaaa");
	int b = open_file(d, "b", "bbbbbbbb");
	assert_int_equal(exp_pieces_add(&p, a, 0, 8), 0);
	assert_int_equal(exp_pieces_add(&p, b, 0, 8), 0);
	assert_int_equal(exp_pieces_check(&p, 0, p.n), 0);
	usleep(20000); /* a ctime tick apart on coarse-clock filesystems */
	struct stat st;
	assert_int_equal(fstat(b, &st), 0);
	assert_int_equal(pwrite(b, "X", 1, 3), 1);
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	assert_int_equal(futimens(b, times), 0);
	assert_int_equal(exp_pieces_check(&p, 0, 1), 0);
	assert_int_equal(exp_pieces_check(&p, 1, 2), -ESTALE);
	assert_int_equal(exp_pieces_check(&p, 0, p.n), -ESTALE);
	assert_int_equal(ftruncate(a, 4), 0);
	assert_int_equal(exp_pieces_check(&p, 0, 1), -ESTALE);
	exp_pieces_free(&p);
	tu_rmtree(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_merge_and_find),
		cmocka_unit_test(test_check_finds_changed_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
