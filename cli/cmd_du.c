/* rootfs-fuse du: what each directory, file, layer or cpio segment of a SPEC or an image
 * costs, apparent and (for a compressed initramfs) compressed, largest first, as du(1) and
 * ncdu show it; --json for scripts, --html for a self-contained treemap page. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int parse_num(const char *opt, const char *s, long *v)
{
	char *end;
	errno = 0;
	*v = s ? strtol(s, &end, 10) : -1;
	if (!s || errno || *end || *v < 0)
		return cli_usage_error("du: %s needs a non-negative number", opt);
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
	for (int i = 1; i < argc;) {
		int r = cli_layer_flag(&cl, argc, argv, &i, &err);
		if (r < 0) {
			status = cli_fail(&err);
			goto out;
		}
		if (r)
			continue;
		const char *a = argv[i++];
		const char *val = i < argc ? argv[i] : NULL;
		long n;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help();
			goto out;
		} else if (!strcmp(a, "--depth") || !strcmp(a, "-d")) {
			if ((status = parse_num(a, val, &n)))
				goto out;
			po.max_depth = (int)(n > 1000000 ? 1000000 : n);
			i++;
		} else if (!strcmp(a, "--top")) {
			if ((status = parse_num(a, val, &n)))
				goto out;
			po.top = (size_t)n;
			i++;
		} else if (!strcmp(a, "--bytes") || !strcmp(a, "-b")) {
			po.is_bytes = true;
		} else if (!strcmp(a, "--human")) {
			po.is_bytes = false;
		} else if (!strcmp(a, "--by")) {
			if (!val || strcmp(val, "layer")) {
				status = cli_usage_error("du: --by takes 'layer'");
				goto out;
			}
			o.by_layer = true;
			i++;
		} else if (!strcmp(a, "--json")) {
			is_json = true;
		} else if (!strcmp(a, "--html")) {
			if (!val) {
				status = cli_usage_error("du: --html needs a FILE");
				goto out;
			}
			html = val;
			i++;
		} else if (!strcmp(a, "--partial")) {
			o.partial = true;
		} else if (a[0] != '-' && !target) {
			target = a;
		} else {
			status = cli_usage_error("du: unknown argument '%s' (see du --help)", a);
			goto out;
		}
	}
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
