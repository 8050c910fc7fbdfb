/* Unit tests of the modules layer (overlay/sources/modules.c, modindex.c) against the
 * installed Debian kernel's /lib/modules/VERSION: the closure equals kmod's
 * `modprobe --show-depends`, aliases and softdeps are followed, the regenerated modules.* files
 * equal what depmod writes for the same subset, compressed modules stay as they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <string.h>
#include <sys/stat.h>

#include "layer.h"
#include "testutil.h"
#include "view.h"

static char version[256];
static char moddir[PATH_MAX];

/* The installed kernel: the newest /boot/vmlinuz-V that has /lib/modules/V/modules.dep (not
 * uname -r: the host may run another kernel). */
static int find_kernel(void **state)
{
	(void)state;
	DIR *d = opendir("/boot");
	struct dirent *de;
	version[0] = '\0';
	while (d && (de = readdir(d))) {
		char dep[PATH_MAX];
		if (strncmp(de->d_name, "vmlinuz-", 8))
			continue;
		snprintf(dep, sizeof(dep), "/lib/modules/%s/modules.dep", de->d_name + 8);
		if (access(dep, R_OK) == 0 && strverscmp(de->d_name + 8, version) > 0)
			snprintf(version, sizeof(version), "%s", de->d_name + 8);
	}
	if (d)
		closedir(d);
	snprintf(moddir, sizeof(moddir), "/lib/modules/%s", version);
	return version[0] ? 0 : -1;
}

static int load(const char *dir, const char *const *names, struct ovl_view **out,
		struct rf_err *err)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)dir;
	for (; names[argc - 1]; argc++)
		argv[argc] = (char *)names[argc - 1];
	struct ovl_layer *l;
	struct ovl_view *v;
	assert_int_equal(ovl_view_new(&v), 0);
	assert_int_equal(layer_new(&layer_modules_ops, argv, argc, "test", &l), 0);
	assert_int_equal(ovl_view_add_layer(v, l), 0);
	int r = l->ops->load(l, v, err);
	if (r) {
		ovl_view_free(v);
		return r;
	}
	assert_int_equal(ovl_view_finalize(v), 0);
	*out = v;
	return 0;
}

struct list {
	char *s[4096];
	size_t n;
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_sort(struct list *l)
{
	qsort(l->s, l->n, sizeof(char *), str_cmp);
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->s[i]);
	l->n = 0;
}

static bool has_ko_suffix(const char *p)
{
	return strstr(p, ".ko") &&
	       (!strcmp(strstr(p, ".ko"), ".ko") || !strcmp(strstr(p, ".ko"), ".ko.xz") ||
		!strcmp(strstr(p, ".ko"), ".ko.zst"));
}

static int collect_ko(const struct ovl_node *n, const char *path, void *ctx)
{
	struct list *l = ctx;
	if (S_ISREG(n->attr.mode) && has_ko_suffix(path))
		l->s[l->n++] = strdup(path);
	return 0;
}

/* The guest paths of modules in v, sorted. */
static void view_modules(struct ovl_view *v, struct list *out)
{
	out->n = 0;
	ovl_view_walk(v, collect_ko, out);
	list_sort(out);
}

/* Lines of a command's output, sorted. */
static void run_lines(const char *cmd, struct list *out)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[8192];
	out->n = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		out->s[out->n++] = strdup(line);
	}
	assert_int_equal(pclose(p), 0);
	list_sort(out);
}

/* `modprobe --show-depends NAME` of the host's kmod, as guest paths ("lib/modules/V/..."). */
static void modprobe_closure(const char *name, struct list *out)
{
	char cmd[1024];
	struct list raw;
	snprintf(cmd, sizeof(cmd), "modprobe -S '%s' --show-depends '%s'", version, name);
	run_lines(cmd, &raw);
	out->n = 0;
	for (size_t i = 0; i < raw.n; i++) {
		char *p = strstr(raw.s[i], "/lib/modules/");
		if (strncmp(raw.s[i], "insmod ", 7) || !p)
			continue;
		p++;
		p[strcspn(p, " ")] = '\0';
		out->s[out->n++] = strdup(p);
	}
	list_free(&raw);
	list_sort(out);
}

