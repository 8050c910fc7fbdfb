/* rootfs-fuse: build, edit, inspect and boot guest root filesystems without root.
 * Dispatches to the subcommands of commands.h; docs/rootfs-fuse.1 is the reference. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{"export", cmd_export, "serialize the view: initramfs cpio (gzip, zstd, xz, lz4), ext4, qcow2, iso"},
	{"ls", cmd_ls, "list the merged view, one path a line (--long: metadata and layer)"},
	{"boot", cmd_boot, "export the view and boot it under qemu-system-x86_64"},
	{"du", cmd_du, "what each file, directory, layer or cpio segment costs (--html treemap)"},
	{"diff", cmd_diff, "paths added, removed and changed between two SPECs or images"},
	{"mount", cmd_mount, "mount the view with a copy-on-write upper layer (FUSE, no root)"},
	{"umount", cmd_umount, "unmount a view mounted by rootfs-fuse mount"},
	{"mknod", cmd_mknod, "make a device node in a mount as an ordinary user"},
	{"shell", cmd_shell, "run a command in which mknod of devices works in mounts"},
	{"ldd", cmd_ldd, "show the shared libraries a host binary needs, without running it"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rootfs-fuse COMMAND [SPEC] [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'rootfs-fuse COMMAND --help' for a command's options; man rootfs-fuse for "
		   "the SPEC format.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("rootfs-fuse " RF_VERSION "\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "rootfs-fuse: unknown command '%s' (see rootfs-fuse --help)\n", argv[1]);
	return 2;
}
