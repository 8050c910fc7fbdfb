/* Unit tests of the cpio exporter's parts (exporters/compress.c, segment.c, segcache.c):
 * compressor round trips in the kernel's formats, content-defined segment cuts that stay put
 * when a file is added, stable inode numbers, hard-link groups, and cache entries that are
 * rejected when corrupt or truncated and evicted least recently used first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress.h"
#include "segcache.h"
#include "segment.h"
#include "testutil.h"

/* Deterministic test data: half text-like (compressible), half pseudo-random. */
static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = i % 4096 < 2048 ? (uint8_t)("lorem ipsum dolor sit amet "[i % 27])
				       : (uint8_t)(seed >> 56);
	}
}

static void round_trip(enum cmp_alg alg, size_t len)
{
	uint8_t *in = malloc(len + 1);
	fill(in, len, len);
	struct exp_buf c = {0}, d = {0};
	assert_int_equal(cmp_compress(alg, -1, in, len, &c), 0);
	size_t one = c.len;
	/* two streams back to back read as the concatenation, as the kernel reads segments */
	assert_int_equal(cmp_compress(alg, -1, in, len / 3, &c), 0);
	assert_int_equal(cmp_decompress(alg, c.data, c.len, &d), 0);
	assert_int_equal(d.len, len + len / 3);
	assert_memory_equal(d.data, in, len);
	assert_memory_equal(d.data + len, in, len / 3);
	if (alg == CMP_XZ) {
		/* stream header: magic FD 37 7A 58 5A 00, flags 00 01 = CRC32 */
		static const uint8_t head[] = {0xfd, '7', 'z', 'X', 'Z', 0, 0, 1};
		assert_memory_equal(c.data, head, sizeof(head));
	}
	if (alg == CMP_LZ4) {
		static const uint8_t magic[] = {0x02, 0x21, 0x4c, 0x18};
		assert_memory_equal(c.data, magic, 4);
		assert_memory_equal(c.data + one, magic, 4);
	}
	if (alg == CMP_GZIP)
		assert_true(c.data[0] == 0x1f && c.data[1] == 0x8b && c.data[one] == 0x1f);
	if (alg != CMP_NONE)
		assert_true(one < len); /* the text half compresses */
	/* the same input gives the same bytes */
	struct exp_buf again = {0};
	assert_int_equal(cmp_compress(alg, -1, in, len, &again), 0);
	assert_int_equal(again.len, one);
	assert_memory_equal(again.data, c.data, one);
	/* a damaged stream is refused, not returned as data (the lz4 legacy format has no
	 * check; the segment cache has its own) */
	if (alg != CMP_NONE && alg != CMP_LZ4) {
		struct exp_buf bad = {0};
		c.data[one / 2] ^= 0x55;
		assert_int_not_equal(cmp_decompress(alg, c.data, one, &bad), 0);
		exp_buf_free(&bad);
	}
	exp_buf_free(&again);
	exp_buf_free(&c);
	exp_buf_free(&d);
	free(in);
}

static void test_compress_round_trips(void **state)
{
	(void)state;
	enum cmp_alg algs[] = {CMP_NONE, CMP_GZIP, CMP_ZSTD, CMP_XZ, CMP_LZ4};
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		round_trip(algs[i], 100000);
		round_trip(algs[i], 3 << 20);
	}
	round_trip(CMP_LZ4, (9 << 20) + 123); /* more than one 8 MiB legacy block */
	enum cmp_alg a;
	assert_int_equal(cmp_parse("zstd", &a), 0);
	assert_int_equal(a, CMP_ZSTD);
	assert_int_equal(cmp_parse("bzip2", &a), -EINVAL);
}

/* A synthetic walk: dirs/files with fake nodes, in sorted pre-order. */
struct fake {
	struct ovl_node *nodes;
	struct seg_entry *e;
	size_t n;
};

static void fake_add(struct fake *f, const char *path, mode_t mode, uint64_t size, uint64_t ino,
		     uint32_t nlink)
{
	struct ovl_node *nd = &f->nodes[f->n];
	memset(nd, 0, sizeof(*nd));
	nd->attr.mode = mode;
	nd->attr.size = size;
	nd->ino = ino;
	nd->nlink = nlink;
	f->e[f->n] = (struct seg_entry){.n = nd, .path = strdup(path)};
	f->n++;
}

