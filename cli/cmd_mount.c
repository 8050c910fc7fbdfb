/* rootfs-fuse mount / umount: mount the merged view of a SPEC with its copy-on-write upper
 * layer (fs/fs.h; docs/mount.md), and take it down again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fs.h"
#include "opts.h"
#include "view.h"

static void help(void)
{
	printf("usage: rootfs-fuse mount [SPEC] [LAYER FLAGS] MNT [--state DIR] [--foreground]\n"
	       "                        [-o FUSE_OPTIONS]\n\n"
	       "Mount the merged view of the layers at the empty directory MNT with a\n"
	       "copy-on-write upper layer in STATE/upper (default STATE: the SPEC's name with\n"
	       ".state for .spec). Inside, the mounting user acts as the guest's root: chown,\n"
	       "chmod u+s, mknod and mkfifo work and are kept in user xattrs. export, ls and\n"
	       "boot of the SPEC include the upper layer. Detaches once mounted.\n\n"
	       "  -f, --foreground   stay in the foreground\n"
	       "  -o OPTS            FUSE mount options, e.g. allow_other,default_permissions\n"
	       "  --state DIR        the state directory\n\n");
	cli_print_layer_flags();
}

int cmd_mount(int argc, char **argv)
{
	struct cli_layers cl = {0};
	struct rf_err err = {0};
	struct rf_fs_options o = {0};
	const char *pos[2] = {NULL, NULL};
	int n_pos = 0, status = 0;
	for (int i = 1; i < argc;) {
		int r = cli_layer_flag(&cl, argc, argv, &i, &err);
		if (r < 0) {
			status = cli_fail(&err);
			goto out;
		}
		if (r)
			continue;
		const char *a = argv[i++];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help();
			goto out;
		} else if (!strcmp(a, "--foreground") || !strcmp(a, "-f")) {
			o.foreground = true;
		} else if (!strcmp(a, "-o")) {
			if (i >= argc) {
				status = cli_usage_error("mount: -o needs FUSE options");
				goto out;
			}
			o.fuse_opts = argv[i++];
		} else if (a[0] != '-' && n_pos < 2) {
			pos[n_pos++] = a;
		} else {
			status = cli_usage_error("mount: unknown argument '%s' (see mount --help)", a);
			goto out;
		}
	}
	/* SPEC MNT, or MNT alone with layer flags */
	if (n_pos == 2) {
		cl.spec_path = pos[0];
		o.mountpoint = pos[1];
	} else if (n_pos == 1 && cl.has_layers) {
		o.mountpoint = pos[0];
	} else {
		status = cli_usage_error("mount: give SPEC and MNT (see mount --help)");
		goto out;
	}
	o.state_dir = cli_state_dir(&cl);
	if (!o.state_dir) {
		status = cli_usage_error("mount: without a SPEC, --state DIR is required");
		goto out;
	}
	struct ovl_view *v = NULL;
	if (cli_build_lower_view(&cl, &v, &err)) {
		status = cli_fail(&err);
		goto out;
	}
	if (rf_fs_mount(v, &o, &err))
		status = cli_fail(&err);
out:
	cli_layers_free(&cl);
	return status;
}

int cmd_umount(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: rootfs-fuse umount MNT\n\nUnmount a view mounted with rootfs-fuse "
		       "mount; its daemon then exits.\n");
		return 0;
	}
	if (argc != 2)
		return cli_usage_error("umount: give the mount point (see umount --help)");
	struct rf_err err = {0};
	if (rf_fs_umount(argv[1], &err))
		return cli_fail(&err);
	return 0;
}
