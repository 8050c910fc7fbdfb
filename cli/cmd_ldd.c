/* placeholder until the real ldd command lands */
#include <stdio.h>
#include "commands.h"
int cmd_ldd(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rootfs-fuse: ldd: not built yet\n");
	return 1;
}
