/* The rootfs-fuse subcommands. Each takes the argument vector after the program name
 * (argv[0] is the command name) and returns the process exit status. */
#ifndef RF_COMMANDS_H
#define RF_COMMANDS_H

int cmd_export(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_du(int argc, char **argv);
int cmd_diff(int argc, char **argv);

struct cli_layers;
struct insp_opts;
struct du_tree;
struct rf_err;
/* The du tree of target for du and diff: a SPEC (target may be NULL with layer flags in cl) is
 * built as `ls` builds it (with its state's upper layer); anything else goes to insp_load.
 * *out is owned (du_tree_free); with o->partial it may be set although the return is a
 * negative errno (see insp_load). Defined in cmd_du.c. */
int cli_du_load(struct cli_layers *cl, const char *target, const struct insp_opts *o,
		struct du_tree **out, struct rf_err *err);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_mknod(int argc, char **argv);
int cmd_shell(int argc, char **argv);

#endif
