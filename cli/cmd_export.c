/* rootfs-fuse export: serialize the merged view to a file, format from the output's suffix or
 * --format, written to a temporary name and renamed (see exporters/exporter.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "exporter.h"
#include "expopts.h"
#include "opts.h"
#include "target.h"
#include "view.h"

static void help(void)
{
	printf("usage: rootfs-fuse export [SPEC] [LAYER FLAGS] -o OUT [OPTIONS]\n\n"
	       "Write the merged view to OUT. The format comes from OUT's suffix (.cpio,\n"
	       ".cpio.gz, .cpio.zst, .cpio.xz, .cpio.lz4, .ext4, .img, .qcow2, .iso) or --format.\n\n"
	       "  -o, --output OUT     the file to write (via a temporary name and a rename)\n"
	       "  --format FMT         cpio, ext4, qcow2 or iso\n");
	cli_print_export_options();
	printf("  --size SIZE          ext4/qcow2: filesystem size (K, M, G, T suffixes);\n"
	       "                       default: what the view needs plus headroom\n"
	       "  --partition gpt|mbr  ext4/qcow2: a disk with one partition holding the\n"
	       "                       filesystem at 1 MiB instead of a bare filesystem\n"
	       "  --uuid UUID          ext4/qcow2: filesystem UUID (default: from the content)\n"
	       "  --quiet              no progress line\n"
	       "  --kernel BZIMAGE     iso: make it El Torito bootable (isolinux) with this kernel\n"
	       "  --append ARGS        kernel command line after the console (iso, --target)\n"
	       "  --target T           qemu, cloud-hypervisor, akaros or xen: check that T\n"
	       "                       boots the export and write its launch file beside OUT\n"
	       "                       (OUT.qemu.sh, OUT.ch.sh, OUT.akaros.sh, OUT.xl.cfg)\n\n"
	       "With a SPEC, cpio segments are cached in STATE/cache (the state directory is\n"
	       "beside the SPEC or --state DIR).\n"
	       "SOURCE_DATE_EPOCH, when set, becomes every entry's mtime (and the ext4\n"
	       "superblock times).\n\n");
	cli_print_layer_flags();
}

/* Resolve the kernel, classify it and let the target refuse what its monitor cannot boot,
 * before anything is written. *kernel_abs is owned by the caller. */
static int prepare_target(const struct target_ops *t, const char *out_path,
			  const struct exp_options *o, struct target_launch *l, char **kernel_abs,
			  struct rf_err *err)
{
	const char *compress;
	l->out_path = out_path;
	l->format = o->format ? o->format : exp_from_suffix(out_path, &compress)->name;
	if (!exp_find(l->format))
		return rf_err_set(err, EINVAL, "unknown export format '%s'", l->format);
	l->append = o->append;
	l->kernel_kind = TARGET_KERNEL_NONE;
	if (o->kernel) {
		*kernel_abs = realpath(o->kernel, NULL);
		if (!*kernel_abs)
			return rf_err_errno(err, errno, "%s", o->kernel);
		l->kernel = *kernel_abs;
		int r = target_kernel_kind(l->kernel, &l->kernel_kind, err);
		if (r)
			return r;
	}
	return t->check(l, err);
}

int cmd_export(int argc, char **argv)
{
	struct cli_layers cl = {0};
	struct rf_err err = {0};
	struct exp_options o = {.level = -1};
	const char *out_path = NULL;
	const char *target_name = NULL;
	struct target_launch launch = {0};
	const struct target_ops *target = NULL;
	char *kernel_abs = NULL;
	char *cache_dir = NULL;
	int status = 0;
	const struct cli_opt opts[] = {
	    CLI_OPT("--output", "-o", CLI_OPT_STRING, &out_path),
	    CLI_OPT("--format", NULL, CLI_OPT_STRING, &o.format),
	    CLI_OPT("--target", NULL, CLI_OPT_STRING, &target_name),
	    CLI_OPT("--kernel", NULL, CLI_OPT_STRING, &o.kernel),
	    CLI_OPT("--append", NULL, CLI_OPT_STRING, &o.append),
	    CLI_OPT("--quiet", "-q", CLI_OPT_SET, &o.quiet),
	    CLI_OPT("--size", NULL, CLI_OPT_SIZE, &o.size_bytes),
	    CLI_OPT("--partition", NULL, CLI_OPT_STRING, &o.partition),
	    CLI_OPT("--uuid", NULL, CLI_OPT_STRING, &o.uuid),
	    {0},
	};
	struct cli_args args = {.cmd = "export",
				.opts = opts,
				.layers = &cl,
				.exp = &o,
				.pos = &cl.spec_path,
				.max_pos = 1,
				.help = help};
	if ((status = cli_args_parse(&args, argc, argv))) {
		status = status == CLI_ARGS_HELP ? 0 : status;
		goto out;
	}
	if (!out_path) {
		status = cli_usage_error("export: -o OUT is required (see export --help)");
		goto out;
	}
	if (!cl.spec_path && !cl.has_layers) {
		status = cli_usage_error("export: give a SPEC or layer flags (see export --help)");
		goto out;
	}
	if (target_name) {
		target = target_find(target_name);
		if (!target) {
			status = cli_usage_error("export: unknown target '%s' (%s)", target_name,
						 target_names());
			goto out;
		}
		if (prepare_target(target, out_path, &o, &launch, &kernel_abs, &err)) {
			status = cli_fail(&err);
			goto out;
		}
	}
	long long epoch;
	int e = cli_source_date_epoch(&epoch);
	if (e < 0) {
		status = cli_usage_error("SOURCE_DATE_EPOCH must be a non-negative integer");
		goto out;
	}
	o.has_epoch = e > 0;
	o.epoch = e > 0 ? epoch : 0;
	if (cli_export_cache(&cl, &o, &cache_dir)) {
		status = cli_usage_error("out of memory");
		goto out;
	}
	struct ovl_view *v = NULL;
	if (cli_build_view(&cl, &v, &err)) {
		status = cli_fail(&err);
		goto out;
	}
	if (exp_export_file(v, out_path, &o, &err) || (target && target->write(&launch, &err)))
		status = cli_fail(&err);
	ovl_view_free(v);
out:
	free(kernel_abs);
	free(cache_dir);
	cli_layers_free(&cl);
	return status;
}