/* 60 directories of 40 files of 5-100 KB; extra_at >= 0 inserts one more file there. */
static void fake_tree(struct fake *f, int extra_at)
{
	f->nodes = calloc(4000, sizeof(*f->nodes));
	f->e = calloc(4000, sizeof(*f->e));
	f->n = 0;
	char p[64];
	uint64_t ino = 1;
	for (int d = 0; d < 60; d++) {
		snprintf(p, sizeof(p), "usr/d%02d", d);
		fake_add(f, p, S_IFDIR | 0755, 0, ino++, 2);
		for (int i = 0; i < 40; i++) {
			if (d == extra_at && i == 20) {
				snprintf(p, sizeof(p), "usr/d%02d/f19-new", d);
				fake_add(f, p, S_IFREG | 0644, 77777, ino++, 1);
			}
			snprintf(p, sizeof(p), "usr/d%02d/f%02d", d, i);
			fake_add(f, p, S_IFREG | 0644,
				 5000 + (uint64_t)((d * 40 + i) * 7919 % 95000), ino++, 1);
		}
	}
}

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->e[i].path);
	free(f->e);
	free(f->nodes);
}

/* The segments as strings of their entries' paths and inode numbers, one per segment. */
static char **segments(struct fake *f, uint64_t target, size_t *n_segs)
{
	size_t *starts;
	assert_int_equal(seg_assign_inodes(f->e, f->n), 0);
	assert_int_equal(seg_plan(f->e, f->n, target, &starts, n_segs), 0);
	char **out = calloc(*n_segs, sizeof(*out));
	for (size_t k = 0; k < *n_segs; k++) {
		size_t end = k + 1 < *n_segs ? starts[k + 1] : f->n;
		size_t cap = 64 * (end - starts[k]) + 1, len = 0;
		out[k] = calloc(1, cap);
		for (size_t i = starts[k]; i < end; i++)
			len +=
			    (size_t)snprintf(out[k] + len, cap - len, "%s:%u:%llu\n", f->e[i].path,
					     f->e[i].ino, (unsigned long long)f->e[i].size);
	}
	free(starts);
	return out;
}

static void test_cuts_stable_under_insertion(void **state)
{
	(void)state;
	struct fake a, b;
	fake_tree(&a, -1);
	fake_tree(&b, 30);
	size_t na, nb;
	char **sa = segments(&a, 1 << 20, &na);
	char **sb = segments(&b, 1 << 20, &nb);
	assert_true(na >= 30 && na <= 120); /* ~100 MB in segments of about 1 MiB */
	size_t changed = 0;
	for (size_t k = 0; k < nb; k++) {
		bool same = false;
		for (size_t j = 0; j < na && !same; j++)
			same = !strcmp(sb[k], sa[j]);
		changed += !same;
	}
	/* the segment that got the file, perhaps its neighbour; never everything after it */
	assert_true(changed >= 1 && changed <= 2);
	assert_true(nb - na <= 1 || na - nb <= 1);
	/* inode numbers do not depend on the walk position */
	for (size_t i = 0, j = 0; i < a.n; i++, j++) {
		if (strstr(b.e[j].path, "-new"))
			j++;
		assert_string_equal(a.e[i].path, b.e[j].path);
		assert_int_equal(a.e[i].ino, b.e[j].ino);
	}
	/* one piece when the target is 0 */
	size_t n1;
	char **s1 = segments(&a, 0, &n1);
	assert_int_equal(n1, 1);
	free(s1[0]);
	free(s1);
	for (size_t k = 0; k < na; k++)
		free(sa[k]);
	for (size_t k = 0; k < nb; k++)
		free(sb[k]);
	free(sa);
	free(sb);
	fake_free(&a);
	fake_free(&b);
}

