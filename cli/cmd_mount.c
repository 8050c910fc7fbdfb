/* rootfs-fuse mount / umount: mount the merged view of a SPEC with its copy-on-write upper
 * layer (fs/fs.h; docs/mount.md), and take it down again. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

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
			status =
			    cli_usage_error("mount: unknown argument '%s' (see mount --help)", a);
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

/* The xattr fs/ops_xattr.c answers (FS_MKNOD_XATTR there). */
#define MKNOD_XATTR "user.rootfs-fuse.mknod"

int cmd_mknod(int argc, char **argv)
{
	const char *path = NULL, *type = NULL, *nums[2] = {NULL, NULL};
	unsigned perm = 0666 & ~(unsigned)umask(022);
	int n_nums = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf(
			    "usage: rootfs-fuse mknod PATH c|b|p|s [MAJOR MINOR] [-m MODE]\n\n"
			    "Make a device node, fifo or socket inside a rootfs-fuse mount as an\n"
			    "ordinary user (the kernel keeps mknod(2) of devices for root). It is\n"
			    "owned by the guest's root and shows in stat, ls -l and every "
			    "export.\n");
			return 0;
		}
		if (!strcmp(a, "-m") && i + 1 < argc) {
			char *end;
			perm = (unsigned)strtoul(argv[++i], &end, 8);
			if (*end || perm > 07777)
				return cli_usage_error("mknod: bad mode '%s' (octal)", argv[i]);
		} else if (!path) {
			path = a;
		} else if (!type) {
			type = a;
		} else if (n_nums < 2) {
			nums[n_nums++] = a;
		} else {
			return cli_usage_error("mknod: unexpected argument '%s'", a);
		}
	}
	if (!path || !type || strlen(type) != 1 || !strchr("cbups", type[0]))
		return cli_usage_error("mknod: give PATH and c|b|p|s (see mknod --help)");
	bool is_dev = type[0] == 'c' || type[0] == 'b' || type[0] == 'u';
	if (is_dev != (n_nums == 2))
		return cli_usage_error("mknod: MAJOR and MINOR go with c and b only");
	unsigned fmt = type[0] == 'b'	? S_IFBLK
		       : type[0] == 'p' ? S_IFIFO
		       : type[0] == 's' ? S_IFSOCK
					: S_IFCHR;
	unsigned long maj = is_dev ? strtoul(nums[0], NULL, 0) : 0;
	unsigned long min = is_dev ? strtoul(nums[1], NULL, 0) : 0;
	char *copy = strdup(path);
	if (!copy)
		return cli_usage_error("out of memory");
	char *slash = strrchr(copy, '/');
	const char *dir = ".", *name = copy;
	if (slash) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		name = slash + 1;
	}
	struct rf_err err = {0};
	char probe[8], val[PATH_MAX];
	int status = 0;
	if (!*name || getxattr(dir, MKNOD_XATTR, probe, sizeof(probe)) != 1) {
		rf_err_set(&err, EINVAL, "%s: not inside a rootfs-fuse mount (mknod(1) elsewhere)",
			   path);
		status = cli_fail(&err);
	} else {
		snprintf(val, sizeof(val), "%s 0%o %lu %lu", name, fmt | perm, maj, min);
		if (setxattr(dir, MKNOD_XATTR, val, strlen(val), 0)) {
			rf_err_errno(&err, errno, "%s", path);
			status = cli_fail(&err);
		}
	}
	free(copy);
	return status;
}
