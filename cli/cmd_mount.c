/* rootfs-fuse mount / umount: mount the merged view of a SPEC with its copy-on-write upper
 * layer (fs/fs.h; docs/mount.md), and take it down again. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "expopts.h"
#include "exporter.h"
#include "fs.h"
#include "opts.h"
#include "path.h"
#include "state.h"
#include "view.h"
#include "xmknod.h"

static void help(void)
{
	printf("usage: rootfs-fuse mount [SPEC] [LAYER FLAGS] MNT [--state DIR] [--foreground]\n"
	       "                        [-o FUSE_OPTIONS] [--export NAME]...\n\n"
	       "Mount the merged view of the layers at the empty directory MNT with a\n"
	       "copy-on-write upper layer in STATE/upper (default STATE: the SPEC's name with\n"
	       ".state for .spec). Inside, the mounting user acts as the guest's root: chown,\n"
	       "chmod u+s and mkfifo work and are kept in user xattrs; so does mknod of\n"
	       "devices under 'rootfs-fuse shell' (or with 'rootfs-fuse mknod'). export, ls\n"
	       "and boot of the SPEC include the upper layer. Detaches once mounted.\n"
	       "MNT/.rootfs-fuse/ (hidden) holds the exports of the current view.\n\n"
	       "  -f, --foreground   stay in the foreground\n"
	       "  -o OPTS            FUSE mount options, e.g. allow_other,default_permissions\n"
	       "  --state DIR        the state directory\n"
	       "  --export NAME      offer MNT/.rootfs-fuse/NAME, the current view exported in\n"
	       "                     the format NAME's suffix names (.cpio.gz, .cpio.zst,\n"
	       "                     .ext4, .qcow2, .iso...); repeatable; default:\n"
	       "                     initramfs.cpio.gz\n\n");
	cli_print_layer_flags();
}

/* Names the control directory offers without --export. */
#define MAX_EXPORTS 16

/* What the export callback needs besides the mount's lower view: where the upper layer and the
 * segment cache live, as absolute paths (the daemon's working directory is / by then), and
 * the command line with the directory it was given in, to build the view again when a host
 * file of the lower layers changed (parsed again each time: building consumes the flags). */
struct mount_export {
	char *upper_dir;
	char *cache_dir;
	int argc;
	char **argv;
	int cwd_fd;
};

struct mount_args {
	struct cli_layers cl;
	struct rf_fs_options o;
	const char *names[MAX_EXPORTS + 1];
	size_t n_names;
	bool is_help;
};

/* Is name something the control directory can offer: a plain file name whose suffix picks an
 * exporter? */
static bool export_name_ok(const char *name)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	size_t nl = strlen(name);
	for (const struct exporter_ops *const *f = exp_formats(); *f; f++)
		for (const char *const *sx = (*f)->suffixes; sx && *sx; sx++) {
			size_t sl = strlen(*sx);
			if (nl > sl && !strcmp(name + nl - sl, *sx))
				return true;
		}
	return false;
}

#define EXPORT_NAME_MSG                                                                            \
	"needs a file name ending in .cpio.gz, .cpio.zst, .cpio.xz, .cpio.lz4, .cpio, .ext4, "     \
	".img, .qcow2 or .iso"

/* --export NAME: one more name for the control directory */
static int export_option(void *dest, const char *val, struct rf_err *err)
{
	struct mount_args *a = dest;
	if (!export_name_ok(val))
		return -EINVAL;
	if (a->n_names == MAX_EXPORTS)
		return rf_err_set(err, E2BIG, "at most %d --export names", MAX_EXPORTS);
	a->names[a->n_names++] = val;
	return 0;
}

/* Parse the mount command line into a. Returns 0, or the exit status after printing a usage
 * error (quiet: print nothing, for the daemon's second parse). */
static int parse_args(int argc, char **argv, struct mount_args *a, bool quiet)
{
	const char *pos[2] = {NULL, NULL};
	const struct cli_opt opts[] = {
	    CLI_OPT("--foreground", "-f", CLI_OPT_SET, &a->o.foreground),
	    CLI_OPT_MSG("-o", NULL, CLI_OPT_STRING, &a->o.fuse_opts, NULL, "needs FUSE options"),
	    CLI_OPT_MSG("--export", NULL, CLI_OPT_CALL, a, export_option, EXPORT_NAME_MSG),
	    {0},
	};
	struct cli_args args = {.cmd = "mount",
				.opts = opts,
				.layers = &a->cl,
				.pos = pos,
				.max_pos = 2,
				.quiet = quiet};
	int status = cli_args_parse(&args, argc, argv);
	if (status == CLI_ARGS_HELP)
		a->is_help = true;
	if (status)
		return a->is_help ? 0 : status;
	int n_pos = args.n_pos;
	/* SPEC MNT, or MNT alone with layer flags */
	if (n_pos == 2) {
		a->cl.spec_path = pos[0];
		a->o.mountpoint = pos[1];
	} else if (n_pos == 1 && a->cl.has_layers) {
		a->o.mountpoint = pos[0];
	} else {
		return quiet ? 2 : cli_usage_error("mount: give SPEC and MNT (see mount --help)");
	}
	if (!a->n_names)
		a->names[a->n_names++] = "initramfs.cpio.gz";
	a->o.export_names = a->names;
	a->o.state_dir = cli_state_dir(&a->cl);
	if (!a->o.state_dir)
		return quiet ? 2
			     : cli_usage_error("mount: without a SPEC, --state DIR is required");
	return 0;
}

