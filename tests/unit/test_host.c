/* Unit tests of the host resolver and layer (overlay/sources/host*.c, ldcache.c), on binaries
 * and shared libraries this test compiles with gcc in its temporary directory: DT_RUNPATH and
 * DT_RPATH with $ORIGIN (and how each reaches a library's own DT_NEEDED), symlink chains, a
 * library of the wrong ELF class skipped, missing libraries named with their requester, the
 * ld.so.cache parser on the host's cache and on hand-made ones, the view of a host layer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "host.h"
#include "layer.h"
#include "spec.h"
#include "testutil.h"
#include "viewtest.h"
#include "view.h"

struct fx {
	char *d; /* temporary directory: bin/, lib/, src/ */
};

static void run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st != 0)
		fail_msg("command failed (%d): %s", st, cmd);
}

/* lib/libfoo.so.1.0 (soname libfoo.so.1) with the link libfoo.so.1 -> libfoo.so.1.0, and
 * lib/libbar.so.1 that needs libfoo.so.1 and has no path of its own; four programs:
 *   app_runpath     needs libbar + libfoo, DT_RUNPATH $ORIGIN/../lib
 *   app_rpath_ind   needs libbar only,     DT_RPATH   $ORIGIN/../lib (reaches libbar's needs)
 *   app_runpath_ind needs libbar only,     DT_RUNPATH $ORIGIN/../lib (does not: not found)
 *   app_static      statically linked */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *d0 = tu_mkdtemp();
	/* canonical, so the view's paths are the ones asked for even when TMPDIR is a symlink */
	f->d = realpath(d0, NULL);
	free(d0);
	const char *d = f->d;
	run("mkdir -p %s/bin %s/lib %s/src", d, d, d);
	free(tu_write(d, "src/foo.c", "int foo(void) { return 42; }\n"));
	free(tu_write(d, "src/bar.c", "int foo(void);\nint bar(void) { return foo() + 1; }\n"));
	free(tu_write(d, "src/app.c",
		      "int foo(void);\nint bar(void);\nint main(void) { return foo() + bar() == 85 "
		      "? 0 : 1; }\n"));
	free(tu_write(d, "src/app_ind.c",
		      "int bar(void);\nint main(void) { return bar() == 43 ? 0 : 1; }\n"));
	free(tu_write(d, "src/static.c", "int main(void) { return 0; }\n"));
	run("cd %s && gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -o lib/libfoo.so.1.0 src/foo.c &&"
	    " ln -s libfoo.so.1.0 lib/libfoo.so.1 &&"
	    " gcc -shared -fPIC -Wl,-soname,libbar.so.1 -o lib/libbar.so.1 src/bar.c "
	    "lib/libfoo.so.1",
	    d);
	run("cd %s && gcc -o bin/app_runpath src/app.c lib/libbar.so.1 lib/libfoo.so.1"
	    " -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'",
	    d);
	run("cd %s && gcc -o bin/app_rpath_ind src/app_ind.c lib/libbar.so.1"
	    " -Wl,-rpath-link,lib -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'",
	    d);
	run("cd %s && gcc -o bin/app_runpath_ind src/app_ind.c lib/libbar.so.1"
	    " -Wl,-rpath-link,lib -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'",
	    d);
	run("cd %s && gcc -static -o bin/app_static src/static.c", d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tu_rmtree(f->d);
	free(f);
	return 0;
}

static struct host_resolution *resolve(const char *d, const char *rel, struct rf_err *err)
{
	struct host_resolver *r = NULL;
	assert_int_equal(host_resolver_new(NULL, &r, err), 0);
	char *p = tu_path(d, rel);
	struct host_resolution *res = NULL;
	int rc = host_resolve(r, p, &res, err);
	free(p);
	host_resolver_free(r);
	return rc ? NULL : res;
}

static const struct host_dep *dep(const struct host_resolution *res, const char *name)
{
	for (size_t i = 0; i < res->n_deps; i++)
		if (!strcmp(res->deps[i].name, name))
			return &res->deps[i];
	return NULL;
}

static void assert_same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	assert_non_null(realpath(a, ra));
	assert_non_null(realpath(b, rb));
	assert_string_equal(ra, rb);
}

