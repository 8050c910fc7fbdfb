/* Unit tests of exporters/hashmemo.c: content hashes remembered across exports, so a re-export
 * does not read an unchanged file again (issue 6), for host files and for files a layer reads
 * from its own sources (tcz, archive, image: ovl_layer.content_id). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashmemo.h"
#include "layer.h"
#include "testutil.h"

static int n_reads;

/* A layer kind whose file with cookie C holds "content C" (10 bytes), counting its reads. */
static ssize_t fake_read(struct ovl_layer *layer, uint64_t cookie, void *buf, size_t len,
			 uint64_t off, struct rf_err *err)
{
	(void)layer;
	(void)err;
	char s[16];
	snprintf(s, sizeof(s), "content %llu", (unsigned long long)cookie % 10);
	n_reads++;
	size_t n = strlen(s) > off ? strlen(s) - off : 0;
	n = n < len ? n : len;
	memcpy(buf, s + off, n);
	return (ssize_t)n;
}

static const struct layer_ops fake_ops = {.kind = "fake", .usage = "FILE", .min_args = 1,
					   .max_args = 1, .read = fake_read};

static struct ovl_node layer_file(struct ovl_layer *l, uint64_t cookie)
{
	struct ovl_node n = {.name = "f", .layer = l};
	n.attr.mode = S_IFREG | 0644;
	n.attr.size = 9;
	n.src.kind = OVL_SRC_LAYER;
	n.src.cookie = cookie;
	return n;
}

/* One export: load the memo file, hash the node, save. Returns the reads it took. */
static int export_once(const char *memo_path, const struct ovl_node *n, uint8_t out[16])
{
	struct hash_memo *m = NULL;
	struct rf_err err = {0};
	assert_int_equal(memo_load(memo_path, 16, &m), 0);
	int before = n_reads;
	assert_int_equal(memo_content_hash(m, n, out, &err), 0);
	assert_int_equal(memo_save(m), 0);
	memo_free(m);
	return n_reads - before;
}

static void test_layer_files_are_remembered_by_their_sources(void **state)
{
	(void)state;
	char *d = tu_mkdtemp();
	char *src = tu_write(d, "pkg.tcz", "squashfs bytes");
	char *memo = tu_path(d, "hashes");
	char *const argv[] = {src};
	struct ovl_layer *l = NULL;
	assert_int_equal(layer_new(&fake_ops, argv, 1, "t.spec:1", &l), 0);
	struct stat st;
	assert_int_equal(stat(src, &st), 0);
	layer_note_source(l, &st);
	assert_true(l->content_id != 0);
	struct ovl_node n = layer_file(l, 3);
	uint8_t h1[16], h2[16];
	assert_int_equal(export_once(memo, &n, h1), 1);
	/* the next run (a new memo from the file) keys it without reading */
	assert_int_equal(export_once(memo, &n, h2), 0);
	assert_memory_equal(h1, h2, 16);
	/* another file of the same layer is its own entry */
	struct ovl_node other = layer_file(l, 4);
	assert_int_equal(export_once(memo, &other, h2), 1);
	assert_memory_not_equal(h1, h2, 16);

	/* a source changed since (its stamp differs): a new identity, read again */
	struct ovl_layer *l2 = NULL;
	assert_int_equal(layer_new(&fake_ops, argv, 1, "t.spec:1", &l2), 0);
	usleep(20000);
	free(tu_write(d, "pkg.tcz", "other squashfs bytes"));
	assert_int_equal(stat(src, &st), 0);
	layer_note_source(l2, &st);
	assert_true(l2->content_id != 0 && l2->content_id != l->content_id);
	struct ovl_node n2 = layer_file(l2, 3);
	assert_int_equal(export_once(memo, &n2, h2), 1);

	/* a layer with a source it could not stat has no identity: always read */
	struct ovl_layer *l3 = NULL;
	assert_int_equal(layer_new(&fake_ops, argv, 1, "t.spec:1", &l3), 0);
	layer_note_source(l3, &st);
	layer_note_source(l3, NULL);
	layer_note_source(l3, &st);
	assert_int_equal(l3->content_id, 0);
	struct ovl_node n3 = layer_file(l3, 3);
	assert_int_equal(export_once(memo, &n3, h2), 1);
	assert_int_equal(export_once(memo, &n3, h2), 1);
	assert_memory_equal(h1, h2, 16);

	layer_free(l);
	layer_free(l2);
	layer_free(l3);
	free(memo);
	free(src);
	tu_rmtree(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layer_files_are_remembered_by_their_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
