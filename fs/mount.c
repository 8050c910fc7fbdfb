/* Mount setup of the FUSE frontend: checks of the mount point and state directory, the
 * libfuse3 low-level session (fuse_session_new, fuse_session_mount), detaching once the mount
 * is in place (fuse_daemonize) and the multi-threaded loop, as libfuse's
 * example/passthrough_ll.c sets them up. */
#include "fs.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void do_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* replies of reads go by splice from the host descriptor */
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	/* but without SPLICE_F_MOVE: the kernel then tries to steal each page into the FUSE page
	 * cache and falls back to copying; a first (cold) read of a 1 GiB lower file went from
	 * 1.3 to 2.4 GB/s without it (bench/fuse.sh, Linux 6.18) */
	conn->want &= ~FUSE_CAP_SPLICE_MOVE;
	/* writes go straight to the upper file; the kernel's write-back cache stays off so a
	 * SIGKILLed daemon loses nothing that a write(2) returned for */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* nothing changes behind the kernel's back (lower layers are immutable, the upper one
	 * changes only through us): no attribute checks before using cached pages and listings */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
}

/* libfuse's messages during setup become our one-line error instead of extra stderr lines. */
static char setup_msg[256];

static void capture_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	(void)level;
	/* a message may come in pieces: keep them together, one line */
	size_t l = strlen(setup_msg);
	if (l + 1 < sizeof(setup_msg))
		vsnprintf(setup_msg + l, sizeof(setup_msg) - l, fmt, ap);
	for (char *p = setup_msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

static bool has_option(const char *opts, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = opts; p && *p;) {
		size_t l = strcspn(p, ",");
		if (l == nl && !strncmp(p, name, nl))
			return true;
		p += l;
		if (*p)
			p++;
	}
	return false;
}

/* fusermount3 lets an ordinary user ask for allow_other only with user_allow_other in
 * /etc/fuse.conf; say so before it prints its own message. */
static int check_allow_other(const char *opts, struct rf_err *err)
{
	if (geteuid() == 0 || !(has_option(opts, "allow_other") || has_option(opts, "allow_root")))
		return 0;
	FILE *f = fopen("/etc/fuse.conf", "r");
	char line[256];
	bool is_allowed = false;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "user_allow_other", 16) &&
		    (line[16] == '\n' || line[16] == '\0' || line[16] == ' '))
			is_allowed = true;
	if (f)
		fclose(f);
	if (!is_allowed)
		return rf_err_set(err, EPERM,
				  "-o allow_other: an ordinary user needs 'user_allow_other' in "
				  "/etc/fuse.conf (or mount as root)");
	return 0;
}

static int mountpoint_error(const char *mnt, int e, struct rf_err *err)
{
	if (e == ENOTCONN)
		return rf_err_set(
		    err, ENOTCONN,
		    "%s: a dead mount is still there; run 'rootfs-fuse umount %s' first", mnt, mnt);
	return rf_err_errno(err, e, "mount point %s", mnt);
}

static int check_mountpoint(const char *mnt, struct rf_err *err)
{
	struct stat st;
	if (stat(mnt, &st))
		return mountpoint_error(mnt, errno, err);
	if (!S_ISDIR(st.st_mode))
		return rf_err_set(err, ENOTDIR, "mount point %s: not a directory", mnt);
	DIR *d = opendir(mnt);
	if (!d)
		return mountpoint_error(mnt, errno, err);
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			r = rf_err_set(err, ENOTEMPTY, "mount point %s: not empty", mnt);
			break;
		}
	closedir(d);
	return r;
}

/* One O_PATH descriptor per upper inode the kernel knows: allow as many as the system does. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int ctx_init(struct fs_ctx *c, struct ovl_view *lower, const char *state_dir,
		    struct rf_err *err)
{
	memset(c, 0, sizeof(*c));
	c->view = lower;
	int r = upper_open(state_dir, &c->upper, err);
	if (r)
		return r;
	if (fs_table_init(c))
		return rf_err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	c->owner_uid = getuid();
	c->owner_gid = getgid();
	struct fs_inode *root = &c->root;
	root->nlookup = 1;
	root->lower = ovl_view_root(lower);
	root->type = S_IFDIR;
	root->st_ino = root->lower->ino ? root->lower->ino : 1;
	root->upper_fd = dup(upper_root_fd(c->upper));
	if (root->upper_fd < 0)
		return rf_err_errno(err, errno, "%s", state_dir);
	struct stat st;
	if (fstat(root->upper_fd, &st))
		return rf_err_errno(err, errno, "%s", state_dir);
	root->up_dev = st.st_dev;
	root->up_ino = st.st_ino;
	root->is_opaque = upper_is_opaque(root->upper_fd);
	/* the upper root is a plain 0700 directory: give it the guest root's metadata once, so
	 * the mount and every export show the lower root's owner and mode */
	struct upper_stat us;
	if (!upper_stat(root->upper_fd, &us) && !us.has_override) {
		int e = upper_set_override(root->upper_fd, &root->lower->attr);
		if (e)
			return rf_err_errno(err, -e, "%s: setting the root's metadata", state_dir);
	}
	return 0;
}