static void test_runpath_origin(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	/* the program really runs with this layout: the fixture is what we think it is */
	run("%s/bin/app_runpath", f->d);
	struct host_resolution *res = resolve(f->d, "bin/app_runpath", &err);
	assert_non_null(res);
	assert_true(res->is_elf);
	assert_true(res->is_dynamic);
	assert_int_equal(host_resolution_check(res, &err), 0);
	/* interpreter first, then libbar, libfoo (file order), libc; each once */
	assert_true(res->deps[0].is_interp);
	assert_string_equal(res->deps[0].name, "/lib64/ld-linux-x86-64.so.2");
	const struct host_dep *bar = dep(res, "libbar.so.1"), *foo = dep(res, "libfoo.so.1");
	assert_non_null(bar);
	assert_non_null(foo);
	char *want = tu_path(f->d, "bin/../lib/libfoo.so.1");
	assert_string_equal(foo->path, want); /* $ORIGIN expanded, as ld.so spells it */
	free(want);
	want = tu_path(f->d, "bin/../lib/libbar.so.1");
	assert_string_equal(bar->path, want);
	free(want);
	assert_non_null(dep(res, "libc.so.6"));
	assert_int_equal(res->n_deps, 4);
	host_resolution_free(res);
}

static void test_rpath_reaches_needed_of_libraries(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	run("%s/bin/app_rpath_ind", f->d);
	struct host_resolution *res = resolve(f->d, "bin/app_rpath_ind", &err);
	assert_non_null(res);
	assert_int_equal(host_resolution_check(res, &err), 0);
	const struct host_dep *foo = dep(res, "libfoo.so.1");
	assert_non_null(foo); /* found through the DT_RPATH of libbar's loader, the program */
	char *bar_path = tu_path(f->d, "bin/../lib/libbar.so.1");
	assert_string_equal(foo->needed_by, bar_path);
	free(bar_path);
	char *lib = tu_path(f->d, "lib/libfoo.so.1.0");
	assert_same_file(foo->path, lib);
	free(lib);
	host_resolution_free(res);
}

static void test_runpath_does_not_reach_needed_of_libraries(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	/* ld.so refuses to start it: DT_RUNPATH only serves the program's own DT_NEEDED */
	char *cmd;
	assert_true(asprintf(&cmd, "%s/bin/app_runpath_ind 2>/dev/null", f->d) > 0);
	assert_int_not_equal(system(cmd), 0);
	free(cmd);
	struct host_resolution *res = resolve(f->d, "bin/app_runpath_ind", &err);
	assert_non_null(res);
	const struct host_dep *foo = dep(res, "libfoo.so.1");
	assert_non_null(foo);
	assert_null(foo->path);
	assert_int_equal(host_resolution_check(res, &err), -ENOENT);
	char *want;
	assert_true(
	    asprintf(&want,
		     "%s/bin/app_runpath_ind: libfoo.so.1 (needed by %s/bin/../lib/libbar.so.1) "
		     "not found",
		     f->d, f->d) > 0);
	assert_string_equal(err.msg, want);
	free(want);
	host_resolution_free(res);
}

static void test_static_and_plain_files(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	struct host_resolution *res = resolve(f->d, "bin/app_static", &err);
	assert_non_null(res);
	assert_true(res->is_elf);
	assert_false(res->is_dynamic);
	assert_int_equal(res->n_deps, 0);
	host_resolution_free(res);
	res = resolve(f->d, "src/app.c", &err);
	assert_non_null(res);
	assert_false(res->is_elf);
	assert_int_equal(res->n_deps, 0);
	host_resolution_free(res);
	assert_null(resolve(f->d, "bin/nope", &err));
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "bin/nope: No such file or directory"));
}

/* A minimal ELF32 i386 shared object header: the loader of a 64-bit program skips it. */
static void write_elf32(const char *path)
{
	Elf32_Ehdr h = {0};
	memcpy(h.e_ident, ELFMAG, SELFMAG);
	h.e_ident[EI_CLASS] = ELFCLASS32;
	h.e_ident[EI_DATA] = ELFDATA2LSB;
	h.e_ident[EI_VERSION] = EV_CURRENT;
	h.e_type = ET_DYN;
	h.e_machine = EM_386;
	h.e_version = EV_CURRENT;
	h.e_ehsize = sizeof(h);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(&h, sizeof(h), 1, fp), 1);
	fclose(fp);
}

