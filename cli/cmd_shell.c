/* rootfs-fuse shell: run a command in which mknod(2) of devices works inside rootfs-fuse
 * mounts for an ordinary user (intercept/supervisor.h; docs/mount.md, "Device nodes"). */
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "commands.h"
#include "opts.h"
#include "supervisor.h"

static void help(void)
{
	printf("usage: rootfs-fuse shell [-- CMD [ARG...]]\n\n"
	       "Run CMD (default: $SHELL, else /bin/sh) so that mknod(2) of character and\n"
	       "block devices works inside rootfs-fuse mounts as an ordinary user, for\n"
	       "static binaries too (mknod, busybox mknod, tar -x, cpio -i): a seccomp\n"
	       "supervisor makes the node through the mount, with the caller's umask.\n"
	       "Elsewhere mknod behaves as without it. Exits with CMD's status (128+N when\n"
	       "killed by signal N; 127 when CMD is not found, 126 when not executable).\n");
}

int cmd_shell(int argc, char **argv)
{
	struct cli_args args = {.cmd = "shell", .has_rest = true, .help = help};
	int status = cli_args_parse(&args, argc, argv);
	if (status)
		return status == CLI_ARGS_HELP ? 0 : status;
	char *sh = getenv("SHELL");
	char *dflt[] = {sh && *sh ? sh : "/bin/sh", NULL};
	char **cmd = args.n_rest ? args.rest : dflt;
	struct rf_err err = {0};
	if (icpt_run(cmd, &status, &err))
		cli_fail(&err);
	return status;
}