static void assert_lists_equal(struct list *a, struct list *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++)
		assert_string_equal(a->s[i], b->s[i]);
	assert_int_equal(a->n, b->n);
}

static void check_closure(const char *name, size_t min)
{
	struct rf_err err = {0};
	struct ovl_view *v;
	const char *names[] = {name, NULL};
	assert_int_equal(load(moddir, names, &v, &err), 0);
	struct list ours, theirs;
	view_modules(v, &ours);
	modprobe_closure(name, &theirs);
	assert_true(theirs.n >= min);
	assert_lists_equal(&ours, &theirs);
	list_free(&ours);
	list_free(&theirs);
	ovl_view_free(v);
}

static void test_closure_matches_modprobe(void **state)
{
	(void)state;
	check_closure("ext4", 4); /* ext4, jbd2, mbcache, crc16 at least */
	check_closure("virtio_blk", 3);
	check_closure("fs-ext4", 4); /* an alias: the same closure as ext4 */
}

static void test_softdeps_followed(void **state)
{
	(void)state;
	struct rf_err err = {0};
	struct ovl_view *v;
	const char *names[] = {"ext4", NULL};
	assert_int_equal(load(moddir, names, &v, &err), 0);
	/* ext4 has "softdep ext4 pre: crypto-crc32c"; crypto-crc32c is an alias of both */
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "lib/modules/%s/kernel/crypto/crc32c_generic.ko", version);
	assert_non_null(ovl_view_lookup(v, p));
	snprintf(p, sizeof(p), "lib/modules/%s/kernel/arch/x86/crypto/crc32c-intel.ko", version);
	assert_non_null(ovl_view_lookup(v, p));
	snprintf(p, sizeof(p), "lib/modules/%s/modules.softdep", version);
	struct ovl_node *n = ovl_view_lookup(v, p);
	assert_non_null(n);
	char *text = calloc(1, n->attr.size + 1);
	assert_int_equal(ovl_node_pread(n, text, n->attr.size, 0, &err), (ssize_t)n->attr.size);
	assert_non_null(strstr(text, "softdep ext4 pre: crypto-crc32c\n"));
	assert_null(strstr(text, "softdep btrfs")); /* not in the subset */
	free(text);
	ovl_view_free(v);
}

static void test_unknown_module(void **state)
{
	(void)state;
	struct rf_err err = {0};
	struct ovl_view *v = NULL;
	const char *names[] = {"ext4", "no_such_module_xyz", NULL};
	assert_int_equal(load(moddir, names, &v, &err), -ENOENT);
	assert_non_null(strstr(err.msg, moddir));
	assert_non_null(strstr(err.msg, "'no_such_module_xyz'"));
	assert_null(strchr(err.msg, '\n'));
	rf_err_clear(&err);
	char *d = tu_mkdtemp();
	const char *n2[] = {"ext4", NULL};
	assert_int_equal(load(d, n2, &v, &err), -ENOENT); /* no modules.dep */
	assert_non_null(strstr(err.msg, "modules.dep"));
	tu_rmtree(d);
}

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

struct mat {
	const char *root; /* host directory standing for the guest's / */
	const char *only; /* prefix of the guest paths to write; NULL: all */
	bool skip_generated;
};

