/* Unit tests of the subcommands' argument loop (cli/args.c) on real argv arrays: the option
 * kinds, aliases, layer flags and export options before the table, positionals, the `--`
 * rest, and the one-line usage errors with their exit statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "exporter.h"
#include "opts.h"

/* Run cli_args_parse on words (NULL-terminated, argv[0] added), capturing what it writes on
 * stderr into msg. Returns its result. */
static int parse(struct cli_args *p, char *msg, size_t msg_size, const char *const *words)
{
	char *argv[64] = {"rootfs-fuse-test"};
	int argc = 1;
	for (; words[argc - 1]; argc++)
		argv[argc] = (char *)words[argc - 1];
	FILE *cap = tmpfile();
	assert_non_null(cap);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(cap), 2), 2);
	int r = cli_args_parse(p, argc, argv);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(cap);
	size_t n = fread(msg, 1, msg_size - 1, cap);
	msg[n] = '\0';
	fclose(cap);
	return r;
}

#define PARSE(p, msg, ...) parse((p), (msg), sizeof(msg), (const char *const[]){__VA_ARGS__, NULL})

/* the fields a command's table fills */
struct fields {
	const char *out, *format;
	bool quiet, is_bytes;
	uint64_t size;
	unsigned memory;
	size_t top;
	bool by_layer;
};

static int by_option(void *dest, const char *val, struct rf_err *err)
{
	if (!strcmp(val, "many"))
		return rf_err_set(err, EINVAL, "--by takes one grouping");
	if (strcmp(val, "layer"))
		return -EINVAL;
	*(bool *)dest = true;
	return 0;
}

static int n_help;
static void help(void)
{
	n_help++;
}

/* one table for every test; each test starts from zeroed fields */
static struct fields f;
static const struct cli_opt opts[] = {
    CLI_OPT("--output", "-o", CLI_OPT_STRING, &f.out),
    CLI_OPT("--format", NULL, CLI_OPT_STRING, &f.format),
    CLI_OPT("--quiet", "-q", CLI_OPT_SET, &f.quiet),
    CLI_OPT("--bytes", "-b", CLI_OPT_SET, &f.is_bytes),
    CLI_OPT("--human", NULL, CLI_OPT_CLEAR, &f.is_bytes),
    CLI_OPT("--size", NULL, CLI_OPT_SIZE, &f.size),
    CLI_OPT("--memory", NULL, CLI_OPT_UNSIGNED, &f.memory),
    CLI_OPT_MSG("--top", NULL, CLI_OPT_COUNT, &f.top, NULL, "needs a number"),
    CLI_OPT_MSG("--by", NULL, CLI_OPT_CALL, &f.by_layer, by_option, "takes 'layer'"),
    {0},
};

static int reset(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	return 0;
}

static void test_flags_values_aliases(void **state)
{
	(void)state;
	const char *pos[1] = {NULL};
	struct cli_args p = {.cmd = "x", .opts = opts, .pos = pos, .max_pos = 1};
	char msg[1024];
	assert_int_equal(PARSE(&p, msg, "-o", "out.ext4", "--format", "ext4", "-q", "--size", "2G",
			       "SPEC", "--memory", "12x", "-b", "--top", "7", "--by", "layer"),
			 0);
	assert_string_equal(msg, "");
	assert_string_equal(f.out, "out.ext4");
	assert_string_equal(f.format, "ext4");
	assert_true(f.quiet);
	assert_true(f.is_bytes);
	assert_int_equal(f.size, 2ull << 30);
	assert_int_equal(f.memory, 12); /* lax, as boot's --memory always was */
	assert_int_equal(f.top, 7);
	assert_true(f.by_layer);
	assert_int_equal(p.n_pos, 1);
	assert_string_equal(pos[0], "SPEC");
	assert_null(p.rest);
	/* the long spellings, and a later option wins */
	assert_int_equal(PARSE(&p, msg, "--output", "a", "--quiet", "--human", "--size", "512K",
			       "--output", "b"),
			 0);
	assert_string_equal(f.out, "b");
	assert_false(f.is_bytes);
	assert_int_equal(f.size, 512 * 1024);
	assert_int_equal(p.n_pos, 0);
}

