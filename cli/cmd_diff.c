/* rootfs-fuse diff A B: paths added, removed and changed between two SPECs or images (any
 * TARGET du reads), with apparent (and, for two compressed initramfs, compressed) deltas,
 * largest first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "diff.h"
#include "du.h"
#include "opts.h"
#include "readers.h"

static void help(void)
{
	printf("usage: rootfs-fuse diff A B [--bytes] [--top N] [--json]\n\n"
	       "Paths added (+), removed (-) and changed (~) from A to B, with size deltas,\n"
	       "largest first. A and B are anything 'rootfs-fuse du' reads: SPECs,\n"
	       "directories, initramfs images (compressed or not), ISOs, ext4/qcow2 images.\n\n"
	       "  --bytes      exact byte counts\n"
	       "  --top N      only the N largest changes\n"
	       "  --json       print JSON instead of text\n");
}

int cmd_diff(int argc, char **argv)
{
	const char *targets[2] = {NULL, NULL};
	bool is_bytes = false, is_json = false;
	size_t top = 0;
	struct du_tree *t[2] = {NULL, NULL};
	struct du_diff *d = NULL;
	int status = 0;
	const struct cli_opt opts[] = {
	    CLI_OPT("--bytes", "-b", CLI_OPT_SET, &is_bytes),
	    CLI_OPT("--json", NULL, CLI_OPT_SET, &is_json),
	    CLI_OPT_MSG("--top", NULL, CLI_OPT_COUNT, &top, NULL, "needs a non-negative number"),
	    {0},
	};
	struct cli_args args = {
	    .cmd = "diff", .opts = opts, .pos = targets, .max_pos = 2, .help = help};
	if ((status = cli_args_parse(&args, argc, argv)))
		return status == CLI_ARGS_HELP ? 0 : status;
	if (!targets[1])
		return cli_usage_error("diff: give two targets A and B (see diff --help)");
	struct insp_opts o = {.digest = true}; /* content changes at equal size count */
	for (int k = 0; k < 2; k++) {
		struct cli_layers cl = {0};
		struct rf_err err = {0};
		int r = cli_du_load(&cl, targets[k], &o, &t[k], &err);
		cli_layers_free(&cl);
		if (r) {
			status = cli_fail(&err);
			goto out;
		}
	}
	if (du_diff_compute(t[0], t[1], &d)) {
		status = cli_usage_error("out of memory");
		goto out;
	}
	if ((is_json ? du_diff_print_json(stdout, d, top)
		     : du_diff_print_text(stdout, d, is_bytes, top)) ||
	    fflush(stdout))
		status = 1;
out:
	du_diff_free(d);
	du_tree_free(t[0]);
	du_tree_free(t[1]);
	return status;
}
