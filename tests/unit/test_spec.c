/* Unit tests of the SPEC parser (overlay/spec.c): every gen_init_cpio entry type with its
 * field order, layer keywords, comments, and errors that name FILE:LINE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "spec.h"
#include "testutil.h"

static struct spec *parse_ok(const char *text)
{
	struct spec *s = NULL;
	struct rf_err err = {0};
	int r = spec_parse_buffer(text, strlen(text), "t.spec", "/base", &s, &err);
	if (r)
		fail_msg("unexpected error: %s", err.msg);
	return s;
}

static int parse_err(const char *text, struct rf_err *err)
{
	struct spec *s = NULL;
	int r = spec_parse_buffer(text, strlen(text), "t.spec", "/base", &s, err);
	assert_null(s);
	return r;
}

static void test_every_entry_type(void **state)
{
	(void)state;
	struct spec *s = parse_ok("# a gen_init_cpio list\n"
				  "dir /dev 0755 0 0\n"
				  "nod /dev/console 0600 0 5 c 5 1\n"
				  "nod /dev/sda 0660 0 6 b 8 0\n"
				  "file /init ./init.sh 0755 0 0\n"
				  "file /bin/a /abs/a 04755 1 2 /bin/b /bin/c\n"
				  "slink /bin/sh busybox 0777 0 0\n"
				  "pipe /run/fifo 0644 3 4\n"
				  "sock /run/sock 0600 5 6\n");
	assert_int_equal(s->n_lines, 8);
	struct spec_line *l = s->lines;
	assert_true(l[0].is_entry);
	assert_int_equal(l[0].entry.type, SPEC_DIR);
	assert_string_equal(l[0].entry.name, "dev");
	assert_int_equal(l[0].entry.mode, 0755);
	assert_string_equal(l[0].origin, "t.spec:2");

	assert_int_equal(l[1].entry.type, SPEC_NOD);
	assert_string_equal(l[1].entry.name, "dev/console");
	assert_int_equal(l[1].entry.mode, 0600);
	assert_int_equal(l[1].entry.gid, 5);
	assert_int_equal(l[1].entry.dev_type, 'c');
	assert_int_equal(l[1].entry.maj, 5);
	assert_int_equal(l[1].entry.min, 1);
	assert_int_equal(l[2].entry.dev_type, 'b');
	assert_int_equal(l[2].entry.maj, 8);

	assert_int_equal(l[3].entry.type, SPEC_FILE);
	assert_string_equal(l[3].entry.location, "/base/init.sh");
	assert_int_equal(l[4].entry.mode, 04755);
	assert_int_equal(l[4].entry.uid, 1);
	assert_int_equal(l[4].entry.gid, 2);
	assert_string_equal(l[4].entry.location, "/abs/a");
	assert_int_equal(l[4].entry.n_hardlinks, 2);
	assert_string_equal(l[4].entry.hardlinks[0], "bin/b");
	assert_string_equal(l[4].entry.hardlinks[1], "bin/c");

	assert_int_equal(l[5].entry.type, SPEC_SLINK);
	assert_string_equal(l[5].entry.location, "busybox");
	assert_int_equal(l[5].entry.mode, 0777);
	assert_int_equal(l[6].entry.type, SPEC_PIPE);
	assert_int_equal(l[6].entry.uid, 3);
	assert_int_equal(l[7].entry.type, SPEC_SOCK);
	assert_int_equal(l[7].entry.gid, 6);
	spec_free(s);
}

static void test_layer_keywords_and_comments(void **state)
{
	(void)state;
	struct spec *s = parse_ok("\n   # indented comment\n"
				  "busybox /bin/busybox   # trailing comment\n"
				  "host /usr/bin/strace rel/tool\n"
				  "tree ./overlay\n"
				  "tree ./x owner=host\n");
	assert_int_equal(s->n_lines, 4);
	assert_string_equal(s->lines[0].keyword, "busybox");
	assert_false(s->lines[0].is_entry);
	assert_int_equal(s->lines[0].argc, 1);
	assert_string_equal(s->lines[0].origin, "t.spec:3");
	assert_string_equal(s->lines[1].argv[0], "/usr/bin/strace");
	assert_string_equal(s->lines[1].argv[1], "/base/rel/tool");
	assert_string_equal(s->lines[2].argv[0], "/base/overlay");
	assert_string_equal(s->lines[3].argv[1], "owner=host");
	spec_free(s);
}

static void test_env_expansion(void **state)
{
	(void)state;
	setenv("RF_TEST_DIR", "/from/env", 1);
	struct spec *s = parse_ok("file /x ${RF_TEST_DIR}/x 0644 0 0\n");
	assert_string_equal(s->lines[0].entry.location, "/from/env/x");
	spec_free(s);
	struct rf_err err = {0};
	unsetenv("RF_TEST_UNSET");
	assert_int_equal(parse_err("file /x ${RF_TEST_UNSET}/x 0644 0 0\n", &err), -EINVAL);
	assert_string_equal(err.msg, "t.spec:1: environment variable RF_TEST_UNSET is not set");
}

static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{"dir /a 0755 0 0\nfrobnicate /x\n", "t.spec:2: unknown keyword 'frobnicate'"},
		{"dir /a 0855 0 0\n", "t.spec:1: bad mode '0855' (octal, at most 07777)"},
		{"dir /a 17777 0 0\n", "t.spec:1: bad mode '17777' (octal, at most 07777)"},
		{"\n\ndir /a 0755 root 0\n", "t.spec:3: bad uid 'root'"},
		{"pipe /a 0755 0 -1\n", "t.spec:1: bad gid '-1'"},
		{"nod /dev/x 0600 0 0 x 1 2\n", "t.spec:1: bad device type 'x' (b or c)"},
		{"nod /dev/x 0600 0 0 c one 2\n", "t.spec:1: bad major number 'one'"},
		{"dir /a 0755 0\n", "t.spec:1: wrong number of arguments for 'dir' (usage: dir "
				    "<name> <mode> <uid> <gid>)"},
		{"busybox\n", "t.spec:1: wrong number of arguments for 'busybox' (usage: busybox "
			      "PATH)"},
		{"dir /a/../../etc 0755 0 0\n",
		 "t.spec:1: '/a/../../etc': '..' would leave the guest root"},
		{"file / /x 0644 0 0\n", "t.spec:1: '/' names the root itself"},
		{"file /a /x 0644 0 0 ../b\n", "t.spec:1: '../b': '..' would leave the guest root"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rf_err err = {0};
		int r = parse_err(cases[i].text, &err);
		assert_true(err.code > 0);
		assert_int_equal(r, -err.code);
		assert_string_equal(err.msg, cases[i].msg);
	}
}

static void test_parse_file_and_missing_file(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *p = tu_write(dir, "x.spec", "dir /etc 0755 0 0\nslink /etc/mtab "
					  "/proc/mounts 0777 0 0");
	struct spec *s = NULL;
	struct rf_err err = {0};
	assert_int_equal(spec_parse_file(p, &s, &err), 0);
	assert_int_equal(s->n_lines, 2);
	assert_string_equal(s->base_dir, dir);
	assert_string_equal(s->lines[1].entry.location, "/proc/mounts");
	spec_free(s);

	char *missing = tu_path(dir, "nope.spec");
	s = NULL;
	assert_int_equal(spec_parse_file(missing, &s, &err), -ENOENT);
	assert_null(s);
	assert_non_null(strstr(err.msg, "nope.spec: No such file or directory"));
	free(missing);
	free(p);
	tu_rmtree(dir);
}

static void test_add_line_as_flags_do(void **state)
{
	(void)state;
	struct spec *s = NULL;
	struct rf_err err = {0};
	assert_int_equal(spec_new(NULL, &s), 0);
	char *argv[] = {"/usr/bin/strace", "/usr/sbin/sshd"};
	assert_int_equal(spec_add_line(s, "host", argv, 2, "--host", &err), 0);
	char *bad[] = {"/x", "0999", "0", "0"};
	assert_int_equal(spec_add_line(s, "dir", bad, 4, "--dir", &err), -EINVAL);
	assert_string_equal(err.msg, "--dir: bad mode '0999' (octal, at most 07777)");
	assert_int_equal(s->n_lines, 1);
	assert_true(spec_is_keyword("slink"));
	assert_true(spec_is_keyword("tree"));
	assert_false(spec_is_keyword("entries"));
	spec_free(s);
}

/* A layer line takes as many arguments as it is given (a `host` line of every program in /usr/bin lists over a thousand
 * programs on a desktop): no cap on fields but the SPEC's size. */
static void test_many_fields(void **state)
{
	(void)state;
	size_t n = 3000, len = 0;
	char *text = malloc(n * 16 + 16);
	assert_non_null(text);
	len += (size_t)sprintf(text, "host");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, " /bin/p%zu", i);
	sprintf(text + len, "\ntree ./t\n");
	struct spec *s = parse_ok(text);
	assert_int_equal(s->n_lines, 2);
	assert_int_equal(s->lines[0].argc, (int)n);
	assert_string_equal(s->lines[0].argv[0], "/bin/p0");
	assert_string_equal(s->lines[0].argv[n - 1], "/bin/p2999");
	assert_string_equal(s->lines[1].origin, "t.spec:2");
	spec_free(s);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_entry_type),
		cmocka_unit_test(test_many_fields),
		cmocka_unit_test(test_layer_keywords_and_comments),
		cmocka_unit_test(test_env_expansion),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_parse_file_and_missing_file),
		cmocka_unit_test(test_add_line_as_flags_do),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