static void test_bad_values(void **state)
{
	(void)state;
	struct cli_args p = {.cmd = "x", .opts = opts};
	char msg[1024];
	assert_int_equal(PARSE(&p, msg, "--size", "lots"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: --size 'lots' is not a size (e.g. 512M, 2G)\n");
	assert_int_equal(PARSE(&p, msg, "-q", "-o"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: -o needs a value\n");
	assert_null(f.out);
	assert_int_equal(PARSE(&p, msg, "--top", "-1"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: --top needs a number\n");
	assert_int_equal(PARSE(&p, msg, "--top"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: --top needs a number\n");
	assert_int_equal(PARSE(&p, msg, "--top", "99999999999999999999999"), 2);
	assert_int_equal(PARSE(&p, msg, "--by", "size"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: --by takes 'layer'\n");
	assert_int_equal(PARSE(&p, msg, "--by", "many"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: --by takes one grouping\n");
	assert_false(f.by_layer);
	/* quiet: the same statuses, nothing printed */
	p.quiet = true;
	assert_int_equal(PARSE(&p, msg, "--size", "lots"), 2);
	assert_int_equal(PARSE(&p, msg, "--nope"), 2);
	assert_string_equal(msg, "");
}

static void test_unknown_and_positionals(void **state)
{
	(void)state;
	const char *pos[2] = {NULL, NULL};
	struct cli_args p = {.cmd = "x", .opts = opts, .pos = pos, .max_pos = 1};
	char msg[1024];
	assert_int_equal(PARSE(&p, msg, "--bogus"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: unknown argument '--bogus' (see x --help)\n");
	assert_int_equal(PARSE(&p, msg, "-"), 2); /* starts with '-': not a positional */
	assert_int_equal(PARSE(&p, msg, "A", "B"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: unknown argument 'B' (see x --help)\n");
	/* without has_rest, `--` is no option either */
	assert_int_equal(PARSE(&p, msg, "A", "--"), 2);
	assert_string_equal(msg, "rootfs-fuse: x: unknown argument '--' (see x --help)\n");
	p.max_pos = 2;
	assert_int_equal(PARSE(&p, msg, "A", "-q", "B"), 0);
	assert_int_equal(p.n_pos, 2);
	assert_string_equal(pos[0], "A");
	assert_string_equal(pos[1], "B");
}

static void test_rest_and_help(void **state)
{
	(void)state;
	const char *pos[1] = {NULL};
	struct cli_args p = {
	    .cmd = "x", .opts = opts, .pos = pos, .max_pos = 1, .has_rest = true, .help = help};
	char msg[1024];
	assert_int_equal(PARSE(&p, msg, "SPEC", "-q", "--", "-x", "--help", "Z"), 0);
	assert_int_equal(p.n_rest, 3);
	assert_string_equal(p.rest[0], "-x");
	assert_string_equal(p.rest[1], "--help");
	assert_string_equal(p.rest[2], "Z");
	assert_int_equal(n_help, 0);
	assert_int_equal(PARSE(&p, msg, "--"), 0);
	assert_non_null(p.rest);
	assert_int_equal(p.n_rest, 0);
	/* --help stops the loop: a later error is not reported */
	assert_int_equal(PARSE(&p, msg, "-h", "--bogus"), CLI_ARGS_HELP);
	assert_int_equal(PARSE(&p, msg, "--help"), CLI_ARGS_HELP);
	assert_int_equal(n_help, 2);
	assert_string_equal(msg, "");
}

static void test_layer_flags_and_export_options(void **state)
{
	(void)state;
	struct cli_layers cl = {0};
	struct exp_options o = {.level = -1};
	struct cli_args p = {
	    .cmd = "x", .opts = opts, .layers = &cl, .exp = &o, .pos = &cl.spec_path, .max_pos = 1};
	char msg[1024];
	assert_int_equal(PARSE(&p, msg, "--dir", "/x", "0755", "0", "0", "--compress", "zstd",
			       "--state", "S", "SPEC", "--level", "3", "--no-cache", "-o", "o"),
			 0);
	assert_true(cl.has_layers);
	assert_string_equal(cl.state_arg, "S");
	assert_string_equal(cl.spec_path, "SPEC");
	assert_string_equal(o.compress, "zstd");
	assert_int_equal(o.level, 3);
	assert_string_equal(f.out, "o");
	assert_int_equal(PARSE(&p, msg, "--level", "x"), 2);
	assert_string_equal(msg, "rootfs-fuse: --level: 'x' is not a number\n");
	assert_int_equal(PARSE(&p, msg, "--threads"), 2);
	assert_string_equal(msg, "rootfs-fuse: --threads needs a value\n");
	/* a malformed layer flag is the layer's error, exit status 1 */
	assert_int_equal(PARSE(&p, msg, "--dir", "/x"), 1);
	assert_string_equal(msg, "rootfs-fuse: --dir: needs 4 arguments\n");
	cli_layers_free(&cl);
	/* a command without layer flags or export options: they are unknown arguments */
	struct cli_args q = {.cmd = "y", .opts = opts};
	assert_int_equal(PARSE(&q, msg, "--compress", "zstd"), 2);
	assert_string_equal(msg, "rootfs-fuse: y: unknown argument '--compress' (see y --help)\n");
	assert_int_equal(PARSE(&q, msg, "--state", "S"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_flags_values_aliases, reset),
	    cmocka_unit_test_setup(test_bad_values, reset),
	    cmocka_unit_test_setup(test_unknown_and_positionals, reset),
	    cmocka_unit_test_setup(test_rest_and_help, reset),
	    cmocka_unit_test_setup(test_layer_flags_and_export_options, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
