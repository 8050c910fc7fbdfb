/* rootfs-fuse export: serialize the merged view to a file, format from the output's suffix or
 * --format, written to a temporary name and renamed (see exporters/exporter.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exporter.h"
#include "opts.h"
#include "view.h"

static void help(void)
{
	printf("usage: rootfs-fuse export [SPEC] [LAYER FLAGS] -o OUT [OPTIONS]\n\n"
	       "Write the merged view to OUT. The format comes from OUT's suffix (.cpio,\n"
	       ".cpio.gz, .cpio.zst, .cpio.xz, .cpio.lz4, .ext4, .img, .qcow2) or --format.\n\n"
	       "  -o, --output OUT     the file to write (via a temporary name and a rename)\n"
	       "  --format FMT         cpio, ext4 or qcow2\n"
	       "  --compress ALG       cpio: gzip (default), zstd, xz, lz4 or none;\n"
	       "                       qcow2: deflate (compressed clusters) or none (default)\n"
	       "  --level N            compression level (default: the compressor's)\n"
	       "  --threads N          compression threads (default: all CPUs)\n"
	       "  --size SIZE          ext4/qcow2: filesystem size (K, M, G, T suffixes);\n"
	       "                       default: what the view needs plus headroom\n"
	       "  --partition gpt|mbr  ext4/qcow2: a disk with one partition holding the\n"
	       "                       filesystem at 1 MiB instead of a bare filesystem\n"
	       "  --uuid UUID          ext4/qcow2: filesystem UUID (default: from the content)\n"
	       "  --quiet              no progress line\n\n"
	       "SOURCE_DATE_EPOCH, when set, becomes every entry's mtime (and the ext4\n"
	       "superblock times).\n\n");
	cli_print_layer_flags();
}

/* "64M", "1G", "4096": bytes; 0 when malformed. */
static uint64_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return 0;
	unsigned shift = 0;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' && shift)
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return 0;
	return (uint64_t)v << shift;
}

int cmd_export(int argc, char **argv)
{
	struct cli_layers cl = {0};
	struct rf_err err = {0};
	struct exp_options o = {.level = -1};
	const char *out_path = NULL;
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
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help();
			goto out;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			out_path = val;
			i++;
		} else if (!strcmp(a, "--format")) {
			o.format = val;
			i++;
		} else if (!strcmp(a, "--compress")) {
			o.compress = val;
			i++;
		} else if (!strcmp(a, "--level")) {
			o.level = val ? atoi(val) : -1;
			i++;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			o.quiet = true;
			continue;
		} else if (!strcmp(a, "--size")) {
			if (val && !(o.size_bytes = parse_size(val))) {
				status = cli_usage_error("export: --size '%s' is not a size (e.g. 512M, 2G)",
							 val);
				goto out;
			}
			i++;
		} else if (!strcmp(a, "--partition")) {
			o.partition = val;
			i++;
		} else if (!strcmp(a, "--uuid")) {
			o.uuid = val;
			i++;
		} else if (!strcmp(a, "--threads")) {
			o.threads = val ? (unsigned)atoi(val) : 0;
			i++;
		} else if (a[0] != '-' && !cl.spec_path) {
			cl.spec_path = a;
			continue;
		} else {
			status = cli_usage_error("export: unknown argument '%s' (see export --help)",
						 a);
			goto out;
		}
		if (!val) {
			status = cli_usage_error("export: %s needs a value", a);
			goto out;
		}
	}
	if (!out_path) {
		status = cli_usage_error("export: -o OUT is required (see export --help)");
		goto out;
	}
	if (!cl.spec_path && !cl.has_layers) {
		status = cli_usage_error("export: give a SPEC or layer flags (see export --help)");
		goto out;
	}
	long long epoch;
	int e = cli_source_date_epoch(&epoch);
	if (e < 0) {
		status = cli_usage_error("SOURCE_DATE_EPOCH must be a non-negative integer");
		goto out;
	}
	o.has_epoch = e > 0;
	o.epoch = e > 0 ? epoch : 0;
	struct ovl_view *v = NULL;
	if (cli_build_view(&cl, &v, &err)) {
		status = cli_fail(&err);
		goto out;
	}
	if (exp_export_file(v, out_path, &o, &err))
		status = cli_fail(&err);
	ovl_view_free(v);
out:
	cli_layers_free(&cl);
	return status;
}
