/* rootfs-fuse du: what each directory, file, layer or cpio segment of a SPEC or an image
 * costs, apparent and (for a compressed initramfs) compressed, largest first, as du(1) and
 * ncdu show it; --json for scripts, --html for a self-contained treemap page. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "du.h"
#include "opts.h"
#include "output.h"
#include "readers.h"
#include "view.h"

int cli_du_load(struct cli_layers *cl, const char *target, const struct insp_opts *o,
		struct du_tree **out, struct rf_err *err)
{
	const char *kind = "spec";
	int r;
	if (target && (r = insp_detect(target, &kind, err)))
		return r;
	if (strcmp(kind, "spec") && !cl->has_layers)
		return insp_load(target, o, out, err);
	if (strcmp(kind, "spec"))
		return rf_err_set(err, EINVAL, "%s: layer flags go with a SPEC, not an image",
				  target);
	/* a SPEC (and/or layer flags): the merged view with the state's upper layer */
	struct ovl_view *v = NULL;
	struct du_tree *t = NULL;
	cl->spec_path = target;
	if ((r = cli_build_view(cl, &v, err)))
		return r;
	if (du_tree_new(target ? target : "(layer flags)", "view", &t)) {
		ovl_view_free(v);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	r = insp_read_view(v, t, o, err);
	ovl_view_free(v);
	if (r) {
		du_tree_free(t);
		return r;
	}
	du_tree_finish(t);
	*out = t;
	return 0;
}

static void help(void)
{
	printf(
	    "usage: rootfs-fuse du TARGET [OPTIONS]\n\n"
	    "What each directory and file of TARGET costs, largest first. TARGET is a SPEC\n"
	    "(with layer flags too), a directory (a mount point), an initramfs (cpio\n"
	    "segments, each uncompressed or compressed with gzip, zstd, xz, lzma, bzip2 or\n"
	    "lz4, concatenated as the kernel accepts them), an ISO, or an ext4 raw/qcow2 image.\n"
	    "For a compressed initramfs each entry also shows the compressed bytes its data\n"
	    "costs; cpio headers, padding and compression framing get a line of their own.\n"
	    "For an ISO each entry shows the image bytes its extents take; volume descriptors,\n"
	    "directory records and padding get a line of their own.\n\n"
	    "  --depth N      show N levels below the root (default: all)\n"
	    "  --top N        per directory, the N largest entries and one line for the rest\n"
	    "  --bytes        exact byte counts (default: K, M, G as du -h)\n"
	    "  --by layer     group by layer (SPEC: the layer's label, inside a host layer each\n"
	    "                 binary with its libraries, inside a modules layer each module\n"
	    "                 with its dependencies, inside a tcz layer each package;\n"
	    "                 initramfs: the segment)\n"
	    "  --json         print JSON instead of text\n"
	    "  --html FILE    also write a self-contained HTML page with a zoomable treemap\n"
	    "  --partial      on a damaged image, still report what could be read (exit 1)\n\n");
	cli_print_layer_flags();
}

#define NUM_MSG "needs a non-negative number"

/* --by: the only grouping is by layer */
static int by_option(void *dest, const char *val, struct rf_err *err)
{
	(void)err;
	if (strcmp(val, "layer"))
		return -EINVAL;
	*(bool *)dest = true;
	return 0;
}

int cmd_du(int argc, char **argv)
{
	struct cli_layers cl = {0};
	struct rf_err err = {0};
	struct insp_opts o = {0};
	struct du_print_opts po = {.max_depth = -1};
	const char *target = NULL, *html = NULL;
	bool is_json = false;
	struct du_tree *t = NULL;
	int status = 0;
	size_t depth = SIZE_MAX;
	const struct cli_opt opts[] = {
	    CLI_OPT_MSG("--depth", "-d", CLI_OPT_COUNT, &depth, NULL, NUM_MSG),
	    CLI_OPT_MSG("--top", NULL, CLI_OPT_COUNT, &po.top, NULL, NUM_MSG),
	    CLI_OPT("--bytes", "-b", CLI_OPT_SET, &po.is_bytes),
	    CLI_OPT("--human", NULL, CLI_OPT_CLEAR, &po.is_bytes),
	    CLI_OPT_MSG("--by", NULL, CLI_OPT_CALL, &o.by_layer, by_option, "takes 'layer'"),
	    CLI_OPT("--json", NULL, CLI_OPT_SET, &is_json),
	    CLI_OPT_MSG("--html", NULL, CLI_OPT_STRING, &html, NULL, "needs a FILE"),
	    CLI_OPT("--partial", NULL, CLI_OPT_SET, &o.partial),
	    {0},
	};
	struct cli_args args = {
	    .cmd = "du", .opts = opts, .layers = &cl, .pos = &target, .max_pos = 1, .help = help};
	if ((status = cli_args_parse(&args, argc, argv))) {
		status = status == CLI_ARGS_HELP ? 0 : status;
		goto out;
	}
	if (depth != SIZE_MAX)
		po.max_depth = (int)(depth > 1000000 ? 1000000 : depth);
	if (!target && !cl.has_layers) {
		status = cli_usage_error("du: give a TARGET (see du --help)");
		goto out;
	}
	int r = cli_du_load(&cl, target, &o, &t, &err);
	if (r && !t) {
		status = cli_fail(&err);
		goto out;
	}
	if (html) {
		struct rf_err herr = {0};
		if (du_write_html(html, t, &po, &herr)) {
			status = cli_fail(&herr);
			goto out;
		}
	}
	if ((is_json ? du_print_json(stdout, t, &po) : du_print_text(stdout, t, &po)) ||
	    fflush(stdout)) {
		struct rf_err werr = {0};
		rf_err_set(&werr, EIO, "du: cannot write the report: %s", strerror(errno));
		status = cli_fail(&werr);
		goto out;
	}
	if (r)
		status =
		    cli_fail(&err); /* --partial: the report of what was read, then the error */
out:
	du_tree_free(t);
	cli_layers_free(&cl);
	return status;
}