static int materialize_one(const struct ovl_node *n, const char *path, void *ctx)
{
	struct mat *m = ctx;
	char h[PATH_MAX];
	snprintf(h, sizeof(h), "%s/%s", m->root, path);
	if (S_ISDIR(n->attr.mode)) {
		mkdir_p(h);
	} else if (n->src.kind == OVL_SRC_HOST && has_ko_suffix(path)) {
		assert_int_equal(symlink(n->src.host_path, h), 0);
	} else if (!m->skip_generated || !strstr(path, "/modules.")) {
		int fd = open(h, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		char *b = malloc(n->attr.size + 1);
		struct rf_err err = {0};
		assert_int_equal(ovl_node_pread(n, b, n->attr.size, 0, &err),
				 (ssize_t)n->attr.size);
		assert_int_equal(write(fd, b, n->attr.size), (ssize_t)n->attr.size);
		free(b);
		close(fd);
	}
	return 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *b = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&b, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return b;
}

static void dump_index(const char *dir, enum kmod_index type, struct list *out)
{
	static const char *const no_config[] = {NULL};
	struct kmod_ctx *k = kmod_new(dir, no_config);
	assert_non_null(k);
	char *b = NULL;
	size_t len = 0;
	char tmpl[] = "/tmp/rf-dump.XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	assert_int_equal(kmod_dump_index(k, type, fd), 0);
	lseek(fd, 0, SEEK_SET);
	FILE *f = fdopen(fd, "r");
	FILE *m = open_memstream(&b, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	kmod_unref(k);
	out->n = 0;
	char *save = NULL;
	for (char *ln = strtok_r(b, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save))
		out->s[out->n++] = strdup(ln);
	free(b);
	list_sort(out);
}

/* The subset's modules.* as the layer presents them equal what depmod writes when run on
 * the same modules, and kmod's own modprobe resolves names through our .bin files. */
static void test_indexes_match_depmod(void **state)
{
	(void)state;
	struct rf_err err = {0};
	struct ovl_view *v;
	const char *names[] = {"virtio_blk", "ext4", NULL};
	assert_int_equal(load(moddir, names, &v, &err), 0);
	char *t = tu_mkdtemp();
	char ours[PATH_MAX], theirs[PATH_MAX], od[PATH_MAX], td[PATH_MAX], cmd[4096];
	snprintf(ours, sizeof(ours), "%s/ours", t);
	snprintf(theirs, sizeof(theirs), "%s/theirs", t);
	struct mat m1 = {.root = ours}, m2 = {.root = theirs, .skip_generated = true};
	assert_int_equal(ovl_view_walk(v, materialize_one, &m1), 0);
	assert_int_equal(ovl_view_walk(v, materialize_one, &m2), 0);
	snprintf(od, sizeof(od), "%s/lib/modules/%s", ours, version);
	snprintf(td, sizeof(td), "%s/lib/modules/%s", theirs, version);
	/* depmod sorts by modules.order and takes modules.builtin* as they are */
	snprintf(cmd, sizeof(cmd),
		 "cp %s/modules.order %s/modules.builtin %s/modules.builtin.modinfo %s/ && "
		 "depmod -b %s %s",
		 od, od, od, td, theirs, version);
	assert_int_equal(system(cmd), 0);
	static const char *const texts[] = {"modules.dep",     "modules.alias",	  "modules.symbols",
					    "modules.softdep", "modules.devname", "modules.order"};
	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		char a[PATH_MAX], b[PATH_MAX];
		snprintf(a, sizeof(a), "%s/%s", od, texts[i]);
		snprintf(b, sizeof(b), "%s/%s", td, texts[i]);
		char *x = read_file(a), *y = read_file(b);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	static const enum kmod_index idx[] = {KMOD_INDEX_MODULES_DEP, KMOD_INDEX_MODULES_ALIAS,
					      KMOD_INDEX_MODULES_SYMBOL};
	for (size_t i = 0; i < sizeof(idx) / sizeof(*idx); i++) {
		struct list a, b;
		dump_index(od, idx[i], &a);
		dump_index(td, idx[i], &b);
		assert_true(a.n > 0);
		assert_lists_equal(&a, &b);
		list_free(&a);
		list_free(&b);
	}
	/* and the same bytes: same trie, same node order, same value priorities */
	static const char *const bins[] = {"modules.dep.bin", "modules.alias.bin",
					   "modules.symbols.bin"};
	for (size_t i = 0; i < sizeof(bins) / sizeof(*bins); i++) {
		snprintf(cmd, sizeof(cmd), "cmp %s/%s %s/%s", od, bins[i], td, bins[i]);
		assert_int_equal(system(cmd), 0);
	}
	/* kmod's modprobe on our tree, without any modprobe.d: aliases through modules.alias.bin,
	 * dependencies through modules.dep.bin, softdeps through modules.softdep */
	struct list a, b;
	snprintf(cmd, sizeof(cmd),
		 "modprobe -C /dev/null -d %s -S %s -a --show-depends fs-ext4 virtio_blk "
		 "| sed 's#%s##' | sort",
		 ours, version, ours);
	run_lines(cmd, &a);
	snprintf(cmd, sizeof(cmd),
		 "modprobe -C /dev/null -d %s -S %s -a --show-depends fs-ext4 virtio_blk "
		 "| sed 's#%s##' | sort",
		 theirs, version, theirs);
	run_lines(cmd, &b);
	assert_true(a.n >= 9);
	assert_lists_equal(&a, &b);
	list_free(&a);
	list_free(&b);
	ovl_view_free(v);
	tu_rmtree(t);
}

/* A kernel tree with xz- and zstd-compressed modules: kept compressed, byte for byte. */
static void test_compressed_modules(void **state)
{
	(void)state;
	char *t = tu_mkdtemp();
	char d[PATH_MAX], cmd[4096];
	snprintf(d, sizeof(d), "%s/lib/modules/%s", t, version);
	snprintf(cmd, sizeof(cmd),
		 "set -e; mkdir -p %s/kernel/drivers/block %s/kernel/drivers/virtio; "
		 "xz -c %s/kernel/drivers/block/virtio_blk.ko > "
		 "%s/kernel/drivers/block/virtio_blk.ko.xz; "
		 "zstd -q -c %s/kernel/drivers/virtio/virtio.ko > "
		 "%s/kernel/drivers/virtio/virtio.ko.zst; "
		 "cp %s/kernel/drivers/virtio/virtio_ring.ko %s/kernel/drivers/virtio/; "
		 "cp %s/modules.builtin %s/modules.builtin.modinfo %s/; "
		 "printf 'kernel/drivers/virtio/virtio.ko\\nkernel/drivers/virtio/virtio_ring.ko\\n"
		 "kernel/drivers/block/virtio_blk.ko\\n' > %s/modules.order; depmod -b %s %s",
		 d, d, moddir, d, moddir, d, moddir, d, moddir, moddir, d, d, t, version);
	assert_int_equal(system(cmd), 0);
	struct rf_err err = {0};
	struct ovl_view *v;
	const char *names[] = {"virtio_blk", NULL};
	assert_int_equal(load(d, names, &v, &err), 0);
	struct list l;
	view_modules(v, &l);
	assert_int_equal(l.n, 3);
	char want[PATH_MAX];
	snprintf(want, sizeof(want), "lib/modules/%s/kernel/drivers/block/virtio_blk.ko.xz",
		 version);
	assert_string_equal(l.s[0], want);
	snprintf(want, sizeof(want), "lib/modules/%s/kernel/drivers/virtio/virtio.ko.zst", version);
	assert_string_equal(l.s[1], want);
	struct ovl_node *n = ovl_view_lookup(v, l.s[0]);
	struct stat st;
	char host[PATH_MAX];
	snprintf(host, sizeof(host), "%s/kernel/drivers/block/virtio_blk.ko.xz", d);
	assert_int_equal(stat(host, &st), 0);
	assert_int_equal(n->attr.size, (uint64_t)st.st_size);
	unsigned char magic[6];
	assert_int_equal(ovl_node_pread(n, magic, 6, 0, &err), 6);
	assert_memory_equal(magic,
			    "\xfd"
			    "7zXZ",
			    5);
	assert_int_equal(n->attr.uid, 0);
	list_free(&l);
	ovl_view_free(v);
	tu_rmtree(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_closure_matches_modprobe),
	    cmocka_unit_test(test_softdeps_followed),
	    cmocka_unit_test(test_unknown_module),
	    cmocka_unit_test(test_indexes_match_depmod),
	    cmocka_unit_test(test_compressed_modules),
	};
	return cmocka_run_group_tests(tests, find_kernel, NULL);
}