static void test_hard_link_groups(void **state)
{
	(void)state;
	struct fake f = {calloc(32, sizeof(struct ovl_node)), calloc(32, sizeof(struct seg_entry)),
			 0};
	fake_add(&f, "a", S_IFDIR | 0755, 0, 1, 2);
	fake_add(&f, "a/one", S_IFREG | 0644, 10, 2, 3);
	fake_add(&f, "a/two", S_IFREG | 0644, 10, 3, 1);
	fake_add(&f, "b", S_IFDIR | 0755, 0, 4, 2);
	fake_add(&f, "b/one-again", S_IFREG | 0644, 10, 2, 3);
	fake_add(&f, "b/one-more", S_IFREG | 0644, 10, 2, 3);
	fake_add(&f, "c", S_IFLNK | 0777, 5, 5, 1);
	for (int i = 0; i < 20; i++) {
		char p[16];
		snprintf(p, sizeof(p), "d%02d", i);
		fake_add(&f, p, S_IFDIR | 0755, 0, 10 + (uint64_t)i, 2);
	}
	assert_int_equal(seg_assign_inodes(f.e, f.n), 0);
	/* one inode for the group, its data with the last member (as GNU cpio writes newc) */
	assert_int_equal(f.e[1].ino, f.e[4].ino);
	assert_int_equal(f.e[1].ino, f.e[5].ino);
	assert_int_not_equal(f.e[1].ino, f.e[2].ino);
	assert_false(f.e[1].has_data);
	assert_int_equal(f.e[1].size, 0);
	assert_false(f.e[4].has_data);
	assert_true(f.e[5].has_data);
	assert_int_equal(f.e[5].size, 10);
	assert_int_equal(f.e[1].group_last, 5);
	assert_true(f.e[6].has_data); /* a symlink's target is its data */
	/* with small segments (about 2 entries) the cut never falls inside the group */
	size_t *starts, n;
	assert_int_equal(seg_plan(f.e, f.n, 256, &starts, &n), 0);
	for (size_t k = 0; k < n; k++)
		assert_true(starts[k] <= 1 || starts[k] > 5);
	assert_true(n >= 2);
	free(starts);
	fake_free(&f);
}

static void test_cache_checks_and_bound(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *cdir = tu_path(dir, "state/cache");
	struct seg_cache *c;
	struct rf_err err = {0};
	assert_int_equal(segcache_open(cdir, 2500, &c, &err), 0);
	uint8_t k1[16] = {1}, k2[16] = {2}, k3[16] = {3}, payload[1000];
	fill(payload, sizeof(payload), 7);
	struct exp_buf b = {0};
	assert_int_equal(segcache_get(c, k1, &b), 0);
	assert_int_equal(segcache_put(c, k1, payload, sizeof(payload)), 0);
	assert_int_equal(segcache_get(c, k1, &b), 1);
	assert_int_equal(b.len, sizeof(payload));
	assert_memory_equal(b.data, payload, sizeof(payload));
	/* a flipped payload byte: detected, removed, a miss */
	char path[4096];
	snprintf(path, sizeof(path), "%s/seg/01000000000000000000000000000000", cdir);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 500), 1);
	close(fd);
	b.len = 0;
	assert_int_equal(segcache_get(c, k1, &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(access(path, F_OK), -1);
	/* truncated: the same */
	assert_int_equal(segcache_put(c, k1, payload, sizeof(payload)), 0);
	assert_int_equal(truncate(path, 700), 0);
	assert_int_equal(segcache_get(c, k1, &b), 0);
	/* the bound: three entries of ~1 KB under 2500 bytes keep the two used last */
	assert_int_equal(segcache_put(c, k1, payload, sizeof(payload)), 0);
	assert_int_equal(segcache_put(c, k2, payload, sizeof(payload)), 0);
	assert_int_equal(segcache_put(c, k3, payload, sizeof(payload)), 0);
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0); /* k1 oldest ... */
	assert_int_equal(segcache_get(c, k1, &b), 1);		/* ... until used again */
	snprintf(path, sizeof(path), "%s/seg/02000000000000000000000000000000", cdir);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	assert_int_equal(segcache_trim(c), 0);
	b.len = 0;
	assert_int_equal(segcache_get(c, k2, &b), 0);
	assert_int_equal(segcache_get(c, k1, &b), 1);
	assert_int_equal(segcache_get(c, k3, &b), 1);
	/* an entry bigger than the bound, used last, goes alone: the smaller recent ones stay */
	uint8_t k4[16] = {4}, big[3000];
	fill(big, sizeof(big), 9);
	assert_int_equal(segcache_put(c, k4, big, sizeof(big)), 0);
	assert_int_equal(segcache_trim(c), 0);
	b.len = 0;
	assert_int_equal(segcache_get(c, k4, &b), 0);
	assert_int_equal(segcache_get(c, k1, &b), 1);
	assert_int_equal(segcache_get(c, k3, &b), 1);
	exp_buf_free(&b);
	segcache_free(c);
	free(cdir);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compress_round_trips),
	    cmocka_unit_test(test_cuts_stable_under_insertion),
	    cmocka_unit_test(test_hard_link_groups),
	    cmocka_unit_test(test_cache_checks_and_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