static void ctx_free(struct fs_ctx *c)
{
	fs_table_free(c);
	if (c->root.upper_fd >= 0)
		close(c->root.upper_fd);
	fs_ctl_free(c);
	upper_close(c->upper);
	ovl_view_free(c->view);
	pthread_mutex_destroy(&c->lock);
}

int rf_fs_mount(struct ovl_view *lower, const struct rf_fs_options *o, struct rf_err *err)
{
	struct fs_ctx c;
	struct fuse_lowlevel_ops ops = {.init = do_init};
	char *opts = NULL;
	struct fuse_session *se = NULL;
	struct fuse_loop_config *cfg = NULL;
	bool is_mounted = false, has_handlers = false;
	int r = check_mountpoint(o->mountpoint, err);
	if (!r)
		r = check_allow_other(o->fuse_opts, err);
	if (r) {
		ovl_view_free(lower);
		return r;
	}
	c.root.upper_fd = -1;
	if ((r = ctx_init(&c, lower, o->state_dir, err)))
		goto out;
	if ((r = fs_ctl_new(&c, o, err)))
		goto out;
	if (has_option(o->fuse_opts, "default_permissions")) {
		/* the kernel checks permissions against the view's owners: nobody is mapped to
		 * root, a new file belongs to whoever made it */
		c.owner_uid = (uid_t)-1;
		c.owner_gid = (gid_t)-1;
	}
	raise_nofile();
	/* upper files get exactly the modes upper.c asks for */
	umask(0);
	fs_dir_ops(&ops);
	fs_file_ops(&ops);
	fs_xattr_ops(&ops);
	fs_ctl_ops(&c, &ops);
	if (asprintf(&opts, "fsname=rootfs-fuse,subtype=rootfs-fuse%s%s",
		     o->fuse_opts && *o->fuse_opts ? "," : "",
		     o->fuse_opts ? o->fuse_opts : "") < 0) {
		opts = NULL;
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	char *argv[] = {"rootfs-fuse", "-o", opts, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	setup_msg[0] = '\0';
	fuse_set_log_func(capture_log);
	se = fuse_session_new(&args, &ops, sizeof(ops), &c);
	fuse_opt_free_args(&args);
	if (!se) {
		r = rf_err_set(err, EINVAL, "-o %s: %s", o->fuse_opts ? o->fuse_opts : "",
			       setup_msg[0] ? setup_msg : "cannot start a FUSE session");
		goto out;
	}
	if (fuse_set_signal_handlers(se)) {
		r = rf_err_set(err, EIO, "cannot install signal handlers");
		goto out;
	}
	has_handlers = true;
	if (fuse_session_mount(se, o->mountpoint)) {
		r = rf_err_set(err, EIO, "%s: mounting failed: %s", o->mountpoint,
			       setup_msg[0] ? setup_msg
					    : "is /dev/fuse there and fusermount3 installed?");
		goto out;
	}
	/* from here on libfuse reports to stderr as usual */
	fuse_set_log_func(NULL);
	is_mounted = true;
	c.se = se;
	/* the mount is in place: from here the caller's terminal may go */
	if (fuse_daemonize(o->foreground)) {
		r = rf_err_set(err, EIO, "cannot detach from the terminal");
		goto out;
	}
	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	fuse_loop_cfg_set_max_threads(cfg, 16);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	if (fuse_session_loop_mt(se, cfg))
		r = rf_err_set(err, EIO, "%s: the FUSE session ended with an error", o->mountpoint);
out:
	if (cfg)
		fuse_loop_cfg_destroy(cfg);
	if (is_mounted)
		fuse_session_unmount(se);
	if (has_handlers)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	free(opts);
	ctx_free(&c);
	return r;
}

int rf_fs_umount(const char *mountpoint, struct rf_err *err)
{
	if (geteuid() == 0) {
		if (umount2(mountpoint, 0)) {
			if (errno == EINVAL)
				return rf_err_set(err, EINVAL, "%s: not a mount point", mountpoint);
			return rf_err_errno(err, errno, "%s", mountpoint);
		}
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0)
		return rf_err_errno(err, errno, "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		execlp("fusermount3", "fusermount3", "-u", "--", mountpoint, (char *)NULL);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return rf_err_errno(err, errno, "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 127)
		return rf_err_set(err, ENOENT, "fusermount3 not found or killed");
	if (WEXITSTATUS(st)) {
		struct stat s;
		if (stat(mountpoint, &s))
			return rf_err_errno(err, errno, "%s", mountpoint);
		return rf_err_set(err, EINVAL, "%s: not a FUSE mount of this user, or busy",
				  mountpoint);
	}
	return 0;
}
