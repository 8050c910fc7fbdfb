/* The rootfs-fuse subcommands. Each takes the argument vector after the program name
 * (argv[0] is the command name) and returns the process exit status. */
#ifndef RF_COMMANDS_H
#define RF_COMMANDS_H

int cmd_export(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_mknod(int argc, char **argv);

#endif