/* The whole view built again from the command line, as `rootfs-fuse export SPEC` builds it
 * (the SPEC, flags and --state may name paths relative to where mount was run; the daemon
 * goes back afterwards so it keeps no directory busy between exports). */
static int build_again(struct mount_export *m, const char *name, struct ovl_view **out,
		       struct rf_err *err)
{
	struct mount_args a = {0};
	int back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (back < 0 || fchdir(m->cwd_fd)) {
		int e = errno;
		if (back >= 0)
			close(back);
		return rf_err_errno(err, e, "the mount's working directory");
	}
	int r = parse_args(m->argc, m->argv, &a, true)
		    ? rf_err_set(err, EINVAL, "%s: the mount's command line no longer parses", name)
		    : cli_build_view(&a.cl, out, err);
	cli_layers_free(&a.cl);
	if (fchdir(back) && !r) {
		r = rf_err_errno(err, errno, "back from the mount's working directory");
		ovl_view_free(*out);
		*out = NULL;
	}
	close(back);
	return r;
}

/* The control directory's export (fs.h): the view `rootfs-fuse export SPEC` would build, with
 * the segment cache of STATE/cache. Usually made from the mount's lower view (kept: the SPEC
 * and the lower layers are not read again) with STATE/upper stacked on a copy of it, and a
 * cpio export stays pieces of the cache's entries. When a host file of the lower layers
 * changed since the mount (a module rebuilt in place), the view is built again from the
 * command line instead, so the export holds the file as it is now. */
static int export_view(void *arg, const struct ovl_view *lower, bool is_lower_stale,
		       const char *name, int fd, struct exp_pieces *pieces, struct rf_err *err)
{
	struct mount_export *m = arg;
	struct ovl_view *v = NULL;
	int r;
	if (is_lower_stale) {
		r = build_again(m, name, &v, err);
	} else {
		r = ovl_view_clone(lower, &v) ? rf_err_set(err, ENOMEM, "out of memory") : 0;
		if (!r)
			r = ovl_view_add_upper(v, m->upper_dir, err);
	}
	struct exp_options eo = {
	    .level = -1, .quiet = true, .cache_dir = m->cache_dir, .pieces = pieces};
	if (!r)
		r = exp_export_fd(v, fd, name, &eo, err);
	ovl_view_free(v);
	return r;
}

/* m's paths from the parsed command line: absolute, so they survive the daemon's chdir("/"). */
static int export_paths(struct mount_args *a, struct mount_export *m, struct rf_err *err)
{
	char *cwd = getcwd(NULL, 0);
	char *state = cwd ? path_host_resolve(cwd, a->o.state_dir) : NULL;
	int r = state ? 0 : rf_err_errno(err, cwd ? ENOMEM : errno, "the working directory");
	if (!r && (!(m->upper_dir = state_sub(state, STATE_UPPER)) ||
		   !(m->cache_dir = state_sub(state, STATE_CACHE))))
		r = rf_err_set(err, ENOMEM, "out of memory");
	free(state);
	free(cwd);
	return r;
}

int cmd_mount(int argc, char **argv)
{
	struct mount_args a = {0};
	struct rf_err err = {0};
	struct mount_export m = {.argc = argc, .argv = argv, .cwd_fd = -1};
	int status = parse_args(argc, argv, &a, false);
	if (status || a.is_help) {
		if (a.is_help)
			help();
		goto out;
	}
	m.cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (m.cwd_fd < 0 ? rf_err_errno(&err, errno, "the working directory")
			 : export_paths(&a, &m, &err)) {
		status = cli_fail(&err);
		goto out;
	}
	a.o.export = export_view;
	a.o.export_arg = &m;
	struct ovl_view *v = NULL;
	if (cli_build_lower_view(&a.cl, &v, &err)) {
		status = cli_fail(&err);
		goto out;
	}
	if (rf_fs_mount(v, &a.o, &err))
		status = cli_fail(&err);
out:
	if (m.cwd_fd >= 0)
		close(m.cwd_fd);
	free(m.upper_dir);
	free(m.cache_dir);
	cli_layers_free(&a.cl);
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
			    "export.\n"
			    "Under 'rootfs-fuse shell' plain mknod, tar -x and cpio -i do the "
			    "same.\n");
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
	int status = 0;
	int dfd = *name ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd < 0 || !xmknod_is_mount_dir(dfd)) {
		rf_err_set(&err, EINVAL, "%s: not inside a rootfs-fuse mount (mknod(1) elsewhere)",
			   path);
		status = cli_fail(&err);
	} else if (xmknod_make(dfd, name, fmt | perm, (unsigned)maj, (unsigned)min, path, &err)) {
		status = cli_fail(&err);
	}
	if (dfd >= 0)
		close(dfd);
	free(copy);
	return status;
}