static void test_wrong_class_candidate_is_skipped(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	/* lib32/libfoo.so.1 comes first in the RUNPATH but is 32-bit */
	run("mkdir -p %s/w/bin %s/w/lib32 && cp %s/lib/libfoo.so.1.0 %s/w/lib/ 2>/dev/null;"
	    " mkdir -p %s/w/lib && cp %s/lib/libfoo.so.1.0 %s/w/lib/libfoo.so.1",
	    f->d, f->d, f->d, f->d, f->d, f->d, f->d);
	char *p32 = tu_path(f->d, "w/lib32/libfoo.so.1");
	write_elf32(p32);
	free(p32);
	run("cd %s && gcc -o w/bin/app src/app.c lib/libbar.so.1 lib/libfoo.so.1"
	    " -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib32:$ORIGIN/../lib:${ORIGIN}/../lib'",
	    f->d);
	struct host_resolution *res = resolve(f->d, "w/bin/app", &err);
	assert_non_null(res);
	const struct host_dep *foo = dep(res, "libfoo.so.1");
	assert_non_null(foo);
	char *want = tu_path(f->d, "w/bin/../lib/libfoo.so.1");
	assert_string_equal(foo->path, want);
	free(want);
	/* libbar is in neither directory: not found, named with its requester */
	assert_int_equal(host_resolution_check(res, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "libbar.so.1 (needed by "));
	host_resolution_free(res);
}

static const struct ovl_node *lookup(const struct ovl_view *v, const char *d, const char *rel)
{
	char *p = tu_path(d + 1, rel);
	const struct ovl_node *n = ovl_view_lookup(v, p);
	free(p);
	return n;
}

static void test_layer_view(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	run("ln -sfn bin %s/alias", f->d);
	char *text;
	assert_true(asprintf(&text, "host %s/alias/app_runpath ./src/app.c\n", f->d) > 0);
	struct ovl_view *v = tu_build(f->d, text, &err);
	free(text);
	if (!v)
		fail_msg("%s", err.msg);
	/* the argument's symlinked directory is a symlink in the view too */
	const struct ovl_node *n = lookup(v, f->d, "alias");
	assert_non_null(n);
	assert_true(S_ISLNK(n->attr.mode));
	assert_string_equal(n->link_target, "bin");
	n = lookup(v, f->d, "bin/app_runpath");
	assert_non_null(n);
	assert_true(S_ISREG(n->attr.mode));
	assert_int_equal(n->attr.uid, 0);
	assert_int_equal(n->attr.gid, 0);
	assert_int_equal(n->src.kind, OVL_SRC_HOST);
	struct stat st;
	char *hp = tu_path(f->d, "bin/app_runpath");
	assert_int_equal(stat(hp, &st), 0);
	free(hp);
	assert_int_equal(n->attr.mode, st.st_mode);
	assert_int_equal(n->attr.size, (uint64_t)st.st_size);
	assert_int_equal(n->attr.mtime_sec, st.st_mtim.tv_sec);
	/* the chain libfoo.so.1 -> libfoo.so.1.0 as on the host */
	n = lookup(v, f->d, "lib/libfoo.so.1");
	assert_non_null(n);
	assert_true(S_ISLNK(n->attr.mode));
	assert_string_equal(n->link_target, "libfoo.so.1.0");
	n = lookup(v, f->d, "lib/libfoo.so.1.0");
	assert_non_null(n);
	assert_true(S_ISREG(n->attr.mode));
	assert_non_null(lookup(v, f->d, "lib/libbar.so.1"));
	assert_non_null(lookup(v, f->d, "src/app.c")); /* a plain file is just added */
	assert_null(lookup(v, f->d, "src/foo.c"));     /* nothing else of the directory */
	/* the loader and libc reachable at the paths the loader asks for */
	n = ovl_view_resolve(v, "lib64/ld-linux-x86-64.so.2", true);
	assert_non_null(n);
	assert_true(S_ISREG(n->attr.mode));
	n = ovl_view_resolve(v, "lib/x86_64-linux-gnu/libc.so.6", true);
	assert_non_null(n);
	assert_true(S_ISREG(n->attr.mode));
	struct stat lst;
	if (!lstat("/lib", &lst) && S_ISLNK(lst.st_mode)) {
		/* merged /usr: /lib is a link in the view as on the host */
		n = ovl_view_lookup(v, "lib");
		assert_non_null(n);
		assert_true(S_ISLNK(n->attr.mode));
		assert_string_equal(n->link_target, "usr/lib");
	}
	ovl_view_free(v);
}

static void test_layer_keeps_lower_directory(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	struct stat lst;
	if (lstat("/lib", &lst) || !S_ISLNK(lst.st_mode))
		skip(); /* only a merged-/usr host has the conflict */
	run("mkdir -p %s/lower/lib/modules && echo m > %s/lower/lib/modules/m", f->d, f->d);
	struct ovl_view *v = tu_build(f->d, "tree ./lower\nhost /usr/bin/xz\n", &err);
	if (!v)
		fail_msg("%s", err.msg);
	/* the lower layer's /lib stays a directory with its content */
	const struct ovl_node *n = ovl_view_lookup(v, "lib");
	assert_non_null(n);
	assert_true(S_ISDIR(n->attr.mode));
	assert_non_null(ovl_view_lookup(v, "lib/modules/m"));
	/* and the paths the loader asks for still reach the files */
	n = ovl_view_resolve(v, "lib/x86_64-linux-gnu/libc.so.6", true);
	assert_non_null(n);
	assert_true(S_ISREG(n->attr.mode));
	n = ovl_view_resolve(v, "lib/x86_64-linux-gnu/liblzma.so.5", true);
	assert_non_null(n);
	assert_true(S_ISREG(n->attr.mode));
	n = ovl_view_resolve(v, "lib64/ld-linux-x86-64.so.2", true);
	assert_non_null(n);
	assert_true(S_ISREG(n->attr.mode));
	ovl_view_free(v);
}

static void test_layer_errors(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	assert_null(tu_build(f->d, "host /nonexistent/prog\n", &err));
	assert_string_equal(err.msg, "t.spec:1: /nonexistent/prog: No such file or directory");
	rf_err_clear(&err);
	assert_null(tu_build(f->d, "host ./bin/app_runpath_ind\n", &err));
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "t.spec:1: "));
	assert_non_null(strstr(err.msg, "/bin/app_runpath_ind: libfoo.so.1 (needed by "));
	assert_non_null(strstr(err.msg, "/lib/libbar.so.1) not found"));
	rf_err_clear(&err);
	assert_null(tu_build(f->d, "host ./bin\n", &err));
	assert_int_equal(err.code, EISDIR);
}

/* --- ld.so.cache --- */

static void test_ldcache_host(void **state)
{
	(void)state;
	struct rf_err err = {0};
	struct host_ldcache *c = NULL;
	assert_int_equal(host_ldcache_load(NULL, &c, &err), 0);
	assert_true(host_ldcache_count(c) > 0);
	const char *p = host_ldcache_lookup(c, "libc.so.6", ELFCLASS64, EM_X86_64);
	assert_non_null(p);
	assert_same_file(p, "/lib/x86_64-linux-gnu/libc.so.6");
	assert_null(host_ldcache_lookup(c, "libdoesnotexist.so.9", ELFCLASS64, EM_X86_64));
	host_ldcache_free(c);
}

struct raw {
	unsigned char b[4096];
	size_t len;
};

static void put32(struct raw *r, size_t at, uint32_t v)
{
	memcpy(r->b + at, &v, 4);
}

/* A "glibc-ld.so.cache1.1" image at base (after an old-format part when base > 0) with the
 * entries given as (flags, key, value, hwcap), strings after them, and an extension naming the
 * glibc-hwcaps subdirectory "x86-64-v99" (which no CPU supports). */
static void new_cache(struct raw *r, size_t base, const int32_t *flags, const char *const *keys,
		      const char *const *vals, const uint64_t *hwcaps, size_t n)
{
	memcpy(r->b + base, "glibc-ld.so.cache1.1", 20);
	put32(r, base + 20, (uint32_t)n);
	r->b[base + 28] = 2; /* little endian */
	size_t str = 48 + n * 24, s = str;
	uint32_t hw_name = (uint32_t)s;
	strcpy((char *)r->b + base + s, "x86-64-v99");
	s += 11;
	for (size_t i = 0; i < n; i++) {
		size_t e = base + 48 + i * 24;
		put32(r, e, (uint32_t)flags[i]);
		put32(r, e + 4, (uint32_t)s);
		strcpy((char *)r->b + base + s, keys[i]);
		s += strlen(keys[i]) + 1;
		put32(r, e + 8, (uint32_t)s);
		strcpy((char *)r->b + base + s, vals[i]);
		s += strlen(vals[i]) + 1;
		memcpy(r->b + e + 16, &hwcaps[i], 8);
	}
	s = (s + 7) & ~(size_t)7;
	put32(r, base + 24, (uint32_t)(s - str));
	put32(r, base + 32, (uint32_t)s); /* extension */
	put32(r, base + s, 0xeaa42174u);
	put32(r, base + s + 4, 1);
	put32(r, base + s + 8, 1); /* tag: glibc-hwcaps */
	put32(r, base + s + 16, (uint32_t)(s + 24));
	put32(r, base + s + 20, 4);
	put32(r, base + s + 24, hw_name);
	r->len = base + s + 28;
}

static char *write_raw(const char *d, const char *name, const struct raw *r, size_t len)
{
	char *p = tu_path(d, name);
	FILE *fp = fopen(p, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(r->b, 1, len, fp), len);
	fclose(fp);
	return p;
}

static void test_ldcache_format(void **state)
{
	struct fx *f = *state;
	struct rf_err err = {0};
	static const int32_t flags[] = {0x0303, 0x0003, 0x0303, 0x0303};
	static const char *const keys[] = {"libq.so.1", "libq.so.1", "libq.so.1", "libr.so.2"};
	static const char *const vals[] = {"/opt/v99/libq.so.1", "/opt/32/libq.so.1",
					   "/opt/64/libq.so.1", "/opt/64/libr.so.2"};
	static const uint64_t hw[] = {(1ull << 62) | 0, 0, 0, 0};
	struct raw *r = calloc(1, sizeof(*r));
	new_cache(r, 0, flags, keys, vals, hw, 4);
	char *p = write_raw(f->d, "new.cache", r, r->len);
	struct host_ldcache *c = NULL;
	assert_int_equal(host_ldcache_load(p, &c, &err), 0);
	assert_int_equal(host_ldcache_count(c), 4);
	/* the hwcaps entry is for a level no CPU has; the i386 one is another architecture */
	assert_string_equal(host_ldcache_lookup(c, "libq.so.1", ELFCLASS64, EM_X86_64),
			    "/opt/64/libq.so.1");
	assert_string_equal(host_ldcache_lookup(c, "libq.so.1", ELFCLASS32, EM_386),
			    "/opt/32/libq.so.1");
	assert_string_equal(host_ldcache_lookup(c, "libr.so.2", ELFCLASS64, EM_X86_64),
			    "/opt/64/libr.so.2");
	assert_null(host_ldcache_lookup(c, "libr.so.2", ELFCLASS32, EM_386));
	host_ldcache_free(c);
	free(p);

	/* truncated inside the entries: refused, naming the file */
	p = write_raw(f->d, "trunc.cache", r, 60);
	assert_int_equal(host_ldcache_load(p, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "trunc.cache: not a valid ld.so cache"));
	free(p);
	rf_err_clear(&err);

	/* the old format alone: header, one 12-byte entry, its string table */
	memset(r, 0, sizeof(*r));
	memcpy(r->b, "ld.so-1.7.0", 11);
	put32(r, 12, 1);
	put32(r, 16, 0x0303);
	put32(r, 20, 0);
	put32(r, 24, 10);
	memcpy(r->b + 28, "libold.so\0/old/lib.so", 22);
	p = write_raw(f->d, "old.cache", r, 50);
	assert_int_equal(host_ldcache_load(p, &c, &err), 0);
	assert_int_equal(host_ldcache_count(c), 1);
	assert_string_equal(host_ldcache_lookup(c, "libold.so", ELFCLASS64, EM_X86_64),
			    "/old/lib.so");
	host_ldcache_free(c);
	free(p);

	/* the compat layout: the new format hidden in the old part's string table, 8-byte
	 * aligned after the old entries; ld.so reads the new part */
	new_cache(r, 32, flags + 2, keys + 2, vals + 2, hw + 2, 2);
	p = write_raw(f->d, "compat.cache", r, r->len);
	assert_int_equal(host_ldcache_load(p, &c, &err), 0);
	assert_int_equal(host_ldcache_count(c), 2);
	assert_string_equal(host_ldcache_lookup(c, "libr.so.2", ELFCLASS64, EM_X86_64),
			    "/opt/64/libr.so.2");
	host_ldcache_free(c);
	free(p);

	/* no cache at all: empty, ld.so then searches the default directories */
	p = tu_path(f->d, "absent.cache");
	assert_int_equal(host_ldcache_load(p, &c, &err), 0);
	assert_int_equal(host_ldcache_count(c), 0);
	host_ldcache_free(c);
	free(p);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runpath_origin),
	    cmocka_unit_test(test_rpath_reaches_needed_of_libraries),
	    cmocka_unit_test(test_runpath_does_not_reach_needed_of_libraries),
	    cmocka_unit_test(test_static_and_plain_files),
	    cmocka_unit_test(test_wrong_class_candidate_is_skipped),
	    cmocka_unit_test(test_layer_view),
	    cmocka_unit_test(test_layer_keeps_lower_directory),
	    cmocka_unit_test(test_layer_errors),
	    cmocka_unit_test(test_ldcache_host),
	    cmocka_unit_test(test_ldcache_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
